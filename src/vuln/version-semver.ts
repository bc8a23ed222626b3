// SemVer 2.0.0 ordering (npm, crates.io, OSV SEMVER ranges) through the `semver` package, and Go
// module versions (https://go.dev/ref/mod#versions: semver with a 'v'; "+incompatible" is build
// metadata and does not order).
import semver from 'semver';
import { InputError } from '../core/index.ts';

const parsed = new Map<string, semver.SemVer | null>();

function parse(v: string, what: string): semver.SemVer {
  // Range events repeat across records and comparisons: parse each version string once.
  let p = parsed.get(v);
  if (p === undefined) {
    // OSV SEMVER ranges use bare versions; tolerate a leading 'v' as the OSV spec's Go ranges do.
    p = semver.parse(v.startsWith('v') ? v.slice(1) : v);
    if (parsed.size < 200_000) parsed.set(v, p);
  }
  if (p === null) throw new InputError('VERSION_INVALID', `'${v}' is not a ${what} version`);
  return p;
}

export function compareSemver(a: string, b: string): number {
  return compareParsed(parse(a, 'SemVer'), parse(b, 'SemVer'));
}

export function compareGo(a: string, b: string): number {
  return compareParsed(parse(a, 'Go module'), parse(b, 'Go module'));
}

const cmp = (x: number | string, y: number | string): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * SemVer 2.0.0 §11 precedence on versions parsed by `semver` (build metadata ignored). The same
 * order as `semver.compare` (a property test checks it), without its per-identifier regular
 * expressions: a scan compares tens of thousands of versions.
 */
export function compareParsed(a: semver.SemVer, b: semver.SemVer): number {
  if (a.major !== b.major) return cmp(a.major, b.major);
  if (a.minor !== b.minor) return cmp(a.minor, b.minor);
  if (a.patch !== b.patch) return cmp(a.patch, b.patch);
  const x = a.prerelease;
  const y = b.prerelease;
  // §11.3: a pre-release version has lower precedence than the normal version.
  if (x.length === 0 || y.length === 0) return y.length - x.length === 0 ? 0 : x.length === 0 ? 1 : -1;
  // §11.4: identifier by identifier; numeric ones numerically and below alphanumeric ones;
  // a larger set of identifiers wins when all before are equal. (`semver` keeps numeric
  // identifiers beyond 2^53 as strings; they compare as numbers there as well.)
  for (let i = 0; i < x.length && i < y.length; i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    const pn = typeof p === 'number' || /^\d+$/.test(p);
    const qn = typeof q === 'number' || /^\d+$/.test(q);
    if (pn && qn) return cmp(Number(p), Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    return cmp(p, q);
  }
  return cmp(x.length, y.length);
}

export const semverOrdering = { parse: (v: string): semver.SemVer => parse(v, 'SemVer'), compare: compareParsed };
export const goOrdering = { parse: (v: string): semver.SemVer => parse(v, 'Go module'), compare: compareParsed };
