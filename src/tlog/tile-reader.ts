// Reading a tiled log through an injected TileFetcher: hash tiles and entry bundles (with the
// tlog-tiles fallback from a vanished partial tile to the full one), a HashReader over tiles,
// and proofs computed from tiles and checked against a trusted root.
import { VerificationError } from '../core/index.ts';
import { nodeHash } from './merkle-hash.ts';
import type { HashReader, NodeId } from './merkle-proof.ts';
import { consistencyProof, inclusionProof, verifyConsistency, verifyInclusion } from './merkle-proof.ts';
import { decodeEntryBundle, decodeHashTile } from './tile-codec.ts';
import type { EntryBundle, Tile } from './tile-path.ts';
import { entryBundlePath, entryBundleWidth, nodeLocation, TILE_WIDTH, tilePath } from './tile-path.ts';

/**
 * Where tiles come from: a directory, an HTTP prefix, memory. `path` is relative to the log's
 * prefix (`tile/0/000`, `tile/entries/x001/234.p/7`, `checkpoint`). Resolves undefined when the
 * resource does not exist (HTTP 404, ENOENT); rejects on any other failure.
 */
export interface TileFetcher {
  fetchTile(path: string): Promise<Uint8Array | undefined>;
}

async function fetchWithFallback(fetcher: TileFetcher, partialPath: string, fullPath: string, partial: boolean) {
  const data = await fetcher.fetchTile(partial ? partialPath : fullPath);
  if (data !== undefined) return { data, fromFull: !partial };
  // tlog-tiles: a log MAY delete a partial tile once the full tile exists; clients may use the
  // full tile instead (its first W hashes are the partial tile's).
  if (partial) {
    const full = await fetcher.fetchTile(fullPath);
    if (full !== undefined) return { data: full, fromFull: true };
  }
  throw new VerificationError('TILE_MISSING', `${partialPath} is not available`);
}

