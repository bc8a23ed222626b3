import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { VerificationError } from '../core/index.ts';
import { leafHash, merkleTreeHash, rootFromLeafHashes } from './merkle-hash.ts';
import { consistencyProof, inclusionProof, inclusionProofs, verifyConsistency, verifyInclusion, type NodeId } from './merkle-proof.ts';
import { MemoHashReader } from './memo-hash-reader.ts';
import { decodeEntryBundle, encodeHashTile } from './tile-codec.ts';
import { entryBundlePath, partialTiles, tilePath, tilesAtLevel } from './tile-path.ts';
import type { TileFetcher } from './tile-reader.ts';
import { proveConsistency, proveInclusion, readEntry, TileHashReader } from './tile-reader.ts';
import type { TreeEdge } from './tree-builder.ts';
import { edgeRoot, EMPTY_EDGE, integrate, integrateLeafHashes, loadTreeEdge } from './tree-builder.ts';

const entry = (i: number) => Buffer.from(`entry number ${i}`);
const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));
const normalize = (edge: TreeEdge) => ({ size: edge.size, tiles: edge.tiles.map((t) => t.map(hex)), bundle: edge.bundle?.map(hex) });

/** Applies integrate's writes to a map, like storage would; serves them as a TileFetcher. */
class MemoryTiles implements TileFetcher {
  readonly files = new Map<string, Uint8Array>();
  fetches = 0;
  apply(writes: readonly { path: string; data: Uint8Array }[]): void {
    for (const w of writes) this.files.set(w.path, w.data);
  }
  fetchTile(path: string): Promise<Uint8Array | undefined> {
    this.fetches++;
    return Promise.resolve(this.files.get(path));
  }
}

/** Builds a log of `size` entries in batches of the given sizes; returns storage and edge. */
function build(batches: readonly number[]): { tiles: MemoryTiles; edge: TreeEdge; all: Buffer[] } {
  const tiles = new MemoryTiles();
  let edge = EMPTY_EDGE;
  const all: Buffer[] = [];
  for (const n of batches) {
    const batch = Array.from({ length: n }, (_, i) => entry(all.length + i));
    const result = integrate(edge, batch);
    assert.equal(result.firstIndex, all.length);
    all.push(...batch);
    tiles.apply(result.tiles);
    edge = result.edge;
    assert.equal(hex(result.root), hex(merkleTreeHash(all)));
  }
  return { tiles, edge, all };
}

/** tlog-tiles: hash i of tile n at level l is MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l]). */
function expectedTile(leaves: Uint8Array[], level: number, index: number, width: number): Uint8Array {
  const span = 256 ** level;
  const hashes = [];
  for (let i = 0; i < width; i++) {
    const start = (index * 256 + i) * span;
    hashes.push(rootFromLeafHashes(leaves.slice(start, start + span)));
  }
  return encodeHashTile(hashes);
}

