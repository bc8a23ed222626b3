// File storage driver for a tiled log: a directory in the C2SP tlog-tiles layout that any static
// web server can serve. Appends (tiles first, then the checkpoint, every file written atomically
// and fsynced), reads, and full verification by re-deriving every tile from the entry bundles.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InputError, VerificationError } from '../core/index.ts';
import type { Checkpoint, OpenCheckpointOptions, OpenedCheckpoint } from './checkpoint.ts';
import { openCheckpoint, signCheckpoint } from './checkpoint.ts';
import { hashesEqual, leafHash } from './merkle-hash.ts';
import type { NoteSigner, NoteVerifier } from './note-keys.ts';
import { encodeHashTile } from './tile-codec.ts';
import { entryBundleWidth, parseTilePath, partialTiles, TILE_WIDTH, tilePath, tilesAtLevel } from './tile-path.ts';
import type { TileFetcher, TreeHead } from './tile-reader.ts';
import { proveConsistency, readEntryBundle, readHashTile } from './tile-reader.ts';
import type { TreeEdge } from './tree-builder.ts';
import { edgeRoot, EMPTY_EDGE, integrate, loadTreeEdge } from './tree-builder.ts';

/** The checkpoint's path under the log prefix (tlog-tiles: `<prefix>/checkpoint`). */
export const CHECKPOINT_PATH = 'checkpoint';
const TEMP_DIR = '.tmp';
const LOCK_FILE = '.lock';

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Only the checkpoint and well-formed tile paths resolve: no way out of the directory. */
function resolveLogPath(dir: string, path: string): string {
  if (path !== CHECKPOINT_PATH && parseTilePath(path) === undefined) {
    throw new InputError('PATH_INVALID', `${JSON.stringify(path)} is not a tlog-tiles resource path`);
  }
  return join(dir, ...path.split('/'));
}

/** Reads a log directory's resources; missing files resolve undefined. */
export class FileTileFetcher implements TileFetcher {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async fetchTile(path: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(resolveLogPath(this.dir, path)));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}

/** Whether `d` is strictly inside `dir`. */
function inside(dir: string, d: string): boolean {
  const rel = relative(dir, d);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes files atomically and durably under `dir`: each goes to a temp file that is fsynced and
 * renamed over the target; then every directory that gained an entry is fsynced: each file's
 * directory, and the parent of every directory created on the way (up to `dir`).
 * `made` remembers directories already created (by this writer), to skip their mkdir.
 */
async function writeFilesDurably(dir: string, files: readonly { path: string; data: Uint8Array }[], made = new Set<string>()): Promise<void> {
  const dirs = new Set<string>();
  const writeOne = async (file: { path: string; data: Uint8Array }) => {
    const target = resolveLogPath(dir, file.path);
    const parent = dirname(target);
    if (!made.has(parent)) {
      const created = await mkdir(parent, { recursive: true });
      made.add(parent);
      // Directories mkdir just made are new entries in their parents, up to the first that existed.
      // (The log directory's own entry in its parent is made durable when the log is created.)
      if (created !== undefined) for (let d = parent; d !== dirname(created) && inside(dir, d); d = dirname(d)) dirs.add(dirname(d));
    }
    await rename(await stageFile(dir, file.data, made), target);
    dirs.add(parent); // gained (or replaced) the file's name
  };
  const queue = [...files];
  const workers = Array.from({ length: Math.min(16, queue.length) }, async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) await writeOne(f);
  });
  await Promise.all(workers);
  // Every directory that gained an entry (new ones included) is fsynced before anything that
  // refers to these files (the checkpoint) is renamed into place, so their order among themselves
  // does not matter: all of them are durable before the caller goes on.
  await Promise.all([...dirs].map((d) => fsyncPath(d)));
}

/**
 * Writes `data` to a new file under `<dir>/.tmp` and fsyncs it; the caller renames it into place
 * (and fsyncs the directory). The temp directory itself needs no fsync: nothing durable ever
 * refers to its contents.
 */