/** Reads the hashes of a tile; a missing partial tile falls back to the full tile. */
export async function readHashTile(fetcher: TileFetcher, tile: Tile): Promise<Uint8Array[]> {
  const full = tilePath({ ...tile, width: TILE_WIDTH });
  const { data, fromFull } = await fetchWithFallback(fetcher, tilePath(tile), full, tile.width < TILE_WIDTH);
  try {
    return decodeHashTile(data, tile.width, { allowLonger: fromFull });
  } catch (e) {
    throw new VerificationError('TILE_INVALID', `${tilePath(tile)}: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads the entries of an entry bundle; a missing partial bundle falls back to the full one. */
export async function readEntryBundle(fetcher: TileFetcher, bundle: EntryBundle): Promise<Uint8Array[]> {
  const full = entryBundlePath({ ...bundle, width: TILE_WIDTH });
  const { data, fromFull } = await fetchWithFallback(fetcher, entryBundlePath(bundle), full, bundle.width < TILE_WIDTH);
  try {
    return decodeEntryBundle(data, bundle.width, { allowLonger: fromFull });
  } catch (e) {
    throw new VerificationError('TILE_INVALID', `${entryBundlePath(bundle)}: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads entry `index` of a tree of `size` leaves from its bundle (not authenticated by itself). */
export async function readEntry(fetcher: TileFetcher, size: number, index: number): Promise<Uint8Array> {
  const bundleIndex = Math.floor(index / TILE_WIDTH);
  const width = entryBundleWidth(size, bundleIndex);
  const offset = index - bundleIndex * TILE_WIDTH;
  if (offset >= width) throw new VerificationError('TILE_MISSING', `entry ${index} is not in a tree of size ${size}`);
  const entries = await readEntryBundle(fetcher, { index: bundleIndex, width });
  return entries[offset]!;
}

export interface TileHashReaderOptions {
  /** How many decoded tiles to keep (tiles at a given width never change). Default 1024. */
  readonly cacheTiles?: number;
}

/**
 * The hashes of one tile and, computed on demand, the complete subtrees above them inside the
 * tile: `levels[k][j]` is the node of height k (relative to the tile) over hashes j·2^k … (j+1)·2^k − 1.
 * A level is computed whole, once: proofs for many leaves under one tile (a batch) then cost about
 * one node hash per leaf, and a single proof costs no more than hashing its runs separately.
 */
class TileLevels {
  readonly levels: Uint8Array[][];
  constructor(hashes: Uint8Array[]) {
    this.levels = [hashes];
  }
  node(height: number, offset: number): Uint8Array {
    while (this.levels.length <= height) {
      const below = this.levels[this.levels.length - 1]!;
      const next: Uint8Array[] = new Array<Uint8Array>(below.length >>> 1);
      for (let j = 0; j < next.length; j++) next[j] = nodeHash(below[2 * j]!, below[2 * j + 1]!);
      this.levels.push(next);
    }
    return this.levels[height]![offset >>> height]!;
  }
}

/**
 * A HashReader for the tree of `size` leaves, backed by tiles. Tiles are not authenticated
 * here: check results against a signed root (as proveInclusion/proveConsistency do).
 */
export class TileHashReader implements HashReader {
  readonly size: number;
  readonly #fetcher: TileFetcher;
  readonly #cache = new Map<string, Promise<TileLevels>>();
  readonly #cacheLimit: number;

  constructor(size: number, fetcher: TileFetcher, options: TileHashReaderOptions = {}) {
    this.size = size;
    this.#fetcher = fetcher;
    this.#cacheLimit = options.cacheTiles ?? 1024;
  }

  #tile(tile: Tile): Promise<TileLevels> {
    const key = tilePath(tile);
    let pending = this.#cache.get(key);
    if (pending === undefined) {
      pending = readHashTile(this.#fetcher, tile).then((hashes) => new TileLevels(hashes));
      this.#cache.set(key, pending);
      pending.catch(() => this.#cache.delete(key));
      if (this.#cache.size > this.#cacheLimit) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return pending;
  }

  async readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
    const locations = nodes.map((n) => nodeLocation(this.size, n.level, n.index));
    const tiles = await Promise.all(locations.map((loc) => this.#tile(loc.tile)));
    // nodeLocation gives runs of 2^(level mod 8) hashes at an offset that is a multiple of the run.
    return locations.map((loc, i) => tiles[i]!.node(Math.log2(loc.count), loc.offset));
  }
}

/** A tree head: size and root hash (from a verified checkpoint). */
export interface TreeHead {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/**
 * The inclusion proof of leaf `index` in `head`, with the leaf hash the tiles hold, both computed
 * from tiles and verified against the head's root: a tampered or inconsistent tile surfaces as
 * TILE_INVALID, never as a bad proof. Compare `leafHash` with the entry you expect.
 */
export async function proveInclusion(
  fetcher: TileFetcher,
  head: TreeHead,
  index: number,
): Promise<{ leafHash: Uint8Array; proof: Uint8Array[] }> {
  const reader = new TileHashReader(head.size, fetcher);
  const [leafHash, proof] = await Promise.all([
    reader.readHashes([{ level: 0, index }]).then((h) => h[0]!),
    inclusionProof(index, head.size, reader),
  ]);
  try {
    verifyInclusion(index, head.size, leafHash, proof, head.rootHash);
  } catch (e) {
    throw new VerificationError('TILE_INVALID', `tiles do not match the tree head of size ${head.size}`, { cause: e });
  }
  return { leafHash, proof };
}

/** The consistency proof from `older` to `newer`, computed from the newer tree's tiles and verified. */
export async function proveConsistency(fetcher: TileFetcher, older: TreeHead, newer: TreeHead): Promise<Uint8Array[]> {
  const proof = await consistencyProof(older.size, newer.size, new TileHashReader(newer.size, fetcher));
  try {
    verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash);
  } catch (e) {
    throw new VerificationError('LOG_INCONSISTENT', `tree of size ${newer.size} is not consistent with size ${older.size}`, { cause: e });
  }
  return proof;
}
