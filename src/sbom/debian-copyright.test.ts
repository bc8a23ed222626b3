import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { debianLicenseToSpdx, licenseFromDebianCopyright } from './debian-copyright.ts';

describe('debianLicenseToSpdx', () => {
  it('maps DEP-5 short names and joins with OR/AND', () => {
    assert.equal(debianLicenseToSpdx('GPL-2+'), 'GPL-2.0-or-later');
    assert.equal(debianLicenseToSpdx('LGPL-3 or GPL-2'), 'LGPL-3.0-only OR GPL-2.0-only');
    assert.equal(debianLicenseToSpdx('Expat and BSD-3-clause'), 'MIT AND BSD-3-Clause');
  });
  it('gives up on exceptions and names it does not know', () => {
    assert.equal(debianLicenseToSpdx('GPL-3 with Qt-1.0 exception'), undefined);
    assert.equal(debianLicenseToSpdx('public-domain'), undefined);
  });
});

describe('licenseFromDebianCopyright', () => {
  const dep5 = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: thing

Files: *
Copyright: 2020 Someone
License: GPL-2+
 This program is free software...

Files: debian/*
License: Expat
`;
  it('reads the Files: * paragraph of a machine-readable file', () => {
    assert.equal(licenseFromDebianCopyright(dep5), 'GPL-2.0-or-later');
    assert.equal(licenseFromDebianCopyright(dep5.replace('License: GPL-2+', 'License: ImageMagick')), 'ImageMagick');
  });
  it('ignores free-form copyright files', () => {
    assert.equal(licenseFromDebianCopyright('This is the Debian prepackaged version of the GNU C Library.\n'), undefined);
  });
});
