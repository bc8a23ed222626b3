// The review predicate https://custody.dev/review/v1: a reviewer's signed verdict on one git
// commit and the tree it has. Schema: review.schema.json beside this file. The statement's
// subject names the commit (gitCommit) and its tree (gitTree); the predicate repeats both so a
// reader never has to guess which subject is which.
import { InputError } from '../../core/index.ts';

export const REVIEW_PREDICATE_TYPE = 'https://custody.dev/review/v1';
export const REVIEW_RESULTS = ['approved', 'rejected'] as const;
export type ReviewResult = (typeof REVIEW_RESULTS)[number];

export interface ReviewPredicate {
  /** Full object id of the reviewed commit. */
  commit: string;
  /** Full object id of that commit's tree: an approval holds for this tree only. */
  tree: string;
  result: ReviewResult;
  /** RFC 3339 UTC. */
  timeReviewed: string;
  /** The ref the change is meant for, when the reviewer named one. */
  ref?: string;
  comment?: string;
}

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function fail(message: string): never {
  throw new InputError('PREDICATE_INVALID', `review predicate: ${message}`);
}

function optString(o: Record<string, unknown>, field: string): string | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(`'${field}' must be a string`);
  return v;
}

export function parseReviewPredicate(json: unknown): ReviewPredicate {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('must be an object');
  const o = json as Record<string, unknown>;
  const commit = optString(o, 'commit');
  const tree = optString(o, 'tree');
  const result = optString(o, 'result');
  const timeReviewed = optString(o, 'timeReviewed');
  if (commit === undefined || !OID.test(commit)) fail("'commit' must be a full lowercase hex object id");
  if (tree === undefined || !OID.test(tree)) fail("'tree' must be a full lowercase hex object id");
  if (result === undefined || !(REVIEW_RESULTS as readonly string[]).includes(result)) fail(`'result' must be one of ${REVIEW_RESULTS.join(', ')}`);
  if (timeReviewed === undefined || Number.isNaN(Date.parse(timeReviewed))) fail("'timeReviewed' must be an RFC 3339 time");
  const ref = optString(o, 'ref');
  const comment = optString(o, 'comment');
  return {
    commit,
    tree,
    result: result as ReviewResult,
    timeReviewed,
    ...(ref === undefined ? {} : { ref }),
    ...(comment === undefined ? {} : { comment }),
  };
}
