// in-toto link predicate v0.3.
export { LINK_PREDICATE_TYPE_V03, parseLinkPredicateV03 } from './link-predicate.ts';
export type { LinkPredicateV03 } from './link-predicate.ts';
