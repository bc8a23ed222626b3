// The reference state log entry parser: numbering and the previous-entry link are consistent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../../core/index.ts';
import { parseRslEntryPredicate } from './rsl-entry.ts';

const FIRST = { number: 1, ref: 'refs/heads/main', commit: 'a'.repeat(40), recordedAt: '2026-01-01T00:00:00Z' };

describe('parseRslEntryPredicate', () => {
  it('accepts entry 1 without previous and later entries with one', () => {
    assert.deepEqual(parseRslEntryPredicate(FIRST), FIRST);
    const second = { ...FIRST, number: 2, previous: `sha256:${'f'.repeat(64)}` };
    assert.deepEqual(parseRslEntryPredicate(second), second);
  });

  it('rejects entry 1 with a previous, a later entry without one, short refs and bad numbers', () => {
    for (const bad of [
      { ...FIRST, previous: `sha256:${'f'.repeat(64)}` },
      { ...FIRST, number: 2 },
      { ...FIRST, ref: 'main' },
      { ...FIRST, number: 0 },
      { ...FIRST, number: 1.5 },
      { ...FIRST, number: 2, previous: 'sha256:abc' },
    ]) {
      assert.throws(() => parseRslEntryPredicate(bad), (e: unknown) => e instanceof InputError && e.code === 'PREDICATE_INVALID');
    }
  });

  it('throws only InputError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseRslEntryPredicate(v);
        } catch (e) {
          assert.ok(e instanceof InputError);
        }
      }),
    );
  });
});
