// Tiles over HTTP: a TileFetcher for a log prefix URL (`<prefix>/checkpoint`, `<prefix>/tile/…`),
// and finding an entry's index by scanning the level-0 tiles. Tiles are not trusted here: callers
// check what they compute against a signed checkpoint.
import { VerificationError } from '../core/index.ts';
import { hashesEqual } from './merkle-hash.ts';
import { TILE_WIDTH, tilesAtLevel } from './tile-path.ts';
import type { TileFetcher } from './tile-reader.ts';
import { readHashTile } from './tile-reader.ts';

export class HttpTileFetcher implements TileFetcher {
  readonly prefix: string;
  readonly #timeoutMs: number;

  /** `prefix` is the URL the tlog-tiles paths are relative to, e.g. http://host:8420/log */
  constructor(prefix: string, options: { timeoutMs?: number } = {}) {
    this.prefix = prefix.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async fetchTile(path: string): Promise<Uint8Array | undefined> {
    let response: Response;
    try {
      response = await fetch(`${this.prefix}/${path}`, { signal: AbortSignal.timeout(this.#timeoutMs), cache: 'no-store' });
    } catch (e) {
      throw new VerificationError('TILE_MISSING', `cannot fetch ${this.prefix}/${path}: ${(e as Error).message}`, { cause: e });
    }
    if (response.status === 404) return undefined;
    if (!response.ok) throw new VerificationError('TILE_MISSING', `${this.prefix}/${path}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }
}

/** The first index whose level-0 hash is `leafHash` in a tree of `size`, or undefined. Reads every level-0 tile. */
export async function findLeafIndex(fetcher: TileFetcher, size: number, leafHash: Uint8Array): Promise<number | undefined> {
  for (const tile of tilesAtLevel(size, 0)) {
    const hashes = await readHashTile(fetcher, tile);
    const at = hashes.findIndex((h) => hashesEqual(h, leafHash));
    if (at >= 0) return tile.index * TILE_WIDTH + at;
  }
  return undefined;
}
