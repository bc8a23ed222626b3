import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  entryBundlePath,
  entryBundleWidth,
  formatTileIndex,
  nodeLocation,
  parseTilePath,
  partialTiles,
  tileLevels,
  tilePath,
  tilesAtLevel,
  tileWidth,
} from './tile-path.ts';

describe('tile-path', () => {
  describe('formatTileIndex', () => {
    it('writes 3-digit groups with x on all but the last (tlog-tiles)', () => {
      assert.equal(formatTileIndex(1234067), 'x001/x234/067');
      assert.equal(formatTileIndex(0), '000');
      assert.equal(formatTileIndex(5), '005');
      assert.equal(formatTileIndex(999), '999');
      assert.equal(formatTileIndex(1000), 'x001/000');
      assert.equal(formatTileIndex(1000000), 'x001/x000/000');
    });
    it('rejects negative and fractional indexes', () => {
      assert.throws(() => formatTileIndex(-1), { code: 'INPUT_INVALID' });
      assert.throws(() => formatTileIndex(1.5), { code: 'INPUT_INVALID' });
    });
  });

  describe('tilePath and entryBundlePath', () => {
    it('adds .p/W only to partial tiles', () => {
      assert.equal(tilePath({ level: 0, index: 1234067, width: 256 }), 'tile/0/x001/x234/067');
      assert.equal(tilePath({ level: 2, index: 1, width: 17 }), 'tile/2/001.p/17');
      assert.equal(entryBundlePath({ index: 1234067, width: 8 }), 'tile/entries/x001/x234/067.p/8');
      assert.equal(entryBundlePath({ index: 3, width: 256 }), 'tile/entries/003');
    });
    it('rejects widths outside 1..256 and levels outside 0..63', () => {
      assert.throws(() => tilePath({ level: 0, index: 0, width: 0 }), { code: 'INPUT_INVALID' });
      assert.throws(() => tilePath({ level: 0, index: 0, width: 257 }), { code: 'INPUT_INVALID' });
      assert.throws(() => tilePath({ level: 64, index: 0, width: 1 }), { code: 'INPUT_INVALID' });
    });
  });

  describe('parseTilePath', () => {
    it('reads back what tilePath and entryBundlePath write', () => {
      fc.assert(
        fc.property(fc.nat(63), fc.maxSafeNat(), fc.integer({ min: 1, max: 256 }), fc.boolean(), (level, index, width, entries) => {
          const path = entries ? entryBundlePath({ index, width }) : tilePath({ level, index, width });
          const parsed = parseTilePath(path);
          assert.deepEqual(parsed, entries ? { kind: 'entries', bundle: { index, width } } : { kind: 'tile', tile: { level, index, width } });
        }),
      );
    });
    it('rejects every other spelling', () => {
      for (const bad of [
        'tile/0/1', 'tile/00/000', 'tile/01/000', 'tile/64/000', 'tile/0/000.p/256', 'tile/0/000.p/0', 'tile/0/000.p/07',
        'tile/0/x000/001', 'tile/0/001/002', 'tile/0/x001', 'tile/0/X001/002', 'tile/0/000/', '/tile/0/000', 'tile/0/../000',
        'tile/entry/000', 'tile/8/0/000', 'checkpoint', '', 'tile/0/000.p/', 'tile/0/000.p/1/',
      ]) {
        assert.equal(parseTilePath(bad), undefined, bad);
      }
    });
    it('never throws, and what it accepts is canonical (fuzz)', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.stringMatching(/^tile\/(entries|[0-9]{1,2})\/(x?[0-9]{3}\/){0,3}x?[0-9]{3}(\.p\/[0-9]{1,3})?$/)), (s) => {
          const parsed = parseTilePath(s);
          if (parsed === undefined) return;
          const again = parsed.kind === 'entries' ? entryBundlePath(parsed.bundle) : tilePath(parsed.tile);
          assert.equal(again, s);
        }),
      );
    });
  });

  describe('when listing the tiles of a tree', () => {
    it('matches the tlog-tiles example for size 70,000', () => {
      assert.equal(tilesAtLevel(70000, 0).filter((t) => t.width === 256).length, 273);
      assert.deepEqual(partialTiles(70000), [
        { level: 0, index: 273, width: 112 },
        { level: 1, index: 1, width: 17 },
        { level: 2, index: 0, width: 1 },
      ]);
      assert.deepEqual(tilesAtLevel(70000, 1), [{ level: 1, index: 0, width: 256 }, { level: 1, index: 1, width: 17 }]);
      assert.equal(tileLevels(70000), 3);
    });
    it('matches the tlog-tiles example for size 256', () => {
      assert.deepEqual(tilesAtLevel(256, 0), [{ level: 0, index: 0, width: 256 }]);
      assert.deepEqual(partialTiles(256), [{ level: 1, index: 0, width: 1 }]);
    });
    it('has no tiles for the empty tree', () => {
      assert.deepEqual(partialTiles(0), []);
      assert.equal(tileLevels(0), 0);
      assert.equal(entryBundleWidth(0, 0), 0);
    });
    it('gives floor(s / 256^l) mod 256 as the partial width', () => {
      fc.assert(
        fc.property(fc.maxSafeNat(), (size) => {
          for (const t of partialTiles(size)) {
            assert.equal(t.width, Math.floor(size / 256 ** t.level) % 256);
            assert.equal(tileWidth(size, t.level, t.index), t.width);
            assert.equal(tileWidth(size, t.level, t.index + 1), 0);
          }
        }),
      );
    });
  });

  describe('nodeLocation', () => {
    it('finds nodes inside tiles', () => {
      // A leaf: one hash of a level-0 tile.
      assert.deepEqual(nodeLocation(1000, 0, 300), { tile: { level: 0, index: 1, width: 256 }, offset: 44, count: 1 });
      // Height 3 over leaves 992..999 of a partial level-0 tile of width 232.
      assert.deepEqual(nodeLocation(1000, 3, 124), { tile: { level: 0, index: 3, width: 232 }, offset: 224, count: 8 });
      // Height 8 = one hash of a level-1 tile; height 9 = two of them.
      assert.deepEqual(nodeLocation(70000, 8, 260), { tile: { level: 1, index: 1, width: 17 }, offset: 4, count: 1 });
      assert.deepEqual(nodeLocation(70000, 9, 3), { tile: { level: 1, index: 0, width: 256 }, offset: 6, count: 2 });
    });
    it('refuses nodes that are not complete in the tree', () => {
      assert.throws(() => nodeLocation(1000, 0, 1000), { code: 'INPUT_INVALID' });
      assert.throws(() => nodeLocation(1000, 4, 62), { code: 'INPUT_INVALID' }); // leaves 992..1007
      assert.throws(() => nodeLocation(1000, 10, 0), { code: 'INPUT_INVALID' });
    });
  });
});
