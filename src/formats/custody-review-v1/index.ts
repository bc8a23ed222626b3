// The review predicate https://custody.dev/review/v1 (schema in review.schema.json).
export { REVIEW_PREDICATE_TYPE, REVIEW_RESULTS, parseReviewPredicate } from './review.ts';
export type { ReviewPredicate, ReviewResult } from './review.ts';
