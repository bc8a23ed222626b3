// Which OSV ecosystem a purl belongs to, how its package names are normalised, and which version
// ordering its ECOSYSTEM ranges use (OSV schema "Affected ranges": each ecosystem's own ordering).
import { PackageURL } from 'packageurl-js';
import { compareDpkg } from './version-dpkg.ts';
import { comparePep440 } from './version-pep440.ts';
import { compareGo, compareSemver } from './version-semver.ts';

export type Compare = (a: string, b: string) => number;

/** OSV ecosystem (without a ':' suffix) → version ordering for ECOSYSTEM ranges. */
const ORDERINGS: Record<string, Compare> = {
  npm: compareSemver,
  'crates.io': compareSemver,
  Go: compareGo,
  PyPI: comparePep440,
  Debian: compareDpkg,
  Ubuntu: compareDpkg,
};

export function orderingFor(ecosystem: string, rangeType: 'SEMVER' | 'ECOSYSTEM'): Compare | undefined {
  const colon = ecosystem.indexOf(':');
  const base = colon < 0 ? ecosystem : ecosystem.slice(0, colon);
  if (rangeType === 'SEMVER') return base === 'Go' ? compareGo : compareSemver;
  return ORDERINGS[base];
}

/** The name as the index stores it: PyPI names PEP 503-normalised, others as published. */
export function indexName(ecosystem: string, name: string): string {
  const pypi = ecosystem === 'PyPI' || ecosystem.startsWith('PyPI:');
  return pypi ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

export interface PackageKey {
  /** OSV ecosystem, e.g. "npm", "Debian:12". */
  ecosystem: string;
  name: string;
  version: string;
}

/** purl → the OSV ecosystem, package name and version to look up; undefined for other types. */
export function packageKeyOfPurl(purl: string): PackageKey | undefined {
  let p: PackageURL;
  try {
    p = PackageURL.fromString(purl);
  } catch {
    return undefined;
  }
  const version = p.version ?? '';
  if (version === '') return undefined;
  const full = p.namespace !== undefined && p.namespace !== null && p.namespace !== '' ? `${p.namespace}/${p.name}` : p.name;
  switch (p.type) {
    case 'npm':
      return { ecosystem: 'npm', name: full, version };
    case 'cargo':
      return { ecosystem: 'crates.io', name: p.name, version };
    case 'golang':
      return { ecosystem: 'Go', name: full, version };
    case 'pypi':
      return { ecosystem: 'PyPI', name: indexName('PyPI', p.name), version };
    case 'deb': {
      // Debian advisories name source packages; the distro qualifier gives the release.
      const q = p.qualifiers ?? {};
      const release = /^debian-(\d+)/.exec(q['distro'] ?? '')?.[1];
      const vendor = p.namespace === 'ubuntu' ? 'Ubuntu' : 'Debian';
      return { ecosystem: release !== undefined ? `${vendor}:${release}` : vendor, name: q['upstream'] ?? p.name, version };
    }
    default:
      return undefined;
  }
}
