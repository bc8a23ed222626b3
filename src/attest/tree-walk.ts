// The directory walk of the tree hasher: which files in-toto would record under the given paths,
// found depth-first with each directory's entries in code point order of their recorded paths (a
// directory sorts as "name/"), so the keys come out already sorted. Every file found goes to a
// sink (the hash job) as a real directory + name, plus the stat-cache entry to re-check.
//
// in-toto semantics kept (runlib.record_artifacts_as_dict + os.walk): exclude patterns apply to
// every path including directories (an excluded directory is not entered); symlinks to files
// are recorded under the link's path with the target's content; symlinked directories are
// entered only when following is on; dangling symlinks, FIFOs, sockets and devices are skipped.
// Stricter than in-toto: see tree-hasher.ts.
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { InputError } from '../core/index.ts';
import { compareCodePoints } from '../core/index.ts';
import { childPath, leftStrip } from './artifact-paths.ts';
import type { ExcludeMatcher } from './exclude-patterns.ts';
import type { CacheEntry, DirListing, StatCache, WalkEntry } from './stat-cache.ts';

export interface FileSink {
  /**
   * Takes file `name` of real directory `dir`; returns its index (0, 1, 2, ... in call order).
   * `expect`: the cache entry whose identity is to be re-checked.
   */
  add(dir: string, name: string, expect?: CacheEntry): number;
}

export interface WalkOptions {
  excluded: ExcludeMatcher;
  lstripPaths: readonly string[];
  followSymlinkDirs: boolean;
  skipOutside: boolean;
  cache: StatCache | undefined;
  /** The hashing variant cache entries must have been made with. */
  variant: string;
}

/** A directory to walk. */
interface DirTask {
  /** Recorded path ('.' for the base path itself). */
  rel: string;
  /** Real path (no symlinks): where its entries are read and its files opened. */
  real: string;
  parent: DirTask | null;
}

/** A directory entry to record or enter; `real` is a symlink's resolved target (null otherwise). */
interface Item extends WalkEntry {
  real: string | null;
}

interface Frame {
  task: DirTask;
  items: readonly Item[];
  pos: number;
  cached: ReadonlyMap<string, CacheEntry> | undefined;
}

/** Errors that mean "nothing there": in-toto skips such paths and dangling symlinks. */
const DANGLING = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

function errnoCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EIO';
}

function unreadable(path: string, e: unknown): InputError {
  return new InputError('FILE_UNREADABLE', `cannot read ${JSON.stringify(path)}: ${errnoCode(e)}`, { cause: e });
}

