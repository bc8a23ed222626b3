// C2SP tlog-tiles tile maths, pure: tile and entry-bundle paths, which tiles a tree of a given
// size has, and which tile holds a given Merkle tree node. No I/O here (STYLE.md §6).
import { InputError } from '../core/index.ts';

/** tlog-tiles: tiles are subtrees of height 8, so a full tile holds 256 hashes. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

/** A tile of hashes: `level` L holds nodes of tree height 8·L; `width` is 1..256 (256 = full). */
export interface Tile {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

/** An entry bundle: the entries of level-0 tile `index`, `width` of them (256 = full). */
export interface EntryBundle {
  readonly index: number;
  readonly width: number;
}

export type ParsedTilePath = { kind: 'tile'; tile: Tile } | { kind: 'entries'; bundle: EntryBundle };

/** tlog-tiles: `<L>` is 0..63. (Tree sizes here are below 2^53, so levels above 6 stay empty.) */
const MAX_LEVEL = 63;

function requireIndex(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new InputError('INPUT_INVALID', `${what} must be a non-negative safe integer`);
}

function requireWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new InputError('INPUT_INVALID', `tile width must be 1..${TILE_WIDTH}, got ${String(width)}`);
  }
}

/** 256^level as an exact number (level ≤ 6 keeps it below 2^53). */
function pow256(level: number): number {
  return 256 ** level;
}

/**
 * tlog-tiles: N as zero-padded 3-digit path elements, all but the last prefixed with `x`:
 * 1234067 → `x001/x234/067`, 5 → `005`.
 */
export function formatTileIndex(n: number): string {
  requireIndex(n, 'tile index');
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function widthSuffix(width: number): string {
  requireWidth(width);
  // tlog-tiles: the `.p/<W>` suffix is present only for partial tiles.
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]` */
export function tilePath(tile: Tile): string {
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > MAX_LEVEL) {
    throw new InputError('INPUT_INVALID', `tile level must be 0..${MAX_LEVEL}`);
  }
  return `tile/${tile.level}/${formatTileIndex(tile.index)}${widthSuffix(tile.width)}`;
}

/** `tile/entries/<N>[.p/<W>]` */
export function entryBundlePath(bundle: EntryBundle): string {
  return `tile/entries/${formatTileIndex(bundle.index)}${widthSuffix(bundle.width)}`;
}

const TILE_PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses a tile or entry-bundle path strictly (the exact form `tilePath` writes): no leading
 * zeros in L or W, 3-digit groups, `x` on all groups but the last, no redundant leading `x000`
 * group, W below 256. Returns undefined for anything else.
 */
export function parseTilePath(path: string): ParsedTilePath | undefined {
  const m = TILE_PATH.exec(path);
  if (m === null) return undefined;
  const [, levelText, indexText, widthText] = m;
  const groups = indexText!.split('/').map((g) => g.replace(/^x/, ''));
  if (groups.length > 1 && groups[0] === '000') return undefined; // one spelling per index
  const index = Number(groups.join(''));
  if (!Number.isSafeInteger(index)) return undefined;
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (widthText !== undefined && width >= TILE_WIDTH) return undefined; // partial widths are 1..255
  if (levelText === 'entries') return { kind: 'entries', bundle: { index, width } };
  const level = Number(levelText);
  if (level > MAX_LEVEL) return undefined;
  return { kind: 'tile', tile: { level, index, width } };
}

/**
 * The width of tile `index` at `level` in a tree of `size` leaves: 256 for a full tile, 1..255
 * for the partial tile (tlog-tiles: floor(s / 256^l) mod 256 entries), 0 if the tree has no
 * such tile.
 */
export function tileWidth(size: number, level: number, index: number): number {
  requireIndex(size, 'tree size');
  requireIndex(index, 'tile index');
  const nodes = Math.floor(size / pow256(level)); // hashes at this level
  const before = index * TILE_WIDTH;
  if (nodes <= before) return 0;
  return Math.min(TILE_WIDTH, nodes - before);
}

/** The entry bundle width for bundle `index` in a tree of `size` leaves (0 = no such bundle). */
export function entryBundleWidth(size: number, index: number): number {
  return tileWidth(size, 0, index);
}

/** Number of tile levels a tree of `size` has (levels with at least one hash). */
export function tileLevels(size: number): number {
  requireIndex(size, 'tree size');
  let levels = 0;
  while (Math.floor(size / pow256(levels)) > 0) levels++;
  return levels;
}

/**
 * The partial tiles of a tree of `size` leaves, lowest level first: one per level whose width
 * floor(size / 256^l) mod 256 is not zero. These (with the full tiles) must be served for every
 * published checkpoint.
 */
export function partialTiles(size: number): Tile[] {
  const tiles: Tile[] = [];
  for (let level = 0; level < tileLevels(size); level++) {
    const nodes = Math.floor(size / pow256(level));
    const width = nodes % TILE_WIDTH;
    if (width > 0) tiles.push({ level, index: (nodes - width) / TILE_WIDTH, width });
  }
  return tiles;
}

/** Every tile (full and partial) of a tree of `size` leaves at `level`, in index order. */
export function tilesAtLevel(size: number, level: number): Tile[] {
  const nodes = Math.floor(size / pow256(level));
  const tiles: Tile[] = [];
  for (let index = 0; index * TILE_WIDTH < nodes; index++) {
    tiles.push({ level, index, width: Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH) });
  }
  return tiles;
}

/** Where a complete Merkle node lives: which tile, and which run of its hashes to combine. */
export interface NodeLocation {
  readonly tile: Tile;
  /** First hash of the tile under the node. */
  readonly offset: number;
  /** Number of tile hashes under the node (2^(height mod 8)). */
  readonly count: number;
}

/**
 * The tile holding complete node (height `level`, `index`) in a tree of `size` leaves. A node at
 * height h is the hash of 2^(h mod 8) consecutive hashes of a tile at level floor(h / 8); the
 * tile's width is what the tree of `size` has. Throws if the node is not complete in that tree.
 */
export function nodeLocation(size: number, level: number, index: number): NodeLocation {
  requireIndex(index, 'node index');
  if (!Number.isInteger(level) || level < 0 || level > 53) throw new InputError('INPUT_INVALID', 'node level out of range');
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const count = 2 ** (level % TILE_HEIGHT);
  const first = index * count; // first hash at height 8·tileLevel under the node
  const tileIndex = Math.floor(first / TILE_WIDTH);
  const width = tileWidth(size, tileLevel, tileIndex);
  const offset = first - tileIndex * TILE_WIDTH;
  if (offset + count > width) {
    throw new InputError('INPUT_INVALID', `node ${level}/${index} is not complete in a tree of size ${size}`);
  }
  return { tile: { level: tileLevel, index: tileIndex, width }, offset, count };
}
