// Matching SBOM components against OSV advisories: ecosystem + name lookup, range evaluation in
// the ecosystem's own version order, withdrawn records ignored, aliases merged into one finding,
// severity from CVSS vectors (or the database's own rating when no vector is given).
import type { OsvRecord } from '../formats/index.ts';
import { indexName, packageKeyOfPurl, type PackageKey } from './ecosystems.ts';
import { compileAffected, evaluateCompiled, matchEntry, ParsedVersion, type CompiledAffected, type MatchEntry } from './range-match.ts';
import { scoreCvss, type CvssScore, type SeverityRating } from './severity.ts';

/** One advisory as matching needs it for one package: its id, withdrawal and that package's entries. */
export interface PackageAdvisory {
  id: string;
  withdrawn: string | undefined;
  /** The record's `affected` entries for this package (ecosystem base + index name), compiled. */
  affected: readonly CompiledAffected[];
}

/**
 * Where advisories come from: the SQLite index, or an in-memory set in tests and benchmarks.
 * Matching needs only each package's `affected` entries; full records are read for hits only.
 */
export interface AdvisorySource {
  /** Advisories naming this package (ecosystem with or without a ':' suffix, name as published). */
  advisoriesFor(ecosystem: string, name: string): readonly PackageAdvisory[];
  /** The full records of these ids (those that exist). */
  records(ids: readonly string[]): ReadonlyMap<string, OsvRecord>;
  /** Optional: load many packages' advisories at once before the per-component lookups. */
  prefetch?(keys: readonly { ecosystem: string; name: string }[]): void;
}

/** `ecosystem base \0 index name`: the key advisories are stored and looked up under. */
export function packageIndexKey(ecosystem: string, name: string): string {
  const colon = ecosystem.indexOf(':');
  const base = colon < 0 ? ecosystem : ecosystem.slice(0, colon);
  return `${base}\u0000${indexName(base, name)}`;
}

/** A record's `affected` entries (with a package), reduced to what matching needs, by package index key. */
export function affectedByPackage(record: OsvRecord): Map<string, MatchEntry[]> {
  const by = new Map<string, MatchEntry[]>();
  for (const a of record.affected) {
    if (a.package === undefined) continue;
    const k = packageIndexKey(a.package.ecosystem, a.package.name);
    const entry = matchEntry({ ...a, package: a.package });
    const list = by.get(k);
    if (list === undefined) by.set(k, [entry]);
    else list.push(entry);
  }
  return by;
}

/** Compiles one package's entries of a record. */
export function packageAdvisory(id: string, withdrawn: string | undefined, entries: readonly MatchEntry[]): PackageAdvisory {
  return { id, withdrawn, affected: entries.map(compileAffected) };
}

export interface ScanComponent {
  ref: string;
  name: string;
  version?: string;
  purl?: string;
}

export interface FindingSeverity {
  rating: SeverityRating | 'unknown';
  score?: number;
  vector?: string;
  /** 'cvss' when computed from a vector, 'database' when taken from the record's own rating. */
  source: 'cvss' | 'database' | 'none';
}

export interface VexNote {
  status: string;
  justification?: string;
  impact_statement?: string;
  action_statement?: string;
  document: string;
}

export interface Finding {
  id: string;
  /** The other ids of the same vulnerability (record aliases and merged records). */
  aliases: string[];
  component: ScanComponent;
  ecosystem: string;
  summary?: string;
  severity: FindingSeverity;
  cvss: CvssScore[];
  fixed: string[];
  references: string[];
  /** Set by VEX: the statement that applies to this finding. */
  vex?: VexNote;
}

export interface MatchResult {
  findings: Finding[];
  /** Components without a purl of a supported ecosystem (not looked up). */
  notScanned: ScanComponent[];
  warnings: string[];
}

const DB_RATING: Record<string, SeverityRating> = { CRITICAL: 'critical', HIGH: 'high', MODERATE: 'medium', MEDIUM: 'medium', LOW: 'low' };

function ecosystemMatches(advisory: CompiledAffected, component: string, componentBase: string): boolean {
  if (advisory.ecosystem === component) return true;
  // "Debian" (no release) applies to every release; a component without a release matches any.
  const a = advisory.ecosystem !== advisory.baseEcosystem;
  const c = component !== componentBase;
  if (a === c) return false;
  return advisory.baseEcosystem === componentBase;
}

function severityOf(records: OsvRecord[], warnings: string[]): { severity: FindingSeverity; cvss: CvssScore[] } {
  const cvss: CvssScore[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const s of [...r.severity, ...r.affected.flatMap((a) => a.severity)]) {
      if (!/^CVSS_V[234]$/.test(s.type) || seen.has(s.score)) continue;
      seen.add(s.score);
      try {
        cvss.push(scoreCvss(s.score));
      } catch {
        warnings.push(`${r.id}: unusable ${s.type} vector '${s.score}'`);
      }
    }
  }
  // The highest score wins: feeds disagree and a scan should not under-report.
  const best = [...cvss].sort((a, b) => b.score - a.score || b.version.localeCompare(a.version))[0];
  if (best !== undefined) return { severity: { rating: best.rating, score: best.score, vector: best.vector, source: 'cvss' }, cvss };
  for (const r of records) {
    const s = r.database_specific?.['severity'];
    const rating = typeof s === 'string' ? DB_RATING[s.toUpperCase()] : undefined;
    if (rating !== undefined) return { severity: { rating, source: 'database' }, cvss };
  }
  return { severity: { rating: 'unknown', source: 'none' }, cvss };
}

