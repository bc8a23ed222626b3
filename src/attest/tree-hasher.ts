// Records artifacts (materials or products) as in-toto 1.3.1 does (runlib.record_artifacts_as_dict,
// with follow_symlink_dirs=True as in-toto-run passes it): normalized relative path → DigestSet for
// every regular file under the given paths, minus excluded ones. The walk (tree-walk.ts) runs on
// the main thread; files are hashed by a pool of worker threads (hash-pool.ts) as they are found.
//
// Where this differs from in-toto, it is stricter, never laxer:
//  - a given path that is absolute or has a '..' segment, and any name with a backslash or bytes
//    that are not UTF-8, is refused (InputError PATH_INVALID): in-toto would record a key outside
//    the base path or under a rewritten name;
//  - a symlink that resolves outside the base path is refused (PATH_OUTSIDE_BASE) or, with
//    `symlinksOutsideBase: 'skip'`, left out; in-toto follows it and records the target;
//  - a followed directory symlink that leads back into a directory being walked is refused
//    (SYMLINK_LOOP); in-toto recurses until the kernel's symlink limit stops it;
//  - an unreadable file or directory is an error (FILE_UNREADABLE); in-toto skips unreadable
//    directories without a word.
// Dangling symlinks (including self-referencing ones) name no content and are skipped, as in-toto does.
// The checks hold against the tree as walked: files are opened at their real path with O_NOFOLLOW,
// so a file swapped for a symlink after the walk is refused, but a directory swapped for a
// symlink between walk and read is not detected (a concurrent writer in the tree is out of scope,
// as it is for in-toto).
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { InputError, compareCodePoints, isDigestAlgorithm, type DigestAlgorithm, type DigestSet } from '../core/index.ts';
import { checkLstripPrefixes, normalizeArtifactPath } from './artifact-paths.ts';
import { compileExcludePatterns, DEFAULT_EXCLUDE_PATTERNS } from './exclude-patterns.ts';
import { FileReadFailure, sharedHashPool, type HashJob } from './hash-pool.ts';
import { DIGEST_BYTES, STAT_SLOTS, STATUS_HASHED, STATUS_UNCHANGED } from './hash-protocol.ts';
import type { StatCache } from './stat-cache.ts';
import { TreeWalk } from './tree-walk.ts';

export type { StatCache } from './stat-cache.ts';

/** Recorded artifacts: normalized POSIX path relative to the base path → digests. */
export type ArtifactDigests = Record<string, DigestSet>;

export interface RecordProgress {
  /** Files found so far (final once `walking` is false). */
  filesFound: number;
  /** Files hashed or confirmed unchanged. */
  filesDone: number;
  /** Bytes read and hashed. */
  bytesDone: number;
  /** The directory walk is still going. */
  walking: boolean;
}

export interface RecordOptions {
  /** Directory the paths are relative to and the keys are recorded relative to (default: cwd). */
  basePath?: string;
  /**
   * gitignore-style exclude patterns, in-toto semantics (see exclude-patterns.ts). Given patterns
   * replace the defaults `*.link*`, `.git`, `*.pyc`, `*~`, as in-toto's --exclude does; none
   * (undefined or `[]`) means the defaults, as in runlib. (To exclude nothing, pass `['#']`.)
   */
  excludes?: readonly string[];
  /** in-toto --lstrip-paths: the first matching prefix is cut from each key (plain string prefix). */
  lstripPaths?: readonly string[];
  /** Hash text with "\r\n" and "\r" turned into "\n" (in-toto normalize_line_endings). */
  normalizeLineEndings?: boolean;
  /** Digest algorithms (default ['sha256']). */
  algorithms?: readonly DigestAlgorithm[];
  /**
   * Enter symlinked directories, recording paths under the link's name. Default true, as
   * in-toto-run records (runlib.record_artifacts_as_dict itself defaults to false).
   */
  followSymlinkDirs?: boolean;
  /** A symlink resolving outside the base path: 'error' (default, PATH_OUTSIDE_BASE) or 'skip'. */
  symlinksOutsideBase?: 'error' | 'skip';
  /** Shared by the materials and products recording of one run: unchanged files are not read again. */
  cache?: StatCache;
  /** Called about every 100 ms while recording, and once at the end. */
  onProgress?: (progress: RecordProgress) => void;
  signal?: AbortSignal;
}

function checkAlgorithms(algorithms: readonly DigestAlgorithm[]): DigestAlgorithm[] {
  const unique = [...new Set(algorithms)];
  if (unique.length === 0) throw new InputError('INPUT_INVALID', 'at least one digest algorithm is needed');
  for (const a of unique) {
    if (!isDigestAlgorithm(a)) throw new InputError('INPUT_INVALID', `unsupported digest algorithm: ${String(a)}`);
  }
  return unique;
}

function resolveBase(basePath: string | undefined): string {
  const base = resolve(basePath ?? '.');
  let real;
  try {
    real = realpathSync.native(base);
    if (statSync(real).isDirectory()) return real;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new InputError('PATH_INVALID', `cannot use ${JSON.stringify(base)} as base path: ${code}`, { cause: e });
  }
  throw new InputError('PATH_INVALID', `base path ${JSON.stringify(base)} is not a directory`);
}