async function stageFile(dir: string, data: Uint8Array, made: Set<string>): Promise<string> {
  const tempDir = join(dir, TEMP_DIR);
  if (!made.has(tempDir)) {
    await mkdir(tempDir, { recursive: true });
    made.add(tempDir);
  }
  const temp = join(tempDir, `${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644).catch(async (e: unknown) => {
    // Another writer starting over removed the temp directory this writer remembered.
    if (!isNotFound(e)) throw e;
    await mkdir(tempDir, { recursive: true });
    return open(temp, 'wx', 0o644);
  });
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/**
 * An exclusive lock on a log directory (`.lock` holding the writer's pid), so two writers never
 * fork the log. A lock whose process is gone is taken over. Meant for one machine; two processes
 * taking over the same stale lock at the same instant could race, which a single CLI writer or
 * the sequencer (which locks in its database) never does.
 */
// Appends to one directory from this process queue here: the file lock is for other processes.
const inProcess = new Map<string, Promise<unknown>>();

async function lockLog(dir: string): Promise<() => Promise<void>> {
  const key = resolve(dir);
  const previous = inProcess.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = previous.then(() => mine);
  inProcess.set(key, chained);
  await previous;
  try {
    const unlockFile = await lockLogFile(dir);
    return async () => {
      try {
        await unlockFile();
      } finally {
        release();
        if (inProcess.get(key) === chained) inProcess.delete(key);
      }
    };
  } catch (e) {
    release();
    if (inProcess.get(key) === chained) inProcess.delete(key);
    throw e;
  }
}

async function lockLogFile(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  // The lock appears with its pid already in it: the pid goes into a private file that is then
  // hard-linked into place, which fails if the lock exists. Creating the lock and then writing
  // the pid would leave an empty lock behind a process killed in between, and nobody could tell
  // whether its holder was alive.
  const mine = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  await writeFile(mine, `${process.pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(mine, path);
        return () => unlink(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const text = (await readFile(path, 'utf8').catch(() => '')).trim();
      const holder = /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : undefined;
      // A lock without a pid was left by an older custody killed half-way: nobody holds it. A lock
      // with our own pid was left by an earlier process that had the same pid (pid 1 in a
      // container restarted after SIGKILL): this process's own appends queue in `inProcess`.
      if (holder === undefined || holder === process.pid || !processAlive(holder)) {
        await unlink(path).catch(() => undefined); // the holder died: take the lock over
        continue;
      }
      throw new InputError('LOG_LOCKED', `log directory ${dir} is locked by process ${holder} (${path}); wait for it, or stop it`);
    }
    throw new InputError('LOG_LOCKED', `could not lock log directory ${dir}`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ReadCheckpointOptions extends OpenCheckpointOptions {
  /** Earlier log keys whose checkpoints are also accepted (the log was re-keyed on purpose). */
  readonly previousKeys?: readonly NoteVerifier[];
}

/** Opens checkpoint bytes with the log key or, failing that, one of its previous keys. */
function openWithKeys(bytes: Uint8Array, options: ReadCheckpointOptions): OpenedCheckpoint {
  const keys = [options.log, ...(options.previousKeys ?? [])];
  let firstError: unknown;
  for (const log of keys) {
    try {
      return openCheckpoint(bytes, { ...options, log, origin: options.origin ?? options.log.name });
    } catch (e) {
      firstError ??= e;
    }
  }
  throw firstError;
}

/** Reads and verifies the directory's checkpoint; undefined when the log has none yet. */
export async function readPosixCheckpoint(dir: string, options: ReadCheckpointOptions): Promise<OpenedCheckpoint | undefined> {
  const bytes = await new FileTileFetcher(dir).fetchTile(CHECKPOINT_PATH);
  if (bytes === undefined) return undefined;
  return openWithKeys(bytes, options);
}

export interface AppendOptions {
  /** The log directory (created if missing). */
  readonly dir: string;
  /** The checkpoint origin line. */
  readonly origin: string;
  /** The log's note key: signs the new checkpoint, verifies the current one. */
  readonly key: { readonly signer: NoteSigner; readonly verifier: NoteVerifier };
  /** Earlier log keys whose checkpoint may be extended (re-keying on purpose). */
  readonly previousKeys?: readonly NoteVerifier[];
  /** Skip entries already in the log or earlier in the same call (byte-identical). Reads every level-0 tile. */
  readonly dedupe?: boolean;
  /** Checkpoint extension lines (NOT RECOMMENDED by tlog-checkpoint). */
  readonly extensions?: readonly string[];
}

export interface AppendResult {
  readonly checkpoint: Checkpoint;
  /** The signed checkpoint note, as written to `<dir>/checkpoint`. */
  readonly signedCheckpoint: string;
  /** For each given entry, its index in the log (an earlier index when deduplicated). */
  readonly indexes: readonly number[];
  /** How many entries were added. */
  readonly appended: number;
}

/** Leaf hash → index over the whole log (for deduplication), from the level-0 tiles. */
async function leafIndex(fetcher: TileFetcher, size: number): Promise<Map<string, number>> {
  const index = new Map<string, number>();
  for (const tile of tilesAtLevel(size, 0)) {
    const hashes = await readHashTile(fetcher, tile);
    hashes.forEach((h, i) => {
      const key = Buffer.from(h).toString('hex');
      if (!index.has(key)) index.set(key, tile.index * TILE_WIDTH + i);
    });
  }
  return index;
}

function selectNew(entries: readonly Uint8Array[], size: number, known: Map<string, number> | undefined) {
  const fresh: Uint8Array[] = [];
  const indexes = entries.map((entry) => {
    if (known === undefined) return size + fresh.push(entry) - 1;
    const key = Buffer.from(leafHash(entry)).toString('hex');
    const existing = known.get(key);
    if (existing !== undefined) return existing;
    const at = size + fresh.push(entry) - 1;
    known.set(key, at);
    return at;
  });
  return { fresh, indexes };
}

/**
 * Appends entries, in the order given, to the log in `dir` and publishes one new checkpoint.
 * Crash safety: tiles and bundles are written (atomically, fsynced) before the checkpoint, and
 * no file a published checkpoint needs is ever rewritten, so a crash at any point leaves the
 * directory consistent with its last checkpoint; the next append starts over from it.
 */
export async function appendToPosixLog(options: AppendOptions, entries: readonly Uint8Array[]): Promise<AppendResult> {
  return new PosixLogAppender(options).append(entries);
}

/** What an appender knows of the log after its own last append: the checkpoint bytes it wrote and the tree edge. */
interface KnownHead {
  readonly bytes: Buffer | undefined;
  readonly checkpoint: Checkpoint | undefined;
  readonly edge: TreeEdge;
}

export interface PosixLogAppenderOptions extends AppendOptions {
  /**
   * Take the directory lock at the first append and keep it until close(): the only writer (a
   * server alone on its log). Appends then skip locking and re-reading the checkpoint; other
   * writers (another process, `custody log append --dir`) get LOG_LOCKED meanwhile.
   */
  readonly exclusive?: boolean;
}

/** Most recently written hash tiles kept in memory for proofs (each ≤ 8 KiB). */
const RECENT_TILES = 4096;

/**
 * Repeated appends to one log directory (a sequencer). Same files, same crash safety and the same
 * lock per append as appendToPosixLog; in addition it remembers the tree edge it left behind, so
 * an append whose lock finds the checkpoint byte-identical to the one this appender wrote last
 * skips re-reading and re-verifying the checkpoint and partial tiles. Any other checkpoint (another
 * writer, a cosigned republication, a failed append) makes it load the log from disk again.
 * `fetcher` reads the log with the hash tiles this appender wrote recently served from memory.
 */
export class PosixLogAppender {
  readonly #o: PosixLogAppenderOptions;
  readonly #disk: FileTileFetcher;
  readonly #recent = new Map<string, Uint8Array>();
  #made = new Set<string>();
  #known: KnownHead | undefined;
  #dirReady = false;
  /** Exclusive mode: the held lock's release, and the appends queued behind each other. */
  #held: (() => Promise<void>) | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly fetcher: TileFetcher;

  constructor(options: PosixLogAppenderOptions) {
    this.#o = options;
    this.#disk = new FileTileFetcher(options.dir);
    this.fetcher = {
      fetchTile: (path: string) => {
        const hit = this.#recent.get(path);
        return hit === undefined ? this.#disk.fetchTile(path) : Promise.resolve(hit);
      },
    };
  }

  async #prepareDir(): Promise<void> {
    if (this.#dirReady) return;
    const { dir } = this.#o;
    const created = await mkdir(dir, { recursive: true });
    // New directories (the log's and any parents mkdir made) must be durable in their parents.
    if (created !== undefined) {
      const stop = dirname(resolve(created));
      for (let d = resolve(dir); d !== stop && d !== dirname(d); d = dirname(d)) await fsyncPath(dirname(d));
    }
    this.#dirReady = true;
  }

  /** The log as on disk: checkpoint verified, edge loaded and checked against its root. */
  async #load(bytes: Buffer | undefined): Promise<KnownHead> {
    const { dir, origin } = this.#o;
    // Left-overs of an interrupted append: never referenced by a checkpoint.
    await rm(join(dir, TEMP_DIR), { recursive: true, force: true });
    this.#made = new Set();
    this.#recent.clear();
    if (bytes === undefined) return { bytes, checkpoint: undefined, edge: EMPTY_EDGE };
    const current = openWithKeys(bytes, {
      log: this.#o.key.verifier,
      origin,
      ...(this.#o.previousKeys === undefined ? {} : { previousKeys: this.#o.previousKeys }),
    });
    const size = current.checkpoint.size;
    const edge = await loadTreeEdge(this.#disk, size, { entries: true, rootHash: current.checkpoint.rootHash });
    return { bytes, checkpoint: current.checkpoint, edge };
  }

  #remember(tiles: readonly { path: string; data: Uint8Array }[]): void {
    for (const t of tiles) {
      if (t.path.startsWith('tile/entries/')) continue;
      this.#recent.delete(t.path);
      this.#recent.set(t.path, t.data);
      if (this.#recent.size > RECENT_TILES) this.#recent.delete(this.#recent.keys().next().value!);
    }
  }

  /** Exclusive mode: releases the directory lock (after the append in progress, if any). */
  async close(): Promise<void> {
    await this.#queue;
    const held = this.#held;
    this.#held = undefined;
    this.#known = undefined; // others may write once the lock is gone: read the log again
    await held?.();
  }

  async append(entries: readonly Uint8Array[]): Promise<AppendResult> {
    if (this.#o.exclusive !== true) return this.#append(entries);
    const previous = this.#queue;
    let done!: () => void;
    this.#queue = new Promise<void>((r) => (done = r));
    try {
      await previous;
      return await this.#append(entries);
    } finally {
      done();
    }
  }

  async #append(entries: readonly Uint8Array[]): Promise<AppendResult> {
    const { dir, origin } = this.#o;
    await this.#prepareDir();
    let unlock: (() => Promise<void>) | undefined;
    if (this.#o.exclusive !== true) unlock = await lockLog(dir);
    else this.#held ??= await lockLog(dir);
    try {
      const known = this.#known;
      this.#known = undefined; // until this append completes
      let head: KnownHead;
      if (this.#o.exclusive === true && known !== undefined) {
        head = known; // nobody else writes while the lock is held
      } else {
        const onDisk = await this.#disk.fetchTile(CHECKPOINT_PATH);
        const bytes = onDisk === undefined ? undefined : Buffer.from(onDisk.buffer, onDisk.byteOffset, onDisk.length);
        const same = known !== undefined && (bytes === undefined ? known.bytes === undefined : known.bytes !== undefined && bytes.equals(known.bytes));
        head = same ? known : await this.#load(bytes);
      }
      const size = head.edge.size;
      const index = this.#o.dedupe === true ? await leafIndex(this.#disk, size) : undefined;
      const { fresh, indexes } = selectNew(entries, size, index);
      if (fresh.length === 0 && head.checkpoint !== undefined) {
        this.#known = head;
        return { checkpoint: head.checkpoint, signedCheckpoint: head.bytes!.toString('utf8'), indexes, appended: 0 };
      }
      const result = integrate(head.edge, fresh);
      const checkpoint: Checkpoint = { origin, size: result.edge.size, rootHash: result.root, extensions: this.#o.extensions ?? [] };
      const signedCheckpoint = await signCheckpoint(checkpoint, [this.#o.key.signer]);
      const written = Buffer.from(signedCheckpoint, 'utf8');
      // The new checkpoint is staged (a fsynced temp file nothing refers to) while the tiles are
      // written, and renamed into place only once every tile and its directory is durable: only
      // then do the new tiles become part of the log. (One fsync round less per append.)
      const [tiles, staged] = await Promise.allSettled([writeFilesDurably(dir, result.tiles, this.#made), stageFile(dir, written, this.#made)]);
      if (tiles.status === 'rejected') throw tiles.reason instanceof Error ? tiles.reason : new Error(String(tiles.reason));
      if (staged.status === 'rejected') throw staged.reason instanceof Error ? staged.reason : new Error(String(staged.reason));
      await rename(staged.value, resolveLogPath(dir, CHECKPOINT_PATH));
      await fsyncPath(dir);
      this.#remember(result.tiles);
      this.#known = { bytes: written, checkpoint, edge: result.edge };
      return { checkpoint, signedCheckpoint, indexes, appended: fresh.length };
    } catch (e) {
      this.#made = new Set();
      throw e;
    } finally {
      await unlock?.();
    }
  }
}

export interface VerifyPosixLogOptions extends OpenCheckpointOptions {
  /** An earlier trusted tree head the log must be consistent with. */
  readonly previous?: TreeHead;
}

export interface VerifyPosixLogResult {
  readonly checkpoint: OpenedCheckpoint;
  /** Number of tile and bundle files compared. */
  readonly filesChecked: number;
}

async function compareFile(fetcher: TileFetcher, write: { path: string; data: Uint8Array }): Promise<void> {
  const onDisk = await fetcher.fetchTile(write.path);
  if (onDisk === undefined) throw new VerificationError('TILE_MISSING', `${write.path} is missing`);
  if (!Buffer.from(onDisk).equals(Buffer.from(write.data))) {
    throw new VerificationError('TILE_INVALID', `${write.path} does not match the tile re-derived from the entries`);
  }
}

/**
 * Verifies a log directory completely: the checkpoint signature (and cosignatures as asked),
 * every entry bundle, every full tile and the checkpoint's partial tiles re-derived from the
 * entries, the root hash, and consistency with `previous` when given.
 */
export async function verifyPosixLog(dir: string, options: VerifyPosixLogOptions): Promise<VerifyPosixLogResult> {
  const fetcher = new FileTileFetcher(dir);
  const bytes = await fetcher.fetchTile(CHECKPOINT_PATH);
  if (bytes === undefined) throw new InputError('FILE_UNREADABLE', `${join(dir, CHECKPOINT_PATH)} does not exist`);
  const opened = openCheckpoint(bytes, options);
  const { size, rootHash } = opened.checkpoint;
  let edge: TreeEdge = EMPTY_EDGE;
  let filesChecked = 0;
  for (let bundle = 0; bundle * TILE_WIDTH < size; bundle++) {
    const entries = await readEntryBundle(fetcher, { index: bundle, width: entryBundleWidth(size, bundle) });
    filesChecked++;
    const result = integrate(edge, entries);
    for (const write of result.tiles) {
      if (!write.full || write.path.startsWith('tile/entries/')) continue;
      await compareFile(fetcher, write);
      filesChecked++;
    }
    edge = result.edge;
  }
  // The partial tiles this checkpoint needs (tlog-tiles: logs MUST serve them).
  for (const tile of partialTiles(size)) {
    await compareFile(fetcher, { path: tilePath(tile), data: encodeHashTile(edge.tiles[tile.level]!) });
    filesChecked++;
  }
  const derived = edgeRoot(edge);
  if (!hashesEqual(derived, rootHash)) {
    throw new VerificationError('LOG_INCONSISTENT', `the entries give a different root hash than the checkpoint of size ${size}`);
  }
  if (options.previous !== undefined) {
    if (options.previous.size > size) {
      throw new VerificationError('LOG_INCONSISTENT', `the log shrank from ${options.previous.size} to ${size} entries`);
    }
    if (options.previous.size > 0) await proveConsistency(fetcher, options.previous, { size, rootHash });
  }
  return { checkpoint: opened, filesChecked };
}
