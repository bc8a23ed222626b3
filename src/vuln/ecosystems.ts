// Which OSV ecosystem a purl belongs to, how its package names are normalised, and which version
// ordering its ECOSYSTEM ranges use (OSV schema "Affected ranges": each ecosystem's own ordering).
import { PackageURL } from 'packageurl-js';
import { compareDpkg, dpkgOrdering } from './version-dpkg.ts';
import { comparePep440, pep440Ordering } from './version-pep440.ts';
import { compareGo, compareSemver, goOrdering, semverOrdering } from './version-semver.ts';

export type Compare = (a: string, b: string) => number;

/**
 * A version order on parsed versions: range events are parsed once when a record is first used,
 * a component's version once per scan. `parse` throws InputError VERSION_INVALID.
 */
export interface Ordering {
  parse(version: string): unknown;
  compare(a: unknown, b: unknown): number;
}

const asOrdering = <T>(o: { parse(v: string): T; compare(a: T, b: T): number }): Ordering => o;
const PARSED_ORDERINGS: Record<string, Ordering> = {
  npm: asOrdering(semverOrdering),
  'crates.io': asOrdering(semverOrdering),
  Go: asOrdering(goOrdering),
  PyPI: asOrdering(pep440Ordering),
  Debian: asOrdering(dpkgOrdering),
  Ubuntu: asOrdering(dpkgOrdering),
};

/** The parsed-version form of `orderingFor`. */
export function parsedOrderingFor(ecosystem: string, rangeType: 'SEMVER' | 'ECOSYSTEM'): Ordering | undefined {
  const colon = ecosystem.indexOf(':');
  const base = colon < 0 ? ecosystem : ecosystem.slice(0, colon);
  if (rangeType === 'SEMVER') return asOrdering(base === 'Go' ? goOrdering : semverOrdering);
  return PARSED_ORDERINGS[base];
}

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

// The shape of nearly every npm purl in an SBOM: lower-case (optionally scoped) name, a version
// of URL-safe characters, no qualifiers or subpath. For these the key is read off directly, which
// is ~20x faster than the general parser (a WHATWG URL per purl); a property test checks that both
// agree. Everything else goes through packageurl-js.
const SIMPLE_NPM = /^pkg:npm\/(?:%40([a-z0-9][a-z0-9._~-]*)\/)?([a-z0-9][a-z0-9._~-]*)@([0-9A-Za-z][0-9A-Za-z.+_-]*)$/;

/** purl → the OSV ecosystem, package name and version to look up; undefined for other types. */
export function packageKeyOfPurl(purl: string): PackageKey | undefined {
  const simple = SIMPLE_NPM.exec(purl);
  if (simple !== null) return { ecosystem: 'npm', name: simple[1] === undefined ? simple[2]! : `@${simple[1]}/${simple[2]!}`, version: simple[3]! };
  return packageKeyOfPurlGeneral(purl);
}

/** packageKeyOfPurl without the npm fast path (exported for the property test comparing both). */
export function packageKeyOfPurlGeneral(purl: string): PackageKey | undefined {
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