describe('tree-builder', () => {
  describe('when integrating in batches', () => {
    it('writes every tile of the tree exactly as tlog-tiles defines it (size 70,000)', () => {
      const { tiles, edge, all } = build([1, 255, 1000, 30000, 38744]);
      assert.equal(edge.size, 70000);
      const leaves = all.map(leafHash);
      for (let level = 0; level < 3; level++) {
        for (const t of tilesAtLevel(70000, level)) {
          assert.equal(hex(tiles.files.get(tilePath(t))), hex(expectedTile(leaves, level, t.index, t.width)), tilePath(t));
        }
      }
      // Entry bundles hold the entries.
      const last = decodeEntryBundle(tiles.files.get(entryBundlePath({ index: 273, width: 112 }))!, 112);
      assert.deepEqual(Buffer.from(last[111]!), entry(69999));
    });

    it('gives the same root and tiles however the entries are batched', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 6 }), (batches) => {
          const { tiles, edge, all } = build(batches);
          const one = build([all.length]);
          assert.equal(hex(edgeRoot(edge)), hex(edgeRoot(one.edge)));
          for (const t of [...tilesAtLevel(all.length, 0), ...tilesAtLevel(all.length, 1)]) {
            assert.equal(hex(tiles.files.get(tilePath(t))), hex(one.tiles.files.get(tilePath(t))));
          }
        }),
        { numRuns: 60 },
      );
    });

    it('rewrites only the partial tiles it changes', () => {
      const { edge } = build([300]);
      const paths = integrate(edge, [entry(300)]).tiles.map((w) => w.path);
      assert.deepEqual(paths, ['tile/entries/001.p/45', 'tile/0/001.p/45']);
      const full = integrate(build([255]).edge, [entry(255)]).tiles.map((w) => [w.path, w.full]);
      assert.deepEqual(full, [['tile/entries/000', true], ['tile/0/000', true], ['tile/1/000.p/1', false]]);
    });

    it('refuses entries too large for a bundle and an edge without its bundle', () => {
      assert.throws(() => integrate(EMPTY_EDGE, [new Uint8Array(65536)]), { code: 'INPUT_INVALID' });
      const { edge } = build([3]);
      const { bundle: _dropped, ...noBundle } = edge;
      assert.throws(() => integrate(noBundle, [entry(3)]), { code: 'INPUT_INVALID' });
      assert.throws(() => integrate({ size: 3, tiles: [[]], bundle: [] }, []), { code: 'INPUT_INVALID' });
    });

    it('integrates bare leaf hashes without bundles', () => {
      const hashes = Array.from({ length: 600 }, (_, i) => leafHash(entry(i)));
      const result = integrateLeafHashes(EMPTY_EDGE, hashes);
      assert.equal(hex(result.root), hex(rootFromLeafHashes(hashes)));
      assert.ok(result.tiles.every((w) => !w.path.startsWith('tile/entries/')));
    });
  });

  describe('when loading an edge from tiles', () => {
    it('resumes exactly where the builder stopped', async () => {
      const { tiles, edge } = build([70001]);
      const loaded = await loadTreeEdge(tiles, 70001, { entries: true, rootHash: edgeRoot(edge) });
      assert.deepEqual(normalize(loaded), normalize(edge));
      const next = integrate(loaded, [entry(70001)]);
      assert.equal(hex(next.root), hex(integrate(edge, [entry(70001)]).root));
    });

    it('detects a tampered partial tile or bundle', async () => {
      const { tiles, edge } = build([513]);
      const root = edgeRoot(edge);
      const tile = tilePath(partialTiles(513)[1]!); // tile/1/000.p/2
      const original = tiles.files.get(tile)!;
      tiles.files.set(tile, original.map((b, i) => (i === 40 ? b ^ 1 : b)));
      await assert.rejects(loadTreeEdge(tiles, 513, { rootHash: root }), (e) => e instanceof VerificationError && e.code === 'TILE_INVALID');
      tiles.files.set(tile, original);
      tiles.files.set('tile/entries/002.p/1', Uint8Array.of(0, 1, 0x41));
      await assert.rejects(loadTreeEdge(tiles, 513, { entries: true }), { code: 'TILE_INVALID' });
      tiles.files.delete('tile/entries/002.p/1');
      await assert.rejects(loadTreeEdge(tiles, 513, { entries: true }), { code: 'TILE_MISSING' });
    });
  });

  describe('when reading proofs from tiles', () => {
    it('proves inclusion and consistency for trees up to level 2, verified against the roots', async () => {
      const { tiles, all } = build([65536 + 300]);
      const size = all.length;
      const root = merkleTreeHash(all);
      for (const index of [0, 255, 256, 65535, 65536, size - 1]) {
        const { leafHash: lh, proof } = await proveInclusion(tiles, { size, rootHash: root }, index);
        assert.equal(hex(lh), hex(leafHash(all[index]!)));
        verifyInclusion(index, size, lh, proof, root);
        assert.deepEqual(Buffer.from(await readEntry(tiles, size, index)), all[index]);
      }
      // Older trees, as the tiles of the newer tree describe them.
      for (const old of [1, 255, 256, 257, 65536, 65537]) {
        const oldRoot = merkleTreeHash(all.slice(0, old));
        const proof = await proveConsistency(tiles, { size: old, rootHash: oldRoot }, { size, rootHash: root });
        verifyConsistency(old, size, proof, oldRoot, root);
      }
    });

    it('one memoized tile reader proves a whole batch exactly as the RFC 6962 definition does', async () => {
      // A sequencer answers a batch of contiguous new leaves with one reader: tile levels and the
      // folded ranges at the tree's right edge are computed once and shared by every proof.
      const { tiles, all } = build([300, 65536 + 257 - 300, 743]); // checkpoints at 300, 65,793 and 66,536
      const leaves = all.map(leafHash);
      const direct = {
        readHashes: (nodes: readonly NodeId[]) =>
          Promise.resolve(nodes.map((n) => rootFromLeafHashes(leaves.slice(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level)))),
      };
      for (const size of [65536 + 1000, 65536 + 257, 300]) {
        const reader = new MemoHashReader(new TileHashReader(size, tiles));
        const batch = Array.from({ length: Math.min(size, 700) }, (_, i) => size - 1 - i);
        const proofs = await Promise.all(batch.map((i) => inclusionProof(i, size, reader)));
        for (const [k, i] of batch.entries()) {
          if (k % 7 === 0 || k < 3) assert.deepEqual(proofs[k]!.map(hex), (await inclusionProof(i, size, direct)).map(hex), `leaf ${i} of ${size}`);
        }
        // The batch prover: the same proofs, from one read of the distinct nodes.
        const tileReader = new TileHashReader(size, tiles);
        let reads = 0;
        const counting = { readHashes: (nodes: readonly NodeId[]) => (reads++, tileReader.readHashes(nodes)) };
        const together = await inclusionProofs(batch, size, counting);
        assert.deepEqual(together.map((p) => p.map(hex)), proofs.map((p) => p.map(hex)));
        assert.equal(reads, 1, 'one read for the whole batch');
        for (const old of [1, 255, 257, size - 1]) {
          assert.deepEqual((await consistencyProof(old, size, reader)).map(hex), (await consistencyProof(old, size, direct)).map(hex));
        }
      }
    });

    it('reports a tree head the tiles do not support', async () => {
      const { tiles, all } = build([1000]);
      const root = merkleTreeHash(all);
      const other = merkleTreeHash([...all.slice(0, 999), Buffer.from('forged')]);
      await assert.rejects(proveInclusion(tiles, { size: 1000, rootHash: other }, 5), { code: 'TILE_INVALID' });
      await assert.rejects(proveConsistency(tiles, { size: 10, rootHash: other }, { size: 1000, rootHash: root }), { code: 'LOG_INCONSISTENT' });
      // A tampered full tile.
      const t = tiles.files.get('tile/0/001')!;
      tiles.files.set('tile/0/001', t.map((b, i) => (i === 0 ? b ^ 0x80 : b)));
      await assert.rejects(proveInclusion(tiles, { size: 1000, rootHash: root }, 300), { code: 'TILE_INVALID' });
    });

    it('falls back to the full tile when a partial tile is gone (tlog-tiles)', async () => {
      const { tiles, all } = build([100, 200]);
      tiles.files.delete('tile/0/000.p/100');
      const reader = new TileHashReader(100, tiles);
      const [h] = await reader.readHashes([{ level: 0, index: 99 }]);
      assert.equal(hex(h), hex(leafHash(all[99]!)));
      tiles.files.delete('tile/0/001.p/44');
      await assert.rejects(new TileHashReader(300, tiles).readHashes([{ level: 0, index: 299 }]), { code: 'TILE_MISSING' });
    });

    it('fetches each tile once per reader', async () => {
      const { tiles } = build([5000]);
      const reader = new TileHashReader(5000, tiles);
      await reader.readHashes([{ level: 0, index: 1 }, { level: 0, index: 2 }, { level: 3, index: 5 }]);
      await reader.readHashes([{ level: 1, index: 1 }]);
      assert.equal(tiles.fetches, 1);
    });
  });
});
