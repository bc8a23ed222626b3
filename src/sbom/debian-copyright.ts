// Licenses from Debian machine-readable copyright files (DEP-5,
// https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/): the License of the
// "Files: *" paragraph, with Debian's short names mapped to SPDX ids. Anything that does not map
// is returned as written (a license name, not an expression).
import { parseDeb822 } from './dpkg-status.ts';
import { isSpdxExpression } from './license-text.ts';

// DEP-5 §"License short name" table → SPDX (the "+" suffix means "or later").
const SHORT_NAMES: Record<string, string> = {
  'GPL-1': 'GPL-1.0-only', 'GPL-1+': 'GPL-1.0-or-later', 'GPL-2': 'GPL-2.0-only', 'GPL-2+': 'GPL-2.0-or-later',
  'GPL-3': 'GPL-3.0-only', 'GPL-3+': 'GPL-3.0-or-later', 'LGPL-2': 'LGPL-2.0-only', 'LGPL-2+': 'LGPL-2.0-or-later',
  'LGPL-2.1': 'LGPL-2.1-only', 'LGPL-2.1+': 'LGPL-2.1-or-later', 'LGPL-3': 'LGPL-3.0-only', 'LGPL-3+': 'LGPL-3.0-or-later',
  'AGPL-3': 'AGPL-3.0-only', 'AGPL-3+': 'AGPL-3.0-or-later', 'GFDL-1.2': 'GFDL-1.2-only', 'GFDL-1.2+': 'GFDL-1.2-or-later',
  'GFDL-1.3': 'GFDL-1.3-only', 'GFDL-1.3+': 'GFDL-1.3-or-later', Expat: 'MIT', Artistic: 'Artistic-1.0-Perl',
  'BSD-2-clause': 'BSD-2-Clause', 'BSD-3-clause': 'BSD-3-Clause', 'BSD-4-clause': 'BSD-4-Clause', 'MPL-1.1': 'MPL-1.1',
  'MPL-2.0': 'MPL-2.0', 'Apache-2.0': 'Apache-2.0', 'Apache-2': 'Apache-2.0', ISC: 'ISC', Zlib: 'Zlib', MIT: 'MIT',
  'BSL-1.0': 'BSL-1.0', 'CC0-1.0': 'CC0-1.0', 'Python-2.0': 'Python-2.0', 'PSF-2': 'PSF-2.0', OpenSSL: 'OpenSSL', curl: 'curl',
};

function mapOne(name: string): string | undefined {
  const t = name.trim();
  return SHORT_NAMES[t] ?? (isSpdxExpression(t) && !/\s/.test(t) ? t : undefined);
}

/** "GPL-2+ or LGPL-2.1+" → "GPL-2.0-or-later OR LGPL-2.1-or-later"; undefined when a part does not map. */
export function debianLicenseToSpdx(text: string): string | undefined {
  // DEP-5 joins with "or"/"and" (and "," as "and" in older files); "with X exception" is kept out.
  if (/\bwith\b/i.test(text)) return undefined;
  const parts = text.split(/\s+(or|and)\s+|\s*,\s*/i).filter((p) => p !== undefined && p !== '');
  const out: string[] = [];
  for (const [i, p] of parts.entries()) {
    if (i % 2 === 1) {
      out.push(/^or$/i.test(p) ? 'OR' : 'AND');
      continue;
    }
    const id = mapOne(p);
    if (id === undefined) return undefined;
    out.push(id);
  }
  const expression = out.join(' ');
  return out.length > 0 && isSpdxExpression(expression) ? expression : undefined;
}

/** The license of a DEP-5 copyright file's "Files: *" paragraph; undefined for free-form files. */
export function licenseFromDebianCopyright(text: string): string | undefined {
  if (!/^Format:\s*\S*copyright-format/m.test(text)) return undefined;
  let paragraphs;
  try {
    paragraphs = parseDeb822(text, 'copyright');
  } catch {
    return undefined;
  }
  const main = paragraphs.find((p) => (p['Files'] ?? '').split(/\s+/).includes('*'));
  const license = main?.['License']?.split('\n')[0]?.trim();
  if (license === undefined || license === '') return undefined;
  return debianLicenseToSpdx(license) ?? license;
}
