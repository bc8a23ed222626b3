// Whether a version is affected according to one OSV `affected` entry (OSV schema, "Evaluation"):
// explicit `versions` first, then each SEMVER/ECOSYSTEM range's sorted events. GIT ranges name
// commits and cannot be evaluated against a package version.
//
// Each `affected` entry is compiled once per source (index connection or in-memory set): event versions parsed in
// the ecosystem's order and sorted, `versions` in a Set, the index name precomputed. A scan then
// parses each component version once per ordering and compares parsed values only.
import type { OsvAffected, OsvEvent, OsvRangeType } from '../formats/index.ts';
import { indexName, parsedOrderingFor, type Ordering } from './ecosystems.ts';

export interface RangeVerdict {
  affected: boolean;
  /** The fixed versions of the ranges that matched (for reports). */
  fixed: string[];
  /** Ranges skipped because a version in them could not be parsed in the ecosystem's order. */
  unparsable: number;
}

const INTRODUCED = 0;
const FIXED = 1;
const LAST_AFFECTED = 2;

interface CompiledEvent {
  kind: typeof INTRODUCED | typeof FIXED | typeof LAST_AFFECTED;
  /** Parsed version; undefined for introduced "0" (before every version). */
  version: unknown;
}

interface CompiledRange {
  ordering: Ordering;
  /** Sorted by version, introduced "0" first; `limit` events are kept apart. */
  events: CompiledEvent[];
  limits: unknown[];
  fixed: string[];
  /** An event version could not be parsed: the range cannot be evaluated. */
  broken: boolean;
  /** Only introduced "0" events: every version, parsable or not. */
  everything: boolean;
}

/** What matching needs of an `affected` entry (what the index stores per package). */
export interface MatchEntry {
  ecosystem: string;
  name: string;
  versions: string[];
  ranges: { type: Exclude<OsvRangeType, 'GIT'>; events: OsvEvent[] }[];
}

/** The matching part of an `affected` entry with a package; GIT ranges (commits) are dropped. */
export function matchEntry(affected: OsvAffected & { package: NonNullable<OsvAffected['package']> }): MatchEntry {
  const ranges: MatchEntry['ranges'] = [];
  for (const r of affected.ranges) if (r.type !== 'GIT') ranges.push({ type: r.type, events: r.events });
  return { ecosystem: affected.package.ecosystem, name: affected.package.name, versions: affected.versions, ranges };
}

export interface CompiledAffected {
  /** The OSV ecosystem as written ("Debian:12") and without its suffix ("Debian"). */
  ecosystem: string;
  baseEcosystem: string;
  /** The package name as the index stores it (PyPI names PEP 503-normalised). */
  name: string;
  versions: ReadonlySet<string> | undefined;
  ranges: CompiledRange[];
}

function compileRange(range: MatchEntry['ranges'][number], ordering: Ordering): CompiledRange {
  const compiled: CompiledRange = { ordering, events: [], limits: [], fixed: [], broken: false, everything: false };
  try {
    for (const e of range.events) {
      if (e.fixed !== undefined) compiled.fixed.push(e.fixed);
      if (e.introduced !== undefined) compiled.events.push({ kind: INTRODUCED, version: e.introduced === '0' ? undefined : ordering.parse(e.introduced) });
      else if (e.fixed !== undefined) compiled.events.push({ kind: FIXED, version: ordering.parse(e.fixed) });
      else if (e.last_affected !== undefined) compiled.events.push({ kind: LAST_AFFECTED, version: ordering.parse(e.last_affected) });
      // OSV: limit "*" means no limit.
      else if (e.limit !== undefined && e.limit !== '*') compiled.limits.push(ordering.parse(e.limit));
    }
  } catch {
    compiled.broken = true;
    return compiled;
  }
  compiled.everything = compiled.limits.length === 0 && compiled.events.length > 0 && compiled.events.every((e) => e.version === undefined);
  compiled.events.sort((a, b) => (a.version === undefined ? (b.version === undefined ? 0 : -1) : b.version === undefined ? 1 : ordering.compare(a.version, b.version)));
  return compiled;
}

