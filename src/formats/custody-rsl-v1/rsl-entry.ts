// The reference state log entry predicate https://custody.dev/rsl/v1 (gittuf-style RSL): "ref R
// pointed at commit C", numbered and chained to the previous entry by the SHA-256 of that entry's
// stored envelope bytes. Schema: rsl-entry.schema.json beside this file.
import { InputError } from '../../core/index.ts';

export const RSL_PREDICATE_TYPE = 'https://custody.dev/rsl/v1';

export interface RslEntryPredicate {
  /** 1 for the first entry, then +1 per entry. */
  number: number;
  /** Full ref name, e.g. refs/heads/main. */
  ref: string;
  /** Full object id the ref pointed at when recorded. */
  commit: string;
  /** "sha256:<hex>" of the previous entry's envelope bytes; absent for entry 1. */
  previous?: string;
  /** RFC 3339 UTC. */
  recordedAt: string;
}

function fail(message: string): never {
  throw new InputError('PREDICATE_INVALID', `rsl entry: ${message}`);
}

function checkPrevious(number: number, previous: unknown): asserts previous is string | undefined {
  if (previous !== undefined && (typeof previous !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(previous))) fail("'previous' must be sha256:<hex>");
  if (number === 1 && previous !== undefined) fail("entry 1 has no 'previous'");
  if (number > 1 && previous === undefined) fail(`entry ${number} lacks 'previous'`);
}

export function parseRslEntryPredicate(json: unknown): RslEntryPredicate {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('must be an object');
  const o = json as Record<string, unknown>;
  const { number, ref, commit, previous, recordedAt } = o;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) fail("'number' must be a positive integer");
  if (typeof ref !== 'string' || !ref.startsWith('refs/')) fail("'ref' must be a full ref name");
  if (typeof commit !== 'string' || !/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) fail("'commit' must be a full object id");
  checkPrevious(number, previous);
  if (typeof recordedAt !== 'string' || Number.isNaN(Date.parse(recordedAt))) fail("'recordedAt' must be an RFC 3339 time");
  return { number, ref, commit, recordedAt, ...(previous === undefined ? {} : { previous }) };
}
