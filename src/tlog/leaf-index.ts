// In-memory deduplication index of a log's leaves (RFC 6962 leaf hash → log index), built from
// the level-0 hash tiles, which already hold every leaf hash: the tiles are the durable copy,
// this is derived data rebuilt at start-up (≈ 12–24 bytes of memory per entry).
//
// Why not a database table: the leaf hashes are uniformly random keys, so every insert into a
// B-tree of millions of them dirties a different page (one 4 KiB page written per leaf, twice
// with SQLite's WAL), and lookups miss the page cache; measured at 10,000,000 entries this made
// appends 2–3× slower than on a small log (docs/bench-tlog-append.md).
//
// The table keys on 64 bits of the leaf hash; a hit is a candidate that `lookupLeaves` confirms
// against the full hash in the level-0 tile, so a prefix collision never merges two entries. The
// slot comes from a multiply-shift hash with a per-process random multiplier, so entries chosen
// to collide cannot build long probe chains.
import { randomBytes } from 'node:crypto';
import { VerificationError } from '../core/index.ts';
import { hashesEqual } from './merkle-hash.ts';
import { TILE_WIDTH } from './tile-path.ts';
import type { TileFetcher } from './tile-reader.ts';
import { readHashTile } from './tile-reader.ts';

const MAX_BITS = 31;
const MAX_INDEX = 0xfffffffe;

function words(leaf: Uint8Array): [number, number] {
  return [((leaf[0]! << 24) | (leaf[1]! << 16) | (leaf[2]! << 8) | leaf[3]!) >>> 0, ((leaf[4]! << 24) | (leaf[5]! << 16) | (leaf[6]! << 8) | leaf[7]!) >>> 0];
}

/** Open addressing (linear probing) over three parallel typed arrays; several values per key allowed. */
export class LeafIndex {
  #bits: number;
  #k1: Uint32Array;
  #k2: Uint32Array;
  /** Log index + 1; 0 marks an empty slot. */
  #at: Uint32Array;
  #count = 0;
  readonly #a1: number;
  readonly #a2: number;
  /** The log's first `size` entries are indexed. */
  size = 0;

  constructor(initialBits = 12) {
    this.#bits = initialBits;
    this.#k1 = new Uint32Array(1 << initialBits);
    this.#k2 = new Uint32Array(1 << initialBits);
    this.#at = new Uint32Array(1 << initialBits);
    const r = randomBytes(8);
    this.#a1 = r.readUInt32LE(0) | 1;
    this.#a2 = r.readUInt32LE(4) | 1;
  }

  /** Leaves held. */
  get count(): number {
    return this.#count;
  }