function joinReal(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function splitReal(real: string): [string, string] {
  const slash = real.lastIndexOf('/');
  return [slash === 0 ? '/' : real.slice(0, slash), real.slice(slash + 1)];
}

const KIND_FILE = 0;
const KIND_DIR = 1;
const KIND_SYMLINK = 2;
const KIND_OTHER = 3;

/** readdir with entry kinds (d_type; Node lstat()s entries whose type the file system does not give). */
function listDir(real: string): { names: string[]; kinds: Uint8Array } {
  const entries = readdirSync(real, { withFileTypes: true });
  const names = new Array<string>(entries.length);
  const kinds = new Uint8Array(entries.length);
  entries.forEach((entry, i) => {
    names[i] = entry.name;
    kinds[i] = entry.isFile() ? KIND_FILE : entry.isDirectory() ? KIND_DIR : entry.isSymbolicLink() ? KIND_SYMLINK : KIND_OTHER;
  });
  return { names, kinds };
}

function byKey(a: Item, b: Item): number {
  return compareCodePoints(a.sortKey, b.sortKey);
}

export class TreeWalk {
  readonly #realBase: string;
  readonly #top: string[];
  readonly #sink: FileSink;
  readonly #options: WalkOptions;
  /** Keys are checked as files come: with lstrip prefixes, or given paths that may overlap. */
  readonly #checkKeys: boolean;
  readonly #frames: Frame[] = [];
  /** Per file index: its key, and the cache entry it was checked against. */
  readonly #keys: string[] = [];
  readonly #fileEntry: (CacheEntry | undefined)[] = [];
  readonly #seen = new Set<string>();

  /** `topLevel`: normalized given paths, not excluded, without duplicates. */
  constructor(realBase: string, topLevel: readonly string[], sink: FileSink, options: WalkOptions) {
    this.#realBase = realBase;
    this.#top = [...topLevel];
    this.#sink = sink;
    this.#options = options;
    this.#checkKeys = options.lstripPaths.length > 0 || topLevel.length > 1;
  }

  /** Keys come in code point order (one given path, nothing stripped): the depth-first order is sorted. */
  get keysSorted(): boolean {
    return !this.#checkKeys;
  }

  /** The recorded key of file `index`. */
  key(index: number): string {
    return this.#keys[index]!;
  }

  /** The cache entry file `index` was checked against, if any. */
  cacheEntry(index: number): CacheEntry | undefined {
    return this.#fileEntry[index];
  }

  /** Walks on until `budget` directories were read; false once the walk is complete. */
  step(budget: number): boolean {
    let opened = 0;
    while (opened < budget) {
      const frame = this.#frames[this.#frames.length - 1];
      if (frame === undefined) {
        const top = this.#top.shift();
        if (top === undefined) return false;
        if (this.#addGiven(top)) opened++;
        continue;
      }
      const item = frame.items[frame.pos++];
      if (item === undefined) {
        this.#frames.pop();
      } else if (item.isDir) {
        const task = frame.task;
        this.#enter({ rel: item.key, real: item.real ?? joinReal(task.real, item.name), parent: task });
        opened++;
      } else if (item.real === null) {
        this.#addFile(item.key, frame.task.real, item.name, frame.cached?.get(item.name));
      } else {
        this.#addReal(item.key, item.real);
      }
    }
    return true;
  }

  /** A given path: a file is recorded, a directory walked (even a symlinked one, as os.walk does). */
  #addGiven(path: string): boolean {
    const full = path === '.' ? this.#realBase : joinReal(this.#realBase, path);
    let st;
    let real;
    try {
      st = statSync(full);
      real = realpathSync.native(full);
    } catch (e) {
      // in-toto: "path: ... does not exist, skipping".
      if (DANGLING.has(errnoCode(e))) return false;
      throw unreadable(path, e);
    }
    if (!this.#inside(path, real)) return false;
    if (st.isFile()) {
      this.#addReal(path, real);
      return false;
    }
    if (!st.isDirectory()) return false;
    this.#enter({ rel: path, real, parent: null });
    return true;
  }

  /**
   * A directory's entries, from the stat cache when the directory is unchanged; `listing` is
   * the cached listing (null without a cache, or for a directory changed too recently).
   */
  #list(task: DirTask): { names: readonly string[]; kinds: Uint8Array; listing: DirListing | null } {
    const cache = this.#options.cache;
    try {
      if (cache === undefined) return { ...listDir(task.real), listing: null };
      const st = lstatSync(task.real, { bigint: true });
      const cached = cache.listing(task.real);
      const id = cached?.identity;
      if (id !== undefined && id[0] === st.dev && id[1] === st.ino && id[2] === st.mtimeNs && id[3] === st.ctimeNs) {
        return { names: cached!.names, kinds: cached!.kinds, listing: cached! };
      }
      const readStartNs = BigInt(Date.now()) * 1_000_000n;
      const fresh = listDir(task.real);
      // Racy window as for files (stat-cache.ts): a directory changed just now is not cached.
      if (st.ctimeNs + cache.racyWindowNs >= readStartNs) {
        cache.forgetListing(task.real);
        return { ...fresh, listing: null };
      }
      const listing: DirListing = { identity: BigInt64Array.of(st.dev, st.ino, st.mtimeNs, st.ctimeNs), ...fresh };
      cache.storeListing(task.real, listing);
      return { ...fresh, listing };
    } catch (e) {
      throw unreadable(task.rel, e);
    }
  }

  #enter(task: DirTask): void {
    const { names, kinds, listing } = this.#list(task);
    const cachedEntries = this.#options.cache?.directory(task.real);
    // An unchanged directory without symlinks walked in the same context: reuse its entries.
    const context = listing === null ? '' : `${task.rel}\0${this.#options.excluded.fingerprint}`;
    if (listing?.walked !== undefined && listing.walked.context === context) {
      this.#frames.push({ task, items: listing.walked.entries as readonly Item[], pos: 0, cached: cachedEntries });
      return;
    }
    const items: Item[] = [];
    let rawNames: Buffer[] | null = null;
    let symlinks = false;
    const { excluded } = this.#options;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (excluded.child(task.rel, name)) continue;
      const key = childPath(task.rel, name);
      let item: Item | null;
      switch (kinds[i]) {
        case KIND_FILE:
          item = { sortKey: name, name, key, isDir: false, real: null };
          break;
        case KIND_DIR:
          item = { sortKey: `${name}/`, name, key, isDir: true, real: null };
          break;
        case KIND_SYMLINK:
          symlinks = true;
          item = this.#symlink(task, name, key);
          break;
        default:
          item = null; // FIFO, socket, device: in-toto's os.path.isfile() is false
      }
      if (item === null) continue;
      // Only names that are recorded or entered are checked.
      if (name.includes('\\')) throw new InputError('PATH_INVALID', `file name contains a backslash: ${JSON.stringify(key)}`);
      if (name.includes('\uFFFD')) {
        // readdir decodes bytes that are not UTF-8 as U+FFFD: such a name cannot be recorded.
        rawNames ??= readdirSync(task.real, { encoding: 'buffer' });
        const bytes = Buffer.from(name);
        if (!rawNames.some((raw) => raw.equals(bytes) && isUtf8(raw))) {
          throw new InputError('PATH_INVALID', `file name is not valid UTF-8: ${JSON.stringify(key)}`);
        }
      }
      items.push(item);
    }
    items.sort(byKey);
    // What a symlink points to can change without the directory changing: never reused.
    if (listing !== null && !symlinks) listing.walked = { context, entries: items };
    this.#frames.push({ task, items, pos: 0, cached: cachedEntries });
  }

  #symlink(parent: DirTask, name: string, rel: string): Item | null {
    const link = joinReal(parent.real, name);
    let st;
    let real;
    try {
      st = statSync(link);
      // in-toto's os.walk lists a symlinked directory among the directories, never as a file.
      if (st.isDirectory() && !this.#options.followSymlinkDirs) return null;
      if (!st.isFile() && !st.isDirectory()) return null;
      real = realpathSync.native(link);
    } catch (e) {
      if (DANGLING.has(errnoCode(e))) return null; // dangling: in-toto skips it as a broken symlink
      throw unreadable(rel, e);
    }
    if (!this.#inside(rel, real)) return null;
    if (st.isFile()) return { sortKey: name, name, key: rel, isDir: false, real };
    for (let d: DirTask | null = parent; d !== null; d = d.parent) {
      if (d.real === real) {
        throw new InputError('SYMLINK_LOOP', `symlink ${JSON.stringify(rel)} leads back to ${JSON.stringify(d.rel)}`);
      }
    }
    return { sortKey: `${name}/`, name, key: rel, isDir: true, real };
  }

  /** Whether a resolved path is inside the base path; outside is an error, or a skip when asked. */
  #inside(rel: string, real: string): boolean {
    const base = this.#realBase;
    if (real === base || real.startsWith(base === '/' ? '/' : `${base}/`)) return true;
    if (this.#options.skipOutside) return false;
    throw new InputError('PATH_OUTSIDE_BASE', `${JSON.stringify(rel)} resolves outside the base path (to ${real})`);
  }

  /** Records a file reached through a symlink or given by path: `real` is where it really is. */
  #addReal(key: string, real: string): void {
    const [realDir, realName] = splitReal(real);
    this.#addFile(key, realDir, realName, this.#options.cache?.directory(realDir)?.get(realName));
  }

  /** Records file `realName` of real directory `realDir` under `key`. */
  #addFile(key: string, realDir: string, realName: string, entry: CacheEntry | undefined): void {
    if (this.#checkKeys) {
      const lstrip = this.#options.lstripPaths;
      const stripped = lstrip.length > 0 ? leftStrip(key, lstrip) : key;
      if (this.#seen.has(stripped)) {
        // in-toto overwrites a key recorded twice, but with --lstrip-paths raises PrefixError.
        if (lstrip.length > 0) throw new InputError('PATH_CONFLICT', `left-stripping makes ${JSON.stringify(stripped)} ambiguous`);
        return;
      }
      this.#seen.add(stripped);
      key = stripped;
    }
    const { cache, variant } = this.#options;
    const usable = entry !== undefined && entry.variant === variant ? entry : undefined;
    const index = this.#keys.length;
    this.#keys.push(key);
    if (cache !== undefined) this.#fileEntry.push(usable);
    if (this.#sink.add(realDir, realName, usable) !== index) throw new Error('walk and hash job out of step');
  }
}
