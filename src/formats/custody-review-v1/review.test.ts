// The review predicate parser: required fields, full object ids, known results; anything else is
// PREDICATE_INVALID.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../../core/index.ts';
import { parseReviewPredicate } from './review.ts';

const OK = { commit: 'a'.repeat(40), tree: 'b'.repeat(40), result: 'approved', timeReviewed: '2026-01-01T00:00:00Z' };

describe('parseReviewPredicate', () => {
  it('keeps the fields of a valid predicate, optional ones included', () => {
    assert.deepEqual(parseReviewPredicate({ ...OK, comment: 'lgtm', ref: 'refs/heads/main' }), { ...OK, comment: 'lgtm', ref: 'refs/heads/main' });
    assert.deepEqual(parseReviewPredicate({ ...OK, commit: 'c'.repeat(64), tree: 'd'.repeat(64) }).commit, 'c'.repeat(64));
  });

  it('rejects short or uppercase ids, unknown results and bad times with PREDICATE_INVALID', () => {
    for (const bad of [{ ...OK, commit: 'a'.repeat(39) }, { ...OK, tree: 'B'.repeat(40) }, { ...OK, result: 'lgtm' }, { ...OK, timeReviewed: 'yesterday' }, { ...OK, comment: 1 }, [], null]) {
      assert.throws(() => parseReviewPredicate(bad), (e: unknown) => e instanceof InputError && e.code === 'PREDICATE_INVALID');
    }
  });

  it('throws only InputError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseReviewPredicate(v);
        } catch (e) {
          assert.ok(e instanceof InputError);
        }
      }),
    );
  });
});
