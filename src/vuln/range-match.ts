// Whether a version is affected according to one OSV `affected` entry (OSV schema, "Evaluation"):
// explicit `versions` first, then each SEMVER/ECOSYSTEM range's sorted events. GIT ranges name
// commits and cannot be evaluated against a package version.
import type { OsvAffected, OsvEvent, OsvRange } from '../formats/index.ts';
import type { Compare } from './ecosystems.ts';
import { orderingFor } from './ecosystems.ts';

export interface RangeVerdict {
  affected: boolean;
  /** The fixed versions of the ranges that matched (for reports). */
  fixed: string[];
  /** Ranges skipped because a version in them could not be parsed in the ecosystem's order. */
  unparsable: number;
}

function eventVersion(e: OsvEvent): string {
  return e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? '';
}

// A range always belongs to one ecosystem, so its sorted events can be kept with it.
const sortedEvents = new WeakMap<OsvRange, OsvEvent[]>();

function sorted(range: OsvRange, compare: Compare): OsvEvent[] {
  let events = sortedEvents.get(range);
  if (events === undefined) {
    events = [...range.events].sort((a, b) => {
      if (a.introduced === '0') return -1;
      if (b.introduced === '0') return 1;
      return compare(eventVersion(a), eventVersion(b));
    });
    sortedEvents.set(range, events);
  }
  return events;
}

/** OSV "Evaluation": sort events; introduced → affected, fixed (≥) / last_affected (>) → not. */
export function inRange(version: string, range: OsvRange, compare: Compare): boolean {
  const events = sorted(range, compare);
  let affected = false;
  for (const e of events) {
    if (e.introduced !== undefined && (e.introduced === '0' || compare(version, e.introduced) >= 0)) affected = true;
    else if (e.fixed !== undefined && compare(version, e.fixed) >= 0) affected = false;
    else if (e.last_affected !== undefined && compare(version, e.last_affected) > 0) affected = false;
  }
  // "limit": a version at or above any limit is outside the range.
  for (const e of events) if (e.limit !== undefined && e.limit !== '*' && compare(version, e.limit) >= 0) return false;
  return affected;
}

export function evaluateAffected(version: string, affected: OsvAffected, ecosystem: string): RangeVerdict {
  const verdict: RangeVerdict = { affected: false, fixed: [], unparsable: 0 };
  // "versions": an explicit list; a match is a string match.
  if (affected.versions.includes(version)) verdict.affected = true;
  for (const range of affected.ranges) {
    if (range.type === 'GIT') continue;
    const compare = orderingFor(ecosystem, range.type);
    if (compare === undefined) continue;
    let hit: boolean;
    try {
      hit = inRange(version, range, compare);
    } catch {
      verdict.unparsable++;
      continue;
    }
    if (hit) {
      verdict.affected = true;
      for (const e of range.events) if (e.fixed !== undefined) verdict.fixed.push(e.fixed);
    }
  }
  return verdict;
}