  #slot(k1: number, k2: number): number {
    return ((Math.imul(k1, this.#a1) + Math.imul(k2, this.#a2)) | 0) >>> (32 - this.#bits);
  }

  #place(k1: number, k2: number, at: number): void {
    const mask = (1 << this.#bits) - 1;
    let s = this.#slot(k1, k2);
    while (this.#at[s] !== 0) s = (s + 1) & mask;
    this.#k1[s] = k1;
    this.#k2[s] = k2;
    this.#at[s] = at;
  }

  #grow(): void {
    if (this.#bits >= MAX_BITS) throw new VerificationError('LOG_INCONSISTENT', 'the leaf index is full');
    const [k1, k2, at] = [this.#k1, this.#k2, this.#at];
    this.#bits++;
    this.#k1 = new Uint32Array(1 << this.#bits);
    this.#k2 = new Uint32Array(1 << this.#bits);
    this.#at = new Uint32Array(1 << this.#bits);
    for (let s = 0; s < at.length; s++) if (at[s] !== 0) this.#place(k1[s]!, k2[s]!, at[s]!);
  }

  /** Records that the leaf with this hash is at `index` (callers add each log position once). */
  add(leaf: Uint8Array, index: number): void {
    if (index > MAX_INDEX - 1) throw new VerificationError('LOG_INCONSISTENT', 'the leaf index holds at most 2^32 - 2 entries');
    if ((this.#count + 1) * 10 > this.#at.length * 7) this.#grow();
    const [k1, k2] = words(leaf);
    this.#place(k1, k2, index + 1);
    this.#count++;
  }

  /** Log indexes whose leaf hash starts with the same 64 bits (to be confirmed against the tile). */
  candidates(leaf: Uint8Array): number[] {
    const [k1, k2] = words(leaf);
    const mask = (1 << this.#bits) - 1;
    const out: number[] = [];
    for (let s = this.#slot(k1, k2); this.#at[s] !== 0; s = (s + 1) & mask) {
      if (this.#k1[s] === k1 && this.#k2[s] === k2) out.push(this.#at[s]! - 1);
    }
    return out;
  }
}

/** The leaf hash at `index` of a tree of `size` (≥ index + 1), from its level-0 tile. */
async function leafAt(fetcher: TileFetcher, size: number, index: number, cache: Map<number, Uint8Array[]>): Promise<Uint8Array> {
  const tile = Math.floor(index / TILE_WIDTH);
  let hashes = cache.get(tile);
  if (hashes === undefined) {
    hashes = await readHashTile(fetcher, { level: 0, index: tile, width: Math.min(TILE_WIDTH, size - tile * TILE_WIDTH) });
    cache.set(tile, hashes);
  }
  return hashes[index - tile * TILE_WIDTH]!;
}

/** The first index, among the candidates below `below`, whose full leaf hash is `leaf` (tiles read for a tree of `size`). */
async function confirm(index: LeafIndex, fetcher: TileFetcher, size: number, below: number, leaf: Uint8Array, cache: Map<number, Uint8Array[]>): Promise<number | undefined> {
  let found: number | undefined;
  for (const c of index.candidates(leaf)) {
    if (c >= below || (found !== undefined && c > found)) continue;
    if (hashesEqual(await leafAt(fetcher, size, c, cache), leaf)) found = c;
  }
  return found;
}

/**
 * Extends the index from `index.size` to the tree size `size`, reading the level-0 tiles
 * (several at once). An entry the log already holds earlier (a log appended without
 * deduplication) keeps its first index.
 */
export async function indexLeaves(index: LeafIndex, fetcher: TileFetcher, size: number): Promise<void> {
  const cache = new Map<number, Uint8Array[]>();
  const first = Math.floor(index.size / TILE_WIDTH);
  const last = Math.ceil(size / TILE_WIDTH);
  const read = (t: number): Promise<Uint8Array[]> => {
    const tile = readHashTile(fetcher, { level: 0, index: t, width: Math.min(TILE_WIDTH, size - t * TILE_WIDTH) });
    tile.catch(() => undefined); // read ahead: a failure is thrown where it is awaited, not left unhandled
    return tile;
  };
  const ahead: Promise<Uint8Array[]>[] = [];
  for (let t = first; t < Math.min(last, first + 16); t++) ahead.push(read(t));
  for (let t = first; t < last; t++) {
    const hashes = await ahead.shift()!;
    if (t + 16 < last) ahead.push(read(t + 16));
    cache.set(t, hashes);
    cache.delete(t - 1);
    for (let i = Math.max(0, index.size - t * TILE_WIDTH); i < hashes.length; i++) {
      const leaf = hashes[i]!;
      const at = t * TILE_WIDTH + i;
      if (at < index.size) continue; // indexed meanwhile (by a concurrent catch-up)
      // Rare: another leaf with the same 64-bit prefix, or the same entry logged twice.
      if (index.candidates(leaf).length > 0 && (await confirm(index, fetcher, size, at, leaf, cache)) !== undefined) {
        index.size = at + 1;
        continue;
      }
      index.add(leaf, at);
      index.size = at + 1;
    }
  }
  index.size = Math.max(index.size, size);
}

/** Log indexes (hex leaf hash → first index) of the given leaves already in a tree of `size`. */
export async function lookupLeaves(index: LeafIndex, fetcher: TileFetcher, size: number, leaves: readonly Uint8Array[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const cache = new Map<number, Uint8Array[]>();
  for (const leaf of leaves) {
    if (index.candidates(leaf).length === 0) continue;
    const at = await confirm(index, fetcher, size, size, leaf, cache);
    if (at !== undefined) found.set(Buffer.from(leaf.buffer, leaf.byteOffset, leaf.length).toString('hex'), at);
  }
  return found;
}
