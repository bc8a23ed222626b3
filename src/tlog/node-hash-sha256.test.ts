import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sha256Node } from './node-hash-sha256.ts';

const reference = (l: Uint8Array, r: Uint8Array) => createHash('sha256').update(Uint8Array.of(1)).update(l).update(r).digest('hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sha256Node', () => {
  it('equals node:crypto SHA-256(0x01 ‖ left ‖ right) on random hashes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (l, r) => {
        assert.equal(hex(sha256Node(l, r)), reference(l, r));
      }),
      { numRuns: 5000 },
    );
  });

  it('equals node:crypto on edge bytes (all zero, all 0xff, single bits)', () => {
    const zero = new Uint8Array(32);
    const ones = new Uint8Array(32).fill(0xff);
    assert.equal(hex(sha256Node(zero, zero)), reference(zero, zero));
    assert.equal(hex(sha256Node(ones, ones)), reference(ones, ones));
    for (let bit = 0; bit < 256; bit++) {
      const l = new Uint8Array(32);
      l[bit >> 3] = 1 << (bit & 7);
      assert.equal(hex(sha256Node(l, zero)), reference(l, zero));
      assert.equal(hex(sha256Node(zero, l)), reference(zero, l));
    }
  });

  it('is not disturbed by repeated and interleaved use (shared scratch state)', () => {
    const a = new Uint8Array(32).fill(7);
    const b = new Uint8Array(32).fill(9);
    const first = hex(sha256Node(a, b));
    sha256Node(b, a);
    assert.equal(hex(sha256Node(a, b)), first);
  });
});
