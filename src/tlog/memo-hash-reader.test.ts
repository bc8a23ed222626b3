import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { leafHash, rootFromLeafHashes } from './merkle-hash.ts';
import { inclusionProof, verifyInclusion, type HashReader, type NodeId } from './merkle-proof.ts';
import { MemoHashReader } from './memo-hash-reader.ts';

/** An in-memory tree of `size` leaves that counts the node hashes asked of it. */
function treeReader(size: number): HashReader & { asked: number } {
  const leaves = Array.from({ length: size }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));
  const reader = {
    asked: 0,
    readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
      reader.asked += nodes.length;
      return Promise.resolve(nodes.map((n) => rootFromLeafHashes(leaves.slice(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level))));
    },
  };
  return reader;
}

describe('MemoHashReader', () => {
  it('gives the same proofs as its inner reader, asking it for each node once, also under eviction', async () => {
    for (const limit of [1_000_000, 7]) {
      const size = 1000;
      const inner = treeReader(size);
      const plain = treeReader(size);
      const memo = new MemoHashReader(inner, limit);
      const root = rootFromLeafHashes(Array.from({ length: size }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`))));
      const proofs = await Promise.all(Array.from({ length: size }, (_, i) => inclusionProof(i, size, memo)));
      for (let i = 0; i < size; i += 37) {
        assert.deepEqual(proofs[i], await inclusionProof(i, size, plain));
        verifyInclusion(i, size, leafHash(new TextEncoder().encode(`leaf ${i}`)), proofs[i]!, root);
      }
      const requested = proofs.reduce((n, p) => n + p.length, 0);
      if (limit > size * 4) assert.ok(inner.asked * 4 < requested, `memo asked ${inner.asked} of ${requested} node hashes`);
    }
  });
});
