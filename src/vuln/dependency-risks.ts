// Dependency-confusion and typosquatting risks in an SBOM: names one or two edits away from
// another component or an allowlisted name (Damerau-Levenshtein, optimal string alignment),
// packages fetched from registries outside the trusted list, internal names resolved from a
// public registry, and components without any integrity hash.
import { PackageURL } from 'packageurl-js';

export interface RiskSubject {
  ref: string;
  name: string;
  version?: string;
  purl?: string;
  hashes: Record<string, string>;
  /** Where it is fetched from, when the SBOM says (purl download_url/repository_url, SPDX downloadLocation). */
  downloadLocation?: string;
}

export type RiskKind = 'typosquat' | 'untrusted-registry' | 'dependency-confusion' | 'missing-integrity';

export interface Risk {
  kind: RiskKind;
  component: RiskSubject;
  detail: string;
}

export interface RiskOptions {
  /** Known-good names; a component within the distance of one (but not equal) is flagged. */
  allowlist?: readonly string[];
  /** Registry hosts trusted for downloads. */
  trustedRegistries?: readonly string[];
  /** Name prefixes that belong to private packages (e.g. "@corp/"). */
  internalPrefixes?: readonly string[];
  /** Maximum edit distance (1 or 2; default 1). */
  maxDistance?: number;
  /** Names shorter than this are not compared (short names collide by chance; default 5). */
  minLength?: number;
}

export const DEFAULT_TRUSTED_REGISTRIES = [
  'registry.npmjs.org',
  'registry.yarnpkg.com',
  'crates.io',
  'static.crates.io',
  'index.crates.io',
  'github.com/rust-lang/crates.io-index',
  'proxy.golang.org',
  'pypi.org',
  'files.pythonhosted.org',
  'deb.debian.org',
  'security.debian.org',
] as const;

/** Optimal string alignment distance, giving up (returning max+1) past `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    let rowMin = Infinity;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
  }
  return rows[a.length]![b.length]!;
}

/** All strings reachable by deleting up to `n` characters (the symmetric-delete candidate keys). */
function deletions(s: string, n: number): Set<string> {
  let frontier = new Set([s]);
  const all = new Set([s]);
  for (let k = 0; k < n; k++) {
    const next = new Set<string>();
    for (const w of frontier) for (let i = 0; i < w.length; i++) next.add(w.slice(0, i) + w.slice(i + 1));
    for (const w of next) all.add(w);
    frontier = next;
  }
  return all;
}

function ecosystemOf(c: RiskSubject): string {
  return c.purl?.slice(4, c.purl.indexOf('/')) ?? '';
}

function locationOf(c: RiskSubject): string | undefined {
  if (c.downloadLocation !== undefined) return c.downloadLocation;
  if (c.purl === undefined) return undefined;
  try {
    const q = PackageURL.fromString(c.purl).qualifiers ?? {};
    return q['download_url'] ?? q['repository_url'] ?? q['vcs_url'];
  } catch {
    return undefined;
  }
}

function hostOf(location: string): string | undefined {
  const m = /^(?:[a-z0-9+.-]+\+)?(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@/]+@)?([^/:#?]+)(?::\d+)?(\/[^#?]*)?/i.exec(location);
  if (m === null) return undefined;
  return `${m[1]!.toLowerCase()}${m[2] ?? ''}`;
}

function trusted(location: string, registries: readonly string[]): boolean {
  const host = hostOf(location);
  if (host === undefined) return false;
  return registries.some((r) => host === r || host.startsWith(`${r}/`) || host.split('/')[0] === r);
}

function similarNames(components: readonly RiskSubject[], allowlist: readonly string[], max: number, minLength: number): Risk[] {
  // Symmetric-delete candidates (names sharing a deletion variant), confirmed with the distance.
  const byKey = new Map<string, Set<string>>();
  const names = new Map<string, RiskSubject[]>();
  for (const c of components) {
    const key = `${ecosystemOf(c)}\u0000${c.name}`;
    names.set(key, [...(names.get(key) ?? []), c]);
  }
  const reference = new Set([...names.keys()]);
  const ecosystems = new Set(components.map(ecosystemOf));
  for (const a of allowlist) for (const eco of ecosystems) reference.add(`${eco}\u0000${a}`);
  for (const key of reference) {
    const [eco, name] = key.split('\u0000') as [string, string];
    if (name.length < minLength) continue;
    for (const d of deletions(name, max)) {
      const k = `${eco}\u0000${d}`;
      if (!byKey.has(k)) byKey.set(k, new Set());
      byKey.get(k)!.add(key);
    }
  }
  const allow = new Set(allowlist);
  const risks: Risk[] = [];
  for (const [key, list] of names) {
    const [eco, name] = key.split('\u0000') as [string, string];
    if (name.length < minLength || allow.has(name)) continue;
    const near = new Set<string>();
    for (const d of deletions(name, max)) for (const other of byKey.get(`${eco}\u0000${d}`) ?? []) if (other !== key) near.add(other);
    const similar = [...near]
      .map((k) => k.split('\u0000')[1]!)
      .filter((other) => editDistance(name, other, max) <= max)
      // Packages of one scope ("@types/x" and "@types/y") are one publisher's: not a squat.
      .filter((other) => !(name.startsWith('@') && other.split('/')[0] === name.split('/')[0]))
      .sort();
    if (similar.length === 0) continue;
    const allowHits = similar.filter((s) => allow.has(s));
    const detail = allowHits.length > 0 ? `name is close to allowlisted ${allowHits.join(', ')}` : `name is close to ${similar.join(', ')}`;
    for (const c of list) risks.push({ kind: 'typosquat', component: c, detail });
  }
  return risks;
}

function sourceRisks(c: RiskSubject, registries: readonly string[], internalPrefixes: readonly string[]): Risk[] {
  const risks: Risk[] = [];
  const location = locationOf(c);
  if (location !== undefined && /^[a-z+]+:\/\//i.test(location) && !trusted(location, registries)) {
    risks.push({ kind: 'untrusted-registry', component: c, detail: `fetched from ${hostOf(location) ?? location}` });
  }
  const internal = internalPrefixes.find((p) => c.name.startsWith(p));
  if (internal !== undefined && (location === undefined || trusted(location, DEFAULT_TRUSTED_REGISTRIES))) {
    risks.push({ kind: 'dependency-confusion', component: c, detail: `internal name (${internal}) resolved from a public registry` });
  }
  if (Object.keys(c.hashes).length === 0 && c.purl?.startsWith('pkg:deb/') !== true) {
    risks.push({ kind: 'missing-integrity', component: c, detail: 'no integrity hash in the SBOM (lockfile entry without integrity)' });
  }
  return risks;
}

export function findDependencyRisks(components: readonly RiskSubject[], options: RiskOptions = {}): Risk[] {
  const max = Math.min(Math.max(options.maxDistance ?? 1, 1), 2);
  const risks = similarNames(components, options.allowlist ?? [], max, options.minLength ?? 5);
  const registries = options.trustedRegistries ?? DEFAULT_TRUSTED_REGISTRIES;
  for (const c of components) risks.push(...sourceRisks(c, registries, options.internalPrefixes ?? []));
  return risks.sort((a, b) => a.kind.localeCompare(b.kind) || a.component.ref.localeCompare(b.component.ref));
}
