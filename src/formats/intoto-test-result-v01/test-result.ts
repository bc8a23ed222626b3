// in-toto test-result predicate v0.1 (in-toto/attestation spec/predicates/test-result.md).
import type { ResourceDescriptor } from '../../core/index.ts';
import {
  asRecord,
  optionalResourceDescriptors,
  optionalString,
  optionalStringArray,
  predicateError,
  requiredEnum,
} from '../predicate-fields/index.ts';

export const INTOTO_TEST_RESULT_V01 = 'https://in-toto.io/attestation/test-result/v0.1';
export const TEST_RESULTS = ['PASSED', 'WARNED', 'FAILED'] as const;

export interface TestResultPredicateV01 {
  result: (typeof TEST_RESULTS)[number];
  configuration: ResourceDescriptor[];
  url?: string;
  passedTests?: string[];
  warnedTests?: string[];
  failedTests?: string[];
  [extension: string]: unknown;
}

export function parseTestResultV01(json: unknown, where = 'test-result predicate'): TestResultPredicateV01 {
  const o = asRecord(json, where);
  const configuration = optionalResourceDescriptors(o, 'configuration', where);
  if (configuration === undefined) predicateError(where, "'configuration' is required");
  const out: TestResultPredicateV01 = { ...o, result: requiredEnum(o, 'result', TEST_RESULTS, where), configuration };
  const url = optionalString(o, 'url', where);
  if (url !== undefined) out.url = url;
  for (const field of ['passedTests', 'warnedTests', 'failedTests'] as const) {
    const list = optionalStringArray(o, field, where);
    if (list !== undefined) out[field] = list;
  }
  // test-result.md: FAILED iff some test failed; a PASSED result with failed tests is contradictory.
  if (out.result === 'PASSED' && (out.failedTests?.length ?? 0) > 0) predicateError(where, 'result PASSED but failedTests is not empty');
  return out;
}
