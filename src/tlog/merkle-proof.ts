// RFC 6962 / RFC 9162 inclusion and consistency proofs: verification (pure, synchronous) and
// generation from any source of complete-subtree hashes (a HashReader: memory, tiles, a database).
import { InputError, VerificationError } from '../core/index.ts';
import { emptyRoot, hashesEqual, nodeHash, requireHash } from './merkle-hash.ts';

/**
 * A complete subtree of the log: the node at `level` (height; 0 = a leaf) and `index` (position
 * among the nodes of that level) covers leaves [index·2^level, (index+1)·2^level).
 */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Reads hashes of complete subtrees. Returned in the order asked, each 32 bytes. */
export interface HashReader {
  readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]>;
}

/** Tree sizes and indexes are JavaScript numbers: exact up to 2^53 - 1 leaves. */
function requireSize(n: number, what: string, code: 'input' | 'proof'): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    const message = `${what} must be a non-negative safe integer, got ${String(n)}`;
    throw code === 'input' ? new InputError('INPUT_INVALID', message) : new VerificationError('PROOF_INVALID', message);
  }
}

function half(n: number): number {
  return (n - (n % 2)) / 2;
}

// ---------------------------------------------------------------------------------------------
// Verification

/**
 * RFC 9162 §2.1.3.2: recomputes the root from a leaf hash and its inclusion proof. Throws
 * PROOF_INVALID when the proof is malformed for (index, size).
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  requireSize(index, 'leaf index', 'proof');
  requireSize(size, 'tree size', 'proof');
  // Step 1: leaf_index must be < tree_size.
  if (index >= size) throw new VerificationError('PROOF_INVALID', `leaf index ${index} is not below tree size ${size}`);
  requireHash(leaf, 'leaf hash');
  proof.forEach((p, i) => requireHash(p, `inclusion proof element ${i}`));
  // Steps 2–3.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  // Step 4.
  for (const p of proof) {
    if (sn === 0) throw new VerificationError('PROOF_INVALID', 'inclusion proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5: sn must be 0 (the proof reached the root).
  if (sn !== 0) throw new VerificationError('PROOF_INVALID', 'inclusion proof is too short');
  return r;
}

/** RFC 9162 §2.1.3.2: throws PROOF_INVALID unless `proof` shows `leaf` at `index` in the tree with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  requireHash(root, 'root hash');
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  if (!hashesEqual(computed, root)) {
    throw new VerificationError('PROOF_INVALID', 'inclusion proof does not lead to the root hash');
  }
}

/**
 * RFC 9162 §2.1.4.2: throws PROOF_INVALID unless `proof` shows that the tree of size2 with root2
 * extends the tree of size1 with root1. A proof from size 0 is always an error (there is nothing
 * to be consistent with; RFC 9162 defines proofs for 0 < size1). Equal sizes need an empty proof
 * and equal roots.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  requireSize(size1, 'first tree size', 'proof');
  requireSize(size2, 'second tree size', 'proof');
  if (size1 === 0) throw new VerificationError('PROOF_INVALID', 'a consistency proof from an empty tree is meaningless');
  if (size2 < size1) throw new VerificationError('PROOF_INVALID', `second tree size ${size2} is below first ${size1}`);
  if (size1 === size2) {
    if (proof.length !== 0) throw new VerificationError('PROOF_INVALID', 'equal tree sizes need an empty proof');
    // Nothing to recompute: the roots themselves must be identical.
    if (!hashesEqual(root1, root2)) throw new VerificationError('PROOF_INVALID', 'equal tree sizes with different roots');
    return;
  }
  requireHash(root1, 'first root hash');
  requireHash(root2, 'second root hash');
  proof.forEach((p, i) => requireHash(p, `consistency proof element ${i}`));
  // Step 1: an empty path fails.
  if (proof.length === 0) throw new VerificationError('PROOF_INVALID', 'consistency proof is empty');
  // Step 2: if first is an exact power of 2, prepend first_hash.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  // Step 3.
  let fn = size1 - 1;
  let sn = size2 - 1;
  // Step 4: right-shift both while LSB(fn) is set.
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // Step 6.
  for (const c of path.slice(1)) {
    if (sn === 0) throw new VerificationError('PROOF_INVALID', 'consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  if (sn !== 0) throw new VerificationError('PROOF_INVALID', 'consistency proof is too short');
  if (!hashesEqual(fr, root1)) throw new VerificationError('PROOF_INVALID', 'consistency proof does not lead to the first root');
  if (!hashesEqual(sr, root2)) throw new VerificationError('PROOF_INVALID', 'consistency proof does not lead to the second root');
}

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

// ---------------------------------------------------------------------------------------------
// Generation

/** The largest power of two strictly below n (n ≥ 2): RFC 6962's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A range of leaves [start, end) whose Merkle Tree Hash a proof needs. */
interface LeafRange {
  start: number;
  end: number;
}

