// RFC 6962 §2.1 Merkle tree hashing (SHA-256): leaf hashes, interior node hashes and the Merkle
// Tree Hash of a list of leaves. Pure functions; everything else in tlog/ builds on these.
import { hash } from 'node:crypto';
import { VerificationError } from '../core/index.ts';
import { sha256Node } from './node-hash-sha256.ts';

/** Every RFC 6962 hash (leaf, node, root) is a SHA-256 digest: 32 bytes. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

function sha256(data: Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer');
}

/** RFC 6962 §2.1: the hash of a leaf is SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(entry.length + 1);
  buf[0] = LEAF_PREFIX;
  buf.set(entry, 1);
  return sha256(buf);
}

/** RFC 6962 §2.1: an interior node hashes SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length === HASH_SIZE && right.length === HASH_SIZE) return sha256Node(left, right);
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = NODE_PREFIX;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** RFC 6962 §2.1: the hash of an empty tree is SHA-256 of the empty string. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/**
 * The Merkle Tree Hash MTH(D[n]) of a list of leaf hashes (RFC 6962 §2.1), computed bottom-up
 * without recursion: at each level adjacent pairs are hashed and an odd last node moves up
 * unchanged, which yields the same tree as the recursive definition (split at the largest power
 * of two smaller than n).
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  let level: Uint8Array[] = [...leafHashes];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** MTH(D[n]) of the entries themselves (each is leaf-hashed first). */
export function merkleTreeHash(entries: readonly Uint8Array[]): Uint8Array {
  return rootFromLeafHashes(entries.map(leafHash));
}

/** Compares two hashes in constant time with respect to their content. */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Throws PROOF_INVALID unless `h` is a 32-byte hash; `what` names it in the message. */
export function requireHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    throw new VerificationError('PROOF_INVALID', `${what} is not a ${HASH_SIZE}-byte hash`);
  }
}
