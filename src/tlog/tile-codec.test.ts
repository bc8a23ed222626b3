import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { VerificationError } from '../core/index.ts';
import { decodeEntryBundle, decodeHashTile, encodeEntryBundle, encodeHashTile, MAX_ENTRY_SIZE } from './tile-codec.ts';

describe('tile-codec', () => {
  describe('entry bundles', () => {
    it('length-prefixes entries with big-endian uint16', () => {
      const bundle = encodeEntryBundle([Uint8Array.of(), Uint8Array.of(0xaa, 0xbb), new Uint8Array(0x0102)]);
      assert.deepEqual([...bundle.slice(0, 6)], [0, 0, 0, 2, 0xaa, 0xbb]);
      assert.deepEqual([...bundle.slice(6, 8)], [0x01, 0x02]);
      assert.equal(bundle.length, 2 + 4 + 2 + 0x0102);
    });
    it('round-trips any entries', () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 256 }), (entries) => {
          const decoded = decodeEntryBundle(encodeEntryBundle(entries), entries.length);
          assert.deepEqual(decoded.map((e) => [...e]), entries.map((e) => [...e]));
        }),
      );
    });
    it('takes entries of up to 65,535 bytes and no more', () => {
      assert.equal(decodeEntryBundle(encodeEntryBundle([new Uint8Array(MAX_ENTRY_SIZE)]), 1)[0]!.length, MAX_ENTRY_SIZE);
      assert.throws(() => encodeEntryBundle([new Uint8Array(MAX_ENTRY_SIZE + 1)]), { code: 'INPUT_INVALID' });
    });
    it('rejects truncated, padded or miscounted bundles', () => {
      const bundle = encodeEntryBundle([Uint8Array.of(1, 2, 3), Uint8Array.of(4)]);
      for (const [data, width] of [[bundle.slice(0, -1), 2], [bundle.slice(0, 1), 1], [Uint8Array.of(...bundle, 0), 2], [bundle, 1], [bundle, 3]] as const) {
        assert.throws(() => decodeEntryBundle(data, width), (e) => e instanceof VerificationError && e.code === 'TILE_INVALID');
      }
      // A longer (full) bundle can stand in for a vanished partial one.
      assert.deepEqual([...decodeEntryBundle(bundle, 1, { allowLonger: true })[0]!], [1, 2, 3]);
    });
    it('never fails with anything but TILE_INVALID on arbitrary bytes (fuzz)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 256 }), (data, width) => {
          try {
            const entries = decodeEntryBundle(data, width);
            assert.equal(entries.length, width);
            assert.deepEqual([...encodeEntryBundle(entries)], [...data]);
          } catch (e) {
            assert.ok(e instanceof VerificationError && e.code === 'TILE_INVALID');
          }
        }),
      );
    });
  });

  describe('hash tiles', () => {
    it('concatenates 32-byte hashes and splits them back', () => {
      const hashes = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
      const tile = encodeHashTile(hashes);
      assert.equal(tile.length, 64);
      assert.deepEqual(decodeHashTile(tile, 2).map((h) => h[0]), [1, 2]);
    });
    it('insists on exactly width × 32 bytes', () => {
      const tile = new Uint8Array(96);
      assert.throws(() => decodeHashTile(tile, 2), { code: 'TILE_INVALID' });
      assert.throws(() => decodeHashTile(tile.slice(0, 95), 3), { code: 'TILE_INVALID' });
      assert.equal(decodeHashTile(tile, 2, { allowLonger: true }).length, 2);
      assert.throws(() => encodeHashTile([new Uint8Array(31)]), { code: 'INPUT_INVALID' });
      assert.throws(() => encodeHashTile([]), { code: 'INPUT_INVALID' });
    });
  });
});
