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
  return semver.compare(parse(a, 'SemVer'), parse(b, 'SemVer'));
}

export function compareGo(a: string, b: string): number {
  return semver.compare(parse(a, 'Go module'), parse(b, 'Go module'));
}
