// in-toto test-result predicate v0.1.
export { INTOTO_TEST_RESULT_V01, TEST_RESULTS, parseTestResultV01 } from './test-result.ts';
export type { TestResultPredicateV01 } from './test-result.ts';