function setKey(out: Record<string, DigestSet>, key: string, value: DigestSet): void {
  // A file may be named "__proto__": define it as an own property, never touch the prototype.
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * Builds the result from the job's digests once every file is done: every key inserted once, in
 * code point order (as in-toto's JSON), and updates the stat cache. A segment's digests are
 * turned into hex with one call and sliced per file (one native call per file cost more).
 * Building it while the workers still hash was tried: on two cores it took as much CPU more on
 * the main thread as it saved at the end.
 */
function buildResult(
  walk: TreeWalk,
  job: HashJob,
  algorithms: readonly DigestAlgorithm[],
  cache: StatCache | undefined,
  variant: string,
): ArtifactDigests {
  const sets = new Array<DigestSet>(job.count);
  const hexWidth = job.digestBytes * 2;
  const single = algorithms.length === 1 ? algorithms[0]! : null;
  let hits = 0;
  for (const segment of job.segments) {
    const words = segment.stats === null ? null : new Int32Array(segment.stats.buffer);
    const hex = Buffer.from(segment.digests.buffer, segment.digests.byteOffset, segment.digests.byteLength).toString('hex');
    for (let local = 0; local < segment.count; local++) {
      const index = segment.first + local;
      const status = segment.status[local];
      if (status === STATUS_UNCHANGED) {
        sets[index] = { ...walk.cacheEntry(index)!.digests };
        hits++;
        continue;
      }
      const at = local * hexWidth;
      let set: DigestSet;
      if (single !== null) {
        const digest = hex.slice(at, at + hexWidth);
        set = single === 'sha256' ? { sha256: digest } : { [single]: digest };
      } else {
        set = {};
        let from = at;
        for (const a of algorithms) {
          const n = DIGEST_BYTES[a]! * 2;
          set[a] = hex.slice(from, from + n);
          from += n;
        }
      }
      sets[index] = set;
      if (cache === undefined || words === null) continue;
      const dir = segment.dirs[segment.dirOf[local]!]!;
      const name = segment.names.slice(local === 0 ? 0 : segment.nameEnds[local - 1]!, segment.nameEnds[local]);
      if (status === STATUS_HASHED) cache.store(dir, name, { words, at: local * STAT_SLOTS * 2, variant, digests: { ...set } });
      else cache.forget(dir, name);
    }
  }
  cache?.countHits(hits);
  const out: Record<string, DigestSet> = {};
  let order: number[] | null = null;
  if (!walk.keysSorted) {
    for (let i = 1; i < sets.length; i++) {
      if (compareCodePoints(walk.key(i - 1), walk.key(i)) > 0) {
        order = sets.map((_, j) => j).sort((a, b) => compareCodePoints(walk.key(a), walk.key(b)));
        break;
      }
    }
  }
  if (order === null) for (let i = 0; i < sets.length; i++) setKey(out, walk.key(i), sets[i]!);
  else for (const i of order) setKey(out, walk.key(i), sets[i]!);
  return out;
}

/**
 * Hashes every regular file under `paths` (files or directories, relative to the base path) as
 * in-toto records materials and products. See the module comment for where it is stricter.
 * @throws InputError PATH_INVALID, PATH_OUTSIDE_BASE, PATH_CONFLICT, SYMLINK_LOOP,
 *   PATTERN_INVALID, FILE_UNREADABLE, INPUT_INVALID
 */
export async function recordArtifacts(paths: readonly string[], options: RecordOptions = {}): Promise<ArtifactDigests> {
  const algorithms = checkAlgorithms(options.algorithms ?? ['sha256']);
  const normalized = [...new Set(paths.map(normalizeArtifactPath))].sort(compareCodePoints);
  const excludes = options.excludes ?? [];
  const excluded = compileExcludePatterns(excludes.length > 0 ? excludes : DEFAULT_EXCLUDE_PATTERNS);
  const lstripPaths = options.lstripPaths ?? [];
  checkLstripPrefixes(lstripPaths);
  if (normalized.length === 0) return {};
  const realBase = resolveBase(options.basePath);
  const normalize = options.normalizeLineEndings ?? false;
  const variant = `${algorithms.join(',')}|${normalize ? 'lf' : 'raw'}`;
  const cache = options.cache;
  const { signal, onProgress } = options;
  signal?.throwIfAborted();

  const jobOptions = {
    algorithms,
    normalizeLineEndings: normalize,
    withStats: cache !== undefined,
    racyWindowNs: cache?.racyWindowNs ?? 0n,
  };
  return sharedHashPool().run(jobOptions, async (job) => {
    // in-toto applies the exclude patterns to the given paths too ('.*' excludes '.').
    const walk = new TreeWalk(realBase, normalized.filter((p) => !excluded.path(p)), job, {
      excluded,
      lstripPaths,
      followSymlinkDirs: options.followSymlinkDirs ?? true,
      skipOutside: options.symlinksOutsideBase === 'skip',
      cache,
      variant,
    });
    let walking = true;
    const report = (): void => {
      const p = job.progress();
      onProgress?.({ filesFound: job.count, filesDone: p.files, bytesDone: p.bytes, walking });
    };
    const timer = onProgress === undefined ? undefined : setInterval(report, 100);
    const abort = (): void => job.cancel();
    signal?.addEventListener('abort', abort);
    try {
      while (walk.step(64)) {
        job.flush();
        // Lets worker replies, progress timers and aborts in between.
        await yieldToLoop();
        signal?.throwIfAborted();
        if (job.failure !== null) break;
      }
      walking = false;
      job.close();
      await job.finished();
      signal?.throwIfAborted();
      const failure = job.failure;
      if (failure instanceof FileReadFailure) {
        throw new InputError('FILE_UNREADABLE', `cannot read ${JSON.stringify(walk.key(failure.index))}: ${failure.code}`, {
          cause: failure,
        });
      }
      if (failure !== null) throw failure;
      const result = buildResult(walk, job, algorithms, cache, variant);
      if (onProgress !== undefined) report();
      return result;
    } finally {
      if (timer !== undefined) clearInterval(timer);
      signal?.removeEventListener('abort', abort);
    }
  });
}
