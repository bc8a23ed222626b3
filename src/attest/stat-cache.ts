// A stat cache shared by the materials and products recordings of one step, so that files the
// command did not touch are not read twice.
//
// Why skipping a read is safe: an entry is used only when the file's device, inode, size, mtime
// and ctime (nanoseconds, bigint stat) are all unchanged. Any write, truncate, chmod, rename over
// or utimes on a file sets its ctime to the current time, and ctime cannot be set from user space,
// so an unchanged ctime on the same inode means unchanged content. Two limits remain:
//  - timestamp granularity ("racy git"): the kernel stamps with a coarse clock (a tick of a few
//    ms; 2 s on FAT), so a write right after we hashed could leave every field equal. A file is
//    cached only when its ctime is older than `racyWindowMs` before we started reading it; any
//    later write then stamps a ctime that differs. Handled.
//  - a clock stepped backwards while recording: not handled (git has the same limit).
// Entries are keyed by the file's real directory and name, and remember the hashing options
// (algorithms, line-ending normalization) since those change the digest.
//
// Directory listings are cached the same way: creating, removing or renaming an entry (and so
// turning a file into a symlink or a directory) changes the directory's mtime and ctime, so an
// unchanged directory (dev, ino, mtime, ctime; racy window as above) has the same entries and
// entry types. What a symlink points to is not part of that and is resolved on every walk.
import type { DigestSet } from '../core/index.ts';

export interface CacheEntry {
  /**
   * The file's identity: dev, ino, size, mtimeNs, ctimeNs (the stat fields that must all be
   * unchanged) as five 64-bit integers at `words[at .. at + 10)`, read as 32-bit halves. `words`
   * views the stats array of the hash-job segment the file was hashed in, shared by the
   * segment's files: no array per file.
   */
  readonly words: Int32Array;
  readonly at: number;
  /** Hashing options the digests were made with. */
  readonly variant: string;
  readonly digests: DigestSet;
}

/** An entry the walk records (a file) or enters (a directory), as tree-walk.ts sorts them. */
export interface WalkEntry {
  /** The name, with '/' after a directory's: sorting by it sorts the recorded paths. */
  readonly sortKey: string;
  readonly name: string;
  /** Recorded path of the entry (its key, for a file). */
  readonly key: string;
  readonly isDir: boolean;
}

/** A directory's entries as readdir gave them: names and kinds (KIND_* in tree-walk.ts). */
export interface DirListing {
  /** dev, ino, mtimeNs, ctimeNs of the directory when it was read. */
  readonly identity: BigInt64Array;
  readonly names: readonly string[];
  readonly kinds: Uint8Array;
  /**
   * For a directory without symlinks: the walk's filtered, sorted entries, valid for one
   * context (the directory's recorded path and the exclude patterns).
   */
  walked?: { readonly context: string; readonly entries: readonly WalkEntry[] };
}

export interface StatCacheOptions {
  /** A file changed less than this long before it was read is not cached (default 2000 ms). */
  racyWindowMs?: number;
}

export class StatCache {
  readonly racyWindowNs: bigint;
  readonly #dirs = new Map<string, Map<string, CacheEntry>>();
  readonly #listings = new Map<string, DirListing>();
  #size = 0;
  #hits = 0;

  constructor(options: StatCacheOptions = {}) {
    const ms = options.racyWindowMs ?? 2000;
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('racyWindowMs must be a non-negative number');
    this.racyWindowNs = BigInt(Math.round(ms * 1e6));
  }

  /** Number of cached files. */
  get size(): number {
    return this.#size;
  }

  /** Files whose digests came from the cache instead of being read, over all recordings. */
  get hits(): number {
    return this.#hits;
  }

  clear(): void {
    this.#dirs.clear();
    this.#listings.clear();
    this.#size = 0;
  }

  /** The cached listing of a real directory, to be confirmed against its current stat. */
  listing(realDir: string): DirListing | undefined {
    return this.#listings.get(realDir);
  }

  storeListing(realDir: string, listing: DirListing): void {
    this.#listings.set(realDir, listing);
  }

  forgetListing(realDir: string): void {
    this.#listings.delete(realDir);
  }

  /** The entries of one real directory (looked up once per directory by the walk). */
  directory(realDir: string): ReadonlyMap<string, CacheEntry> | undefined {
    return this.#dirs.get(realDir);
  }

  store(realDir: string, name: string, entry: CacheEntry): void {
    let dir = this.#dirs.get(realDir);
    if (dir === undefined) {
      dir = new Map();
      this.#dirs.set(realDir, dir);
    }
    const before = dir.size;
    dir.set(name, entry);
    this.#size += dir.size - before;
  }

  forget(realDir: string, name: string): void {
    const dir = this.#dirs.get(realDir);
    if (dir?.delete(name) === true) this.#size--;
  }

  countHits(n: number): void {
    this.#hits += n;
  }
}

/** Creates a stat cache to pass as `cache` to the materials and the products recording of one run. */
export function createStatCache(options: StatCacheOptions = {}): StatCache {
  return new StatCache(options);
}
