// Finding and merging the lockfiles of a directory (a polyglot project, an image root).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/index.ts';
import { readDirectory } from '../../src/sbom/index.ts';

describe('readDirectory', () => {
  it('merges every lockfile it finds and warns about unpinned requirements', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custody-readdir-'));
    try {
      writeFileSync(join(dir, 'Cargo.lock'), 'version = 3\n\n[[package]]\nname = "tool"\nversion = "0.1.0"\n');
      writeFileSync(join(dir, 'go.mod'), 'module example.com/x\n\nrequire github.com/a/b v1.0.0\n');
      writeFileSync(join(dir, 'requirements.txt'), 'six==1.16.0\nrequests>=2\n');
      mkdirSync(join(dir, 'var/lib/dpkg'), { recursive: true });
      mkdirSync(join(dir, 'etc'));
      writeFileSync(join(dir, 'var/lib/dpkg/status'), 'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n');
      writeFileSync(join(dir, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\n');
      const { inventory, warnings } = readDirectory(dir);
      assert.deepEqual(inventory.components.map((c) => c.purl).sort(), [
        'pkg:cargo/tool@0.1.0',
        'pkg:deb/debian/bash@5.2.15-2+b2?arch=amd64&distro=debian-12',
        'pkg:golang/github.com/a/b@v1.0.0',
        'pkg:pypi/six@1.16.0',
      ]);
      assert.deepEqual(inventory.sources, ['Cargo.lock', 'go.mod', 'requirements.txt', 'var/lib/dpkg/status']);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /requests>=2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('prefers npm-shrinkwrap.json over package-lock.json and fails on an empty directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custody-readdir-'));
    try {
      assert.throws(() => readDirectory(dir), (e: unknown) => e instanceof InputError && e.code === 'INPUT_INVALID');
      const lock = (v: string): string => JSON.stringify({ name: 'p', version: '1.0.0', lockfileVersion: 3, packages: { '': { name: 'p', version: '1.0.0', dependencies: { a: '*' } }, 'node_modules/a': { version: v, integrity: `sha512-${Buffer.alloc(64).toString('base64')}` } } });
      writeFileSync(join(dir, 'package-lock.json'), lock('1.0.0'));
      writeFileSync(join(dir, 'npm-shrinkwrap.json'), lock('2.0.0'));
      const { inventory } = readDirectory(dir);
      assert.deepEqual(inventory.components.map((c) => c.purl), ['pkg:npm/a@2.0.0']);
      assert.deepEqual(inventory.sources, ['npm-shrinkwrap.json']);
      // An installed tree without a lockfile: npm's hidden lockfile in node_modules.
      rmSync(join(dir, 'package-lock.json'));
      rmSync(join(dir, 'npm-shrinkwrap.json'));
      mkdirSync(join(dir, 'node_modules/a'), { recursive: true });
      writeFileSync(join(dir, 'node_modules/.package-lock.json'), lock('3.0.0'));
      writeFileSync(join(dir, 'node_modules/a/package.json'), JSON.stringify({ name: 'a', version: '3.0.0', license: 'ISC' }));
      const hidden = readDirectory(dir).inventory;
      assert.deepEqual(hidden.components.map((c) => [c.purl, c.license]), [['pkg:npm/a@3.0.0', 'ISC']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readDirectory on this machine\'s root', () => {
  it('lists the installed Debian packages with distro, source packages and DEP-5 licenses', async (t) => {
    const { haveComponents } = await import('../support/components.ts');
    if (!haveComponents(t, 'dpkg')) return;
    const { inventory } = readDirectory('/');
    const debs = inventory.components.filter((c) => c.type === 'deb');
    assert.ok(debs.length > 50, `only ${debs.length} packages`);
    const dpkg = debs.find((c) => c.name === 'dpkg')!;
    assert.match(dpkg.purl, /^pkg:deb\/debian\/dpkg@[^?]+\?arch=[a-z0-9]+&distro=debian-\d+/);
    assert.ok(debs.filter((c) => c.license !== undefined).length > debs.length / 4, 'few licenses read');
    assert.ok(dpkg.dependencies.length > 0 || debs.some((c) => c.dependencies.length > 0));
  });
});