/** The compiled form of a match entry. */
export function compileAffected(entry: MatchEntry): CompiledAffected {
  const ecosystem = entry.ecosystem;
  const colon = ecosystem.indexOf(':');
  const ranges: CompiledRange[] = [];
  for (const range of entry.ranges) {
    const ordering = parsedOrderingFor(ecosystem, range.type);
    if (ordering !== undefined) ranges.push(compileRange(range, ordering));
  }
  return {
    ecosystem,
    baseEcosystem: colon < 0 ? ecosystem : ecosystem.slice(0, colon),
    name: indexName(ecosystem, entry.name),
    versions: entry.versions.length > 0 ? new Set(entry.versions) : undefined,
    ranges,
  };
}

/**
 * OSV "Evaluation" over sorted events: introduced → affected, fixed (≥) / last_affected (>) → not;
 * a version at or above any limit is outside. Events after the first one above the version cannot
 * change the answer, so the walk stops there.
 */
function rangeIncludes(version: unknown, range: CompiledRange): boolean {
  const ordering = range.ordering;
  let affected = false;
  for (const e of range.events) {
    if (e.version === undefined) {
      affected = true;
      continue;
    }
    const c = ordering.compare(version, e.version);
    if (c < 0) break;
    if (e.kind === INTRODUCED) affected = true;
    else if (e.kind === FIXED) affected = false;
    else if (c > 0) affected = false;
  }
  if (affected) for (const limit of range.limits) if (ordering.compare(version, limit) >= 0) return false;
  return affected;
}

/** A component version parsed per ordering, once per component (nearly always one ordering). */
export class ParsedVersion {
  readonly text: string;
  #ordering: Ordering | undefined;
  #value: unknown;
  #others: Map<Ordering, unknown> | undefined;

  constructor(text: string) {
    this.text = text;
  }

  /** The parsed version, or undefined when the ordering cannot parse it. */
  in(ordering: Ordering): unknown {
    if (ordering === this.#ordering) return this.#value;
    if (this.#others?.has(ordering) === true) return this.#others.get(ordering);
    let p: unknown;
    try {
      p = ordering.parse(this.text);
    } catch {
      p = undefined;
    }
    if (this.#ordering === undefined) {
      this.#ordering = ordering;
      this.#value = p;
    } else (this.#others ??= new Map()).set(ordering, p);
    return p;
  }
}

const UNAFFECTED: RangeVerdict = Object.freeze({ affected: false, fixed: Object.freeze([]) as unknown as string[], unparsable: 0 });

/** Evaluates one compiled entry; the common "not affected, nothing unparsable" answer allocates nothing. */
export function evaluateCompiled(version: ParsedVersion, affected: CompiledAffected): RangeVerdict {
  let verdict: RangeVerdict | undefined;
  // "versions": an explicit list; a match is a string match.
  if (affected.versions?.has(version.text) === true) verdict = { affected: true, fixed: [], unparsable: 0 };
  for (const range of affected.ranges) {
    let hit: boolean;
    if (range.everything) hit = true;
    else {
      const v = range.broken ? undefined : version.in(range.ordering);
      if (v === undefined) {
        (verdict ??= { affected: false, fixed: [], unparsable: 0 }).unparsable++;
        continue;
      }
      hit = rangeIncludes(v, range);
    }
    if (hit) {
      verdict ??= { affected: false, fixed: [], unparsable: 0 };
      verdict.affected = true;
      verdict.fixed.push(...range.fixed);
    }
  }
  return verdict ?? UNAFFECTED;
}

/** One `affected` entry evaluated for one version, in the order of `ecosystem`'s ranges. */
export function evaluateAffected(version: string, affected: OsvAffected, ecosystem: string): RangeVerdict {
  return evaluateCompiled(new ParsedVersion(version), compileAffected(matchEntry({ ...affected, package: { name: affected.package?.name ?? '', ecosystem } })));
}
