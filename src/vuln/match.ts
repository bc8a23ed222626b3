// Matching SBOM components against OSV advisories: ecosystem + name lookup, range evaluation in
// the ecosystem's own version order, withdrawn records ignored, aliases merged into one finding,
// severity from CVSS vectors (or the database's own rating when no vector is given).
import type { OsvRecord } from '../formats/index.ts';
import { indexName, packageKeyOfPurl } from './ecosystems.ts';
import { evaluateAffected } from './range-match.ts';
import { scoreCvss, type CvssScore, type SeverityRating } from './severity.ts';

/** Where advisories come from: the SQLite index, or an in-memory set in tests and benchmarks. */
export interface AdvisorySource {
  candidates(ecosystem: string, name: string): OsvRecord[];
  /** Optional: load many packages' records at once before the per-component lookups. */
  prefetch?(keys: readonly { ecosystem: string; name: string }[]): void;
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

function ecosystemMatches(advisory: string, component: string): boolean {
  if (advisory === component) return true;
  const a = advisory.indexOf(':');
  const c = component.indexOf(':');
  if (a < 0 && c < 0) return false;
  // "Debian" (no release) applies to every release; a component without a release matches any.
  if (a >= 0 && c >= 0) return false;
  return (a < 0 ? advisory : advisory.slice(0, a)) === (c < 0 ? component : component.slice(0, c));
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

export function matchComponents(source: AdvisorySource, components: readonly ScanComponent[], now = new Date()): MatchResult {
  const result: MatchResult = { findings: [], notScanned: [], warnings: [] };
  const nowIso = now.toISOString();
  const keys = components.map((c) => (c.purl === undefined ? undefined : packageKeyOfPurl(c.purl)));
  source.prefetch?.(keys.filter((k) => k !== undefined));
  for (const [i, component] of components.entries()) {
    const key = keys[i];
    if (key === undefined) {
      result.notScanned.push(component);
      continue;
    }
    const hits: OsvRecord[] = [];
    const fixed = new Map<string, string[]>();
    for (const record of source.candidates(key.ecosystem, key.name)) {
      // OSV "withdrawn": the record is no longer valid from that time on.
      if (record.withdrawn !== undefined && record.withdrawn <= nowIso) continue;
      let affected = false;
      const fixes: string[] = [];
      for (const a of record.affected) {
        if (a.package === undefined || !ecosystemMatches(a.package.ecosystem, key.ecosystem)) continue;
        if (indexName(a.package.ecosystem, a.package.name) !== key.name) continue;
        const verdict = evaluateAffected(key.version, a, a.package.ecosystem);
        if (verdict.unparsable > 0) result.warnings.push(`${record.id}: a range of ${a.package.name} could not be compared with ${key.version}`);
        if (verdict.affected) {
          affected = true;
          fixes.push(...verdict.fixed);
        }
      }
      if (affected) {
        hits.push(record);
        fixed.set(record.id, fixes);
      }
    }
    for (const group of mergeAliases(hits)) {
      const ids = [...new Set(group.flatMap((r) => [r.id, ...r.aliases]))].sort();
      const primary = [...group].map((r) => r.id).sort()[0]!;
      const { severity, cvss } = severityOf(group, result.warnings);
      const summary = group.map((r) => r.summary).find((s) => s !== undefined && s !== '');
      result.findings.push({
        id: primary,
        aliases: ids.filter((i) => i !== primary),
        component,
        ecosystem: key.ecosystem,
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
  readonly #by = new Map<string, OsvRecord[]>();

  constructor(records: Iterable<OsvRecord>) {
    for (const r of records) {
      const keys = new Set<string>();
      for (const a of r.affected) {
        if (a.package === undefined) continue;
        const eco = a.package.ecosystem.split(':')[0]!;
        keys.add(`${eco}\u0000${indexName(eco, a.package.name)}`);
      }
      for (const k of keys) this.#by.set(k, [...(this.#by.get(k) ?? []), r]);
    }
  }

  candidates(ecosystem: string, name: string): OsvRecord[] {
    const eco = ecosystem.split(':')[0]!;
    return this.#by.get(`${eco}\u0000${indexName(eco, name)}`) ?? [];
  }
}
