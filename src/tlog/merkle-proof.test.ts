import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { VerificationError } from '../core/index.ts';
import { leafHash, nodeHash } from './merkle-hash.ts';
import type { HashReader, NodeId } from './merkle-proof.ts';
import { consistencyProof, inclusionProof, inclusionProofs, treeRoot, verifyConsistency, verifyInclusion } from './merkle-proof.ts';

const fixtures = new URL('./fixtures/merkle/', import.meta.url).pathname;

function vectorFiles(kind: 'inclusion' | 'consistency'): string[] {
  const dir = join(fixtures, kind);
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).map((f) => join(dir, f)).sort();
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const proofOf = (p: string[] | null) => (p ?? []).map(b64);

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof VerificationError && e.code === code);
}

// --- An independent brute-force tree, straight from the recursive RFC 6962 §2.1 definitions ---

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 1) return d[0]!;
  const split = k(d.length);
  return nodeHash(mth(d.slice(0, split)), mth(d.slice(split)));
}

function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const split = k(d.length);
  return m < split ? [...path(m, d.slice(0, split)), mth(d.slice(split))] : [...path(m - split, d.slice(split)), mth(d.slice(0, split))];
}

function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const split = k(d.length);
  return m <= split
    ? [...subproof(m, d.slice(0, split), b), mth(d.slice(split))]
    : [...subproof(m - split, d.slice(split), false), mth(d.slice(0, split))];
}

/** A HashReader over leaf hashes held in memory. */
function memoryReader(leaves: Uint8Array[]): HashReader & { reads: number } {
  const reader = {
    reads: 0,
    readHashes(nodes: readonly NodeId[]) {
      reader.reads++;
      return Promise.resolve(
        nodes.map((n) => {
          const width = 2 ** n.level;
          const slice = leaves.slice(n.index * width, (n.index + 1) * width);
          assert.equal(slice.length, width, `node ${n.level}/${n.index} is not complete`);
          return mth(slice);
        }),
      );
    },
  };
  return reader;
}

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
const hex = (hs: Uint8Array[]) => hs.map((h) => Buffer.from(h).toString('hex'));

