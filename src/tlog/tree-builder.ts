// Incremental tree building for a tiled log ("integrate"): from the right edge of a tree (its
// partial tiles and partial entry bundle) and new entries, produce every new or changed tile,
// the new edge and the new root. Pure; loading the edge goes through a TileFetcher.
import { InputError, VerificationError } from '../core/index.ts';
import { emptyRoot, hashesEqual, leafHash, nodeHash, rootFromLeafHashes } from './merkle-hash.ts';
import { encodeEntryBundle, encodeHashTile, requireBundleableEntry } from './tile-codec.ts';
import { entryBundlePath, partialTiles, TILE_WIDTH, tileLevels, tilePath } from './tile-path.ts';
import type { TileFetcher } from './tile-reader.ts';
import { readEntryBundle, readHashTile } from './tile-reader.ts';

/**
 * The right edge of a tree of `size` leaves: all that integrating more entries needs.
 * `tiles[L]` holds the hashes of the partial tile at level L (floor(size / 256^L) mod 256 of
 * them; an empty list when that level has no partial tile). `bundle` holds the entries of the
 * partial entry bundle (size mod 256 of them) when the log keeps entry bundles.
 */
export interface TreeEdge {
  readonly size: number;
  readonly tiles: readonly (readonly Uint8Array[])[];
  readonly bundle?: readonly Uint8Array[];
}

/** The edge of the empty tree. */
export const EMPTY_EDGE: TreeEdge = { size: 0, tiles: [], bundle: [] };

/** A tile or entry bundle to store at `path` (relative to the log prefix). */
export interface TileWrite {
  readonly path: string;
  readonly data: Uint8Array;
  /** Full tiles and bundles never change; partial ones are superseded by wider ones. */
  readonly full: boolean;
}

export interface IntegrateResult {
  readonly edge: TreeEdge;
  readonly root: Uint8Array;
  /** Index of the first integrated entry (the old size). */
  readonly firstIndex: number;
  readonly leafHashes: readonly Uint8Array[];
  /** Entry bundles first, then hash tiles by level; full ones before the final partial ones. */
  readonly tiles: readonly TileWrite[];
}

function checkEdge(edge: TreeEdge): void {
  if (!Number.isSafeInteger(edge.size) || edge.size < 0) throw new InputError('INPUT_INVALID', 'tree edge size is invalid');
  const levels = Math.max(tileLevels(edge.size), edge.tiles.length);
  for (let level = 0; level < levels; level++) {
    const want = Math.floor(edge.size / TILE_WIDTH ** level) % TILE_WIDTH;
    if ((edge.tiles[level]?.length ?? 0) !== want) {
      throw new InputError('INPUT_INVALID', `tree edge level ${level} has ${edge.tiles[level]?.length ?? 0} hashes, want ${want}`);
    }
  }
  if (edge.bundle !== undefined && edge.bundle.length !== edge.size % TILE_WIDTH) {
    throw new InputError('INPUT_INVALID', 'tree edge bundle does not match its size');
  }
}

/**
 * The root hash of the tree an edge describes. The complete subtrees of a tree of size s are
 * given by the binary digits of s; digit 8·L+b is bit b of the level-L partial tile's width, and
 * that subtree hashes 2^b consecutive hashes of the partial tile. RFC 6962's MTH folds them
 * right to left.
 */
export function edgeRoot(edge: TreeEdge): Uint8Array {
  const subtrees: Uint8Array[] = [];
  for (let level = edge.tiles.length - 1; level >= 0; level--) {
    const hashes = edge.tiles[level]!;
    let offset = 0;
    for (let bit = 7; bit >= 0; bit--) {
      const count = 1 << bit;
      if ((hashes.length & count) === 0) continue;
      subtrees.push(rootFromLeafHashes(hashes.slice(offset, offset + count)));
      offset += count;
    }
  }
  if (subtrees.length === 0) return emptyRoot();
  let root = subtrees[subtrees.length - 1]!;
  for (let i = subtrees.length - 2; i >= 0; i--) root = nodeHash(subtrees[i]!, root);
  return root;
}

