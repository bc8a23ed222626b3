import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTestResultV01 } from './test-result.ts';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'PREDICATE_INVALID';
const configuration = [{ name: '.github/workflows/test.yml', digest: { sha256: 'a'.repeat(64) } }];

describe('parseTestResultV01', () => {
  it('reads the result, configuration and test lists', () => {
    const t = parseTestResultV01({ result: 'WARNED', configuration, url: 'https://ci.example/run/1', passedTests: ['a'], warnedTests: ['b'] });
    assert.equal(t.result, 'WARNED');
    assert.deepEqual(t.warnedTests, ['b']);
  });

  it('refuses a bad result, missing configuration and a PASSED result with failures', () => {
    assert.throws(() => parseTestResultV01({ result: 'OK', configuration }), isInvalid);
    assert.throws(() => parseTestResultV01({ result: 'PASSED' }), isInvalid);
    assert.throws(() => parseTestResultV01({ result: 'PASSED', configuration, failedTests: ['x'] }), isInvalid);
    assert.throws(() => parseTestResultV01({ result: 'FAILED', configuration, failedTests: [1] }), isInvalid);
  });
});