describe('merkle-proof', () => {
  describe('when checking the transparency-dev/merkle inclusion vectors', () => {
    const files = vectorFiles('inclusion');
    it('has all 98 of them', () => assert.equal(files.length, 98));
    for (const file of files) {
      const v = JSON.parse(readFileSync(file, 'utf8')) as {
        leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean;
      };
      it(`${file.slice(fixtures.length)}: ${v.desc} → ${v.wantErr ? 'error' : 'ok'}`, () => {
        const run = () => verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), proofOf(v.proof), b64(v.root));
        if (v.wantErr) throwsCode(run, 'PROOF_INVALID');
        else run();
      });
    }
  });

  describe('when checking the transparency-dev/merkle consistency vectors', () => {
    const files = vectorFiles('consistency');
    it('has all 98 of them', () => assert.equal(files.length, 98));
    for (const file of files) {
      const v = JSON.parse(readFileSync(file, 'utf8')) as {
        size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean;
      };
      it(`${file.slice(fixtures.length)}: ${v.desc} → ${v.wantErr ? 'error' : 'ok'}`, () => {
        const run = () => verifyConsistency(v.size1, v.size2, proofOf(v.proof), b64(v.root1), b64(v.root2));
        if (v.wantErr) throwsCode(run, 'PROOF_INVALID');
        else run();
      });
    }
  });

  describe('when a proof is malformed', () => {
    const leaves = leavesOf(5);
    const root = mth(leaves);
    it('rejects a non-32-byte leaf hash, proof element or root', () => {
      const proof = path(2, leaves);
      throwsCode(() => verifyInclusion(2, 5, leaves[2]!.slice(1), proof, root), 'PROOF_INVALID');
      throwsCode(() => verifyInclusion(2, 5, leaves[2]!, [proof[0]!, new Uint8Array(33), ...proof.slice(2)], root), 'PROOF_INVALID');
      throwsCode(() => verifyInclusion(2, 5, leaves[2]!, proof, root.slice(0, 31)), 'PROOF_INVALID');
    });
    it('rejects index ≥ size, size 0, negative and unsafe numbers', () => {
      throwsCode(() => verifyInclusion(5, 5, leaves[0]!, [], root), 'PROOF_INVALID');
      throwsCode(() => verifyInclusion(0, 0, leaves[0]!, [], root), 'PROOF_INVALID');
      throwsCode(() => verifyInclusion(-1, 5, leaves[0]!, [], root), 'PROOF_INVALID');
      throwsCode(() => verifyInclusion(0, 2 ** 60, leaves[0]!, [], root), 'PROOF_INVALID');
    });
    it('rejects a consistency proof from size 0 even with a matching empty root', () => {
      throwsCode(() => verifyConsistency(0, 5, [], new Uint8Array(32), root), 'PROOF_INVALID');
      throwsCode(() => verifyConsistency(0, 0, [], root, root), 'PROOF_INVALID');
    });
  });

  describe('when compared with a brute-force tree (differential)', () => {
    it('generates the RFC 6962 inclusion proofs, which verify, and nothing else verifies', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 140 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.nat())), async ([n, m, flip]) => {
          const leaves = leavesOf(n);
          const root = mth(leaves);
          const reader = memoryReader(leaves);
          const proof = await inclusionProof(m, n, reader);
          assert.deepEqual(hex(proof), hex(path(m, leaves)));
          assert.ok(reader.reads <= 1, 'one batched read per proof');
          verifyInclusion(m, n, leaves[m]!, proof, root);
          assert.deepEqual(hex([await treeRoot(n, reader)]), hex([root]));
          if (proof.length > 0) {
            const bad = proof.map((p) => p.slice());
            bad[flip % bad.length]![flip % 32]! ^= 1;
            throwsCode(() => verifyInclusion(m, n, leaves[m]!, bad, root), 'PROOF_INVALID');
            throwsCode(() => verifyInclusion(m, n, leaves[m]!, proof.slice(0, -1), root), 'PROOF_INVALID');
          }
          if (n > 1) throwsCode(() => verifyInclusion((m + 1) % n, n, leaves[m]!, proof, root), 'PROOF_INVALID');
          throwsCode(() => verifyInclusion(m, n, leaves[m]!, [...proof, root], root), 'PROOF_INVALID');
        }),
        { numRuns: 300 },
      );
    });

    it('proves any set of leaves at once (inclusionProofs) exactly as RFC 6962 PATH does, with one read', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 140 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.nat(n - 1), { maxLength: 40 }))), async ([n, indexes]) => {
          const leaves = leavesOf(n);
          const reader = memoryReader(leaves);
          const proofs = await inclusionProofs(indexes, n, reader);
          assert.deepEqual(proofs.map(hex), indexes.map((m) => hex(path(m, leaves))));
          assert.ok(reader.reads <= 1, 'one batched read for the whole set');
        }),
        { numRuns: 300 },
      );
    });

    it('generates the RFC 6962 consistency proofs, which verify, and nothing else verifies', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 140 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n), fc.nat())),
          async ([m, n, flip]) => {
            const leaves = leavesOf(n);
            const root1 = mth(leaves.slice(0, m));
            const root2 = mth(leaves);
            const proof = await consistencyProof(m, n, memoryReader(leaves));
            assert.deepEqual(hex(proof), hex(m === n ? [] : subproof(m, leaves, true)));
            verifyConsistency(m, n, proof, root1, root2);
            if (proof.length > 0) {
              const bad = proof.map((p) => p.slice());
              bad[flip % bad.length]![flip % 32]! ^= 1;
              throwsCode(() => verifyConsistency(m, n, bad, root1, root2), 'PROOF_INVALID');
              throwsCode(() => verifyConsistency(m, n, proof.slice(1), root1, root2), 'PROOF_INVALID');
              throwsCode(() => verifyConsistency(m, n, proof, root2, root1), 'PROOF_INVALID');
            }
            if (m < n) throwsCode(() => verifyConsistency(m, n, proof, mth(leaves.slice(0, m - 1 || 1).concat(leaves[n - 1]!)), root2), 'PROOF_INVALID');
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('when generating from bad arguments', () => {
    it('rejects index ≥ size and size1 = 0 or size1 > size2 as input errors', async () => {
      const reader = memoryReader(leavesOf(4));
      await assert.rejects(inclusionProof(4, 4, reader), { code: 'INPUT_INVALID' });
      await assert.rejects(inclusionProofs([0, 4], 4, reader), { code: 'INPUT_INVALID' });
      await assert.rejects(inclusionProofs([-1], 4, reader), { code: 'INPUT_INVALID' });
      await assert.rejects(consistencyProof(0, 4, reader), { code: 'INPUT_INVALID' });
      await assert.rejects(consistencyProof(3, 2, reader), { code: 'INPUT_INVALID' });
      assert.deepEqual(await consistencyProof(4, 4, reader), []);
    });
  });
});