/** Groups records that name each other (ids and aliases) into one vulnerability. */
function mergeAliases(records: OsvRecord[]): OsvRecord[][] {
  if (records.length === 1) return [records];
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  for (const r of records) {
    find(r.id);
    for (const a of r.aliases) union(r.id, a);
  }
  const groups = new Map<string, OsvRecord[]>();
  for (const r of records) {
    const root = find(r.id);
    groups.set(root, [...(groups.get(root) ?? []), r]);
  }
  return [...groups.values()];
}

interface Hit {
  component: ScanComponent;
  ecosystem: string;
  /** Matching records and the fixed versions of the ranges that matched. */
  records: Map<string, string[]>;
}

/** Step 1 for one component: which advisories' ranges include its version (no full records). */
function matchOne(source: AdvisorySource, component: ScanComponent, key: PackageKey, nowIso: string, warnings: string[]): Hit | undefined {
  const candidates = source.advisoriesFor(key.ecosystem, key.name);
  if (candidates.length === 0) return undefined;
  const colon = key.ecosystem.indexOf(':');
  const base = colon < 0 ? key.ecosystem : key.ecosystem.slice(0, colon);
  const version = new ParsedVersion(key.version);
  let hit: Hit | undefined;
  for (const advisory of candidates) {
    // OSV "withdrawn": the record is no longer valid from that time on.
    if (advisory.withdrawn !== undefined && advisory.withdrawn <= nowIso) continue;
    let fixes: string[] | undefined;
    for (const a of advisory.affected) {
      if (a.name !== key.name || !ecosystemMatches(a, key.ecosystem, base)) continue;
      const verdict = evaluateCompiled(version, a);
      if (verdict.unparsable > 0) warnings.push(`${advisory.id}: a range of ${a.name} could not be compared with ${key.version}`);
      if (verdict.affected) (fixes ??= []).push(...verdict.fixed);
    }
    if (fixes !== undefined) {
      hit ??= { component, ecosystem: key.ecosystem, records: new Map() };
      hit.records.set(advisory.id, fixes);
    }
  }
  return hit;
}

export function matchComponents(source: AdvisorySource, components: readonly ScanComponent[], now = new Date()): MatchResult {
  const result: MatchResult = { findings: [], notScanned: [], warnings: [] };
  const nowIso = now.toISOString();
  const keys = components.map((c) => (c.purl === undefined ? undefined : packageKeyOfPurl(c.purl)));
  source.prefetch?.(keys.filter((k) => k !== undefined));
  // Step 1: ranges only (no full records).
  const hits: Hit[] = [];
  for (let i = 0; i < components.length; i++) {
    const component = components[i]!;
    const key = keys[i];
    if (key === undefined) {
      result.notScanned.push(component);
      continue;
    }
    const hit = matchOne(source, component, key, nowIso, result.warnings);
    if (hit !== undefined) hits.push(hit);
  }
  // Step 2: the full records of the hits, for aliases, severity and references.
  const records = source.records([...new Set(hits.flatMap((h) => [...h.records.keys()]))]);
  for (const { component, ecosystem, records: fixed } of hits) {
    const matched = [...fixed.keys()].map((id) => records.get(id)).filter((r) => r !== undefined);
    for (const group of mergeAliases(matched)) {
      const idSet = new Set<string>();
      let primary = group[0]!.id;
      for (const r of group) {
        idSet.add(r.id);
        for (const a of r.aliases) idSet.add(a);
        if (r.id < primary) primary = r.id;
      }
      const ids = [...idSet].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const { severity, cvss } = severityOf(group, result.warnings);
      const summary = group.map((r) => r.summary).find((s) => s !== undefined && s !== '');
      result.findings.push({
        id: primary,
        aliases: ids.filter((i) => i !== primary),
        component,
        ecosystem,
        ...(summary !== undefined ? { summary } : {}),
        severity,
        cvss,
        fixed: [...new Set(group.flatMap((r) => fixed.get(r.id) ?? []))].sort(),
        references: [...new Set(group.flatMap((r) => r.references.map((x) => x.url)))].sort(),
      });
    }
  }
  result.findings.sort((a, b) => (a.component.ref < b.component.ref ? -1 : a.component.ref > b.component.ref ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return result;
}

/** An in-memory advisory source (tests, benchmarks, a one-off scan of a few files). */
export class MemoryAdvisories implements AdvisorySource {
  readonly #by = new Map<string, PackageAdvisory[]>();
  readonly #records = new Map<string, OsvRecord>();

  constructor(records: Iterable<OsvRecord>) {
    for (const r of records) {
      this.#records.set(r.id, r);
      for (const [k, entries] of affectedByPackage(r)) {
        const list = this.#by.get(k);
        const p = packageAdvisory(r.id, r.withdrawn, entries);
        if (list === undefined) this.#by.set(k, [p]);
        else list.push(p);
      }
    }
  }

  advisoriesFor(ecosystem: string, name: string): readonly PackageAdvisory[] {
    return this.#by.get(packageIndexKey(ecosystem, name)) ?? [];
  }

  records(ids: readonly string[]): ReadonlyMap<string, OsvRecord> {
    const out = new Map<string, OsvRecord>();
    for (const id of ids) {
      const r = this.#records.get(id);
      if (r !== undefined) out.set(id, r);
    }
    return out;
  }
}