/**
 * The complete subtrees that make up MTH(D[start:end]), left to right. Ranges that arise in
 * RFC 6962 proofs start at a multiple of a power of two at least as large as the range, so the
 * range splits into aligned complete subtrees by the binary digits of its length.
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  let cur = start;
  let remaining = end - start;
  let size = 1;
  while (size * 2 <= remaining) size *= 2;
  let level = Math.round(Math.log2(size));
  for (; remaining > 0; size /= 2, level--) {
    if (remaining < size) continue;
    if (cur % size !== 0) throw new InputError('INPUT_INVALID', `range [${start}, ${end}) is not aligned`);
    nodes.push({ level, index: cur / size });
    cur += size;
    remaining -= size;
  }
  return nodes;
}

/** Folds complete-subtree hashes (left to right) into the hash of their range (RFC 6962 MTH). */
function foldRange(hashes: readonly Uint8Array[]): Uint8Array {
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/**
 * The MTH of each range of each list, with one HashReader call: every distinct node is read once
 * and a range that several lists share (the right edge of a tree, for the proofs of a batch) is
 * folded once.
 */
async function rangeHashLists(lists: readonly (readonly LeafRange[])[], reader: HashReader): Promise<Uint8Array[][]> {
  const slotOf = new Map<number, number>(); // index·64 + level → position in `nodes`
  const nodes: NodeId[] = [];
  const plans = lists.map((ranges) =>
    ranges.map((range) => {
      const slots = rangeNodes(range.start, range.end).map((n) => {
        if (n.index >= 2 ** 47) throw new InputError('INPUT_INVALID', `node ${n.level}/${n.index} is beyond the prover's node keys`);
        const key = n.index * 64 + n.level;
        let slot = slotOf.get(key);
        if (slot === undefined) {
          slot = nodes.push(n) - 1;
          slotOf.set(key, slot);
        }
        return slot;
      });
      return { range, slots };
    }),
  );
  const hashes = nodes.length === 0 ? [] : await reader.readHashes(nodes);
  if (hashes.length !== nodes.length) throw new VerificationError('TILE_INVALID', 'hash reader returned the wrong number of hashes');
  hashes.forEach((h, i) => requireHash(h, `hash of node ${nodes[i]!.level}/${nodes[i]!.index}`));
  const folded = new Map<string, Uint8Array>();
  return plans.map((plan) =>
    plan.map(({ range, slots }) => {
      if (slots.length === 1) return hashes[slots[0]!]!;
      const key = `${range.start}:${range.end}`;
      let h = folded.get(key);
      if (h === undefined) {
        h = foldRange(slots.map((slot) => hashes[slot]!));
        folded.set(key, h);
      }
      return h;
    }),
  );
}

/** Reads the MTH of each range with one batched HashReader call. */
async function rangeHashes(ranges: readonly LeafRange[], reader: HashReader): Promise<Uint8Array[]> {
  return (await rangeHashLists([ranges], reader))[0]!;
}

/** RFC 6962 §2.1.1 PATH(m, D[n]): the ranges whose hashes form the inclusion proof, leaf upwards. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      topDown.push({ start: start + k, end });
      end = start + k;
    } else {
      topDown.push({ start, end: start + k });
      start += k;
    }
  }
  return topDown.reverse();
}

/** RFC 6962 §2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true): ranges of the consistency proof. */
export function consistencyRanges(size1: number, size2: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = size2;
  let m = size1;
  let complete = true; // SUBPROOF's b: whether the subtree is the whole old tree's prefix
  for (;;) {
    const n = end - start;
    if (m === n) {
      if (!complete) topDown.push({ start, end });
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      topDown.push({ start: start + k, end });
      end = start + k;
    } else {
      topDown.push({ start, end: start + k });
      start += k;
      m -= k;
      complete = false;
    }
  }
  return topDown.reverse();
}

/** Generates the inclusion proof for leaf `index` in the tree of `size` leaves. */
export async function inclusionProof(index: number, size: number, reader: HashReader): Promise<Uint8Array[]> {
  requireSize(index, 'leaf index', 'input');
  requireSize(size, 'tree size', 'input');
  if (index >= size) throw new InputError('INPUT_INVALID', `leaf index ${index} is not below tree size ${size}`);
  return rangeHashes(inclusionRanges(index, size), reader);
}

/**
 * The inclusion proofs of many leaves of one tree (a sequencer answering a batch): every node
 * they need is read with one HashReader call, each distinct node once, and the ranges they share
 * are folded once. Same proofs as inclusionProof for each index.
 */
export async function inclusionProofs(indexes: readonly number[], size: number, reader: HashReader): Promise<Uint8Array[][]> {
  requireSize(size, 'tree size', 'input');
  const lists = indexes.map((index) => {
    requireSize(index, 'leaf index', 'input');
    if (index >= size) throw new InputError('INPUT_INVALID', `leaf index ${index} is not below tree size ${size}`);
    return inclusionRanges(index, size);
  });
  return rangeHashLists(lists, reader);
}

/** Generates the consistency proof from the tree of size1 to the tree of size2 (0 < size1 ≤ size2). */
export async function consistencyProof(size1: number, size2: number, reader: HashReader): Promise<Uint8Array[]> {
  requireSize(size1, 'first tree size', 'input');
  requireSize(size2, 'second tree size', 'input');
  if (size1 === 0) throw new InputError('INPUT_INVALID', 'no consistency proof exists from an empty tree');
  if (size1 > size2) throw new InputError('INPUT_INVALID', `first tree size ${size1} exceeds second ${size2}`);
  if (size1 === size2) return [];
  return rangeHashes(consistencyRanges(size1, size2), reader);
}

/** The root hash MTH(D[size]) from complete-subtree hashes. */
export async function treeRoot(size: number, reader: HashReader): Promise<Uint8Array> {
  requireSize(size, 'tree size', 'input');
  if (size === 0) return emptyRoot();
  const [root] = await rangeHashes([{ start: 0, end: size }], reader);
  return root!;
}