function integrateInternal(edge: TreeEdge, leafHashes: readonly Uint8Array[], entries: readonly Uint8Array[] | undefined): IntegrateResult {
  checkEdge(edge);
  const tiles = edge.tiles.map((t) => [...t]);
  let bundle = entries === undefined ? undefined : [...(edge.bundle ?? [])];
  if (entries !== undefined && edge.bundle === undefined && edge.size % TILE_WIDTH !== 0) {
    throw new InputError('INPUT_INVALID', 'the tree edge lacks its partial entry bundle');
  }
  const touched = new Set<number>();
  const hashWrites: TileWrite[] = [];
  const bundleWrites: TileWrite[] = [];
  let size = edge.size;
  for (let i = 0; i < leafHashes.length; i++) {
    let node = leafHashes[i]!;
    let nodeIndex = size; // index of `node` among the nodes of its height
    for (let level = 0; ; level++) {
      const tile = (tiles[level] ??= []);
      tile.push(node);
      touched.add(level);
      if (tile.length < TILE_WIDTH) break;
      // tlog-tiles: a full tile's Merkle Tree Hash is the next hash in the level above.
      hashWrites.push({ path: tilePath({ level, index: Math.floor(nodeIndex / TILE_WIDTH), width: TILE_WIDTH }), data: encodeHashTile(tile), full: true });
      node = rootFromLeafHashes(tile);
      tiles[level] = [];
      touched.delete(level);
      nodeIndex = Math.floor(nodeIndex / TILE_WIDTH);
    }
    if (bundle !== undefined) {
      bundle.push(entries![i]!);
      if (bundle.length === TILE_WIDTH) {
        bundleWrites.push({ path: entryBundlePath({ index: Math.floor(size / TILE_WIDTH), width: TILE_WIDTH }), data: encodeEntryBundle(bundle), full: true });
        bundle = [];
      }
    }
    size++;
  }
  for (const level of [...touched].sort((a, b) => a - b)) {
    const hashes = tiles[level]!;
    const index = Math.floor(Math.floor(size / TILE_WIDTH ** level) / TILE_WIDTH);
    hashWrites.push({ path: tilePath({ level, index, width: hashes.length }), data: encodeHashTile(hashes), full: false });
  }
  if (bundle !== undefined && bundle.length > 0 && leafHashes.length > 0) {
    bundleWrites.push({ path: entryBundlePath({ index: Math.floor(size / TILE_WIDTH), width: bundle.length }), data: encodeEntryBundle(bundle), full: false });
  }
  // Levels above the last non-empty one would be empty anyway; keep the array tight.
  while (tiles.length > 0 && tiles[tiles.length - 1]!.length === 0) tiles.pop();
  const newEdge: TreeEdge = bundle === undefined ? { size, tiles } : { size, tiles, bundle };
  return {
    edge: newEdge,
    root: edgeRoot(newEdge),
    firstIndex: edge.size,
    leafHashes,
    tiles: [...bundleWrites, ...hashWrites.filter((w) => w.full), ...hashWrites.filter((w) => !w.full)],
  };
}

/**
 * Appends `entries` (in order) to the tree at `edge`: new full tiles and bundles, the new
 * partial tiles and bundle, the new edge and root. The edge must carry its partial bundle.
 */
export function integrate(edge: TreeEdge, entries: readonly Uint8Array[]): IntegrateResult {
  entries.forEach((e, i) => requireBundleableEntry(e, `entry ${i}`));
  return integrateInternal(edge, entries.map(leafHash), entries);
}

/** Like integrate, for a log whose entries are kept elsewhere: hash tiles only, no bundles. */
export function integrateLeafHashes(edge: TreeEdge, leafHashes: readonly Uint8Array[]): IntegrateResult {
  leafHashes.forEach((h, i) => {
    if (h.length !== 32) throw new InputError('INPUT_INVALID', `leaf hash ${i} is not 32 bytes`);
  });
  const { bundle: _ignored, ...hashOnly } = edge;
  return integrateInternal(hashOnly, leafHashes, undefined);
}

/**
 * Loads the edge of the tree of `size` leaves from its partial tiles (and partial entry bundle
 * with `entries`). With `rootHash`, checks that the tiles give that root (TILE_INVALID if not),
 * so a builder never extends a tampered tree.
 */
export async function loadTreeEdge(
  fetcher: TileFetcher,
  size: number,
  options: { entries?: boolean; rootHash?: Uint8Array } = {},
): Promise<TreeEdge> {
  const tiles: Uint8Array[][] = [];
  for (let level = 0; level < tileLevels(size); level++) tiles.push([]);
  await Promise.all(
    partialTiles(size).map(async (tile) => {
      tiles[tile.level] = await readHashTile(fetcher, tile);
    }),
  );
  while (tiles.length > 0 && tiles[tiles.length - 1]!.length === 0) tiles.pop();
  let edge: TreeEdge = { size, tiles };
  if (options.entries === true) {
    const width = size % TILE_WIDTH;
    const bundle = width === 0 ? [] : await readEntryBundle(fetcher, { index: Math.floor(size / TILE_WIDTH), width });
    // Each entry of the partial bundle must hash to its level-0 tile hash.
    bundle.forEach((entry, i) => {
      if (!hashesEqual(leafHash(entry), tiles[0]![i]!)) {
        throw new VerificationError('TILE_INVALID', `entry ${size - width + i} does not match its level-0 tile hash`);
      }
    });
    edge = { size, tiles, bundle };
  }
  if (options.rootHash !== undefined && !hashesEqual(edgeRoot(edge), options.rootHash)) {
    throw new VerificationError('TILE_INVALID', `the partial tiles of size ${size} do not give the checkpoint's root hash`);
  }
  return edge;
}
