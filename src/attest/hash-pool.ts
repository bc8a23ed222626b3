// The main-thread side of the hashing workers (protocol in hash-protocol.ts): a pool of worker
// threads kept for the life of the process (unreferenced while idle, so it never holds the
// process open), running one job at a time.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { DigestAlgorithm } from '../core/index.ts';
import {
  CANCEL,
  CLOSED,
  CONTROL_SLOTS,
  DIGEST_BYTES,
  PUBLISHED,
  STAT_SLOTS,
  STATUS_CHECK,
  type JobMessage,
  type SegmentMessage,
  type WorkerReply,
} from './hash-protocol.ts';
import type { CacheEntry } from './stat-cache.ts';

export interface HashJobOptions {
  algorithms: readonly DigestAlgorithm[];
  normalizeLineEndings: boolean;
  /** Collect stat fields for a stat cache. */
  withStats: boolean;
  racyWindowNs: bigint;
}

/** A worker could not read a file: `index` is the job's file index, `code` the errno code. */
export class FileReadFailure extends Error {
  readonly index: number;
  readonly code: string;
  constructor(index: number, code: string, message: string) {
    super(message);
    this.index = index;
    this.code = code;
  }
}

interface Slot {
  worker: Worker;
  port: MessagePort;
}

const MAX_SEGMENT = 1024;

export class HashJob {
  readonly id: number;
  readonly digestBytes: number;
  readonly segments: SegmentMessage[] = [];
  readonly #slots: readonly Slot[];
  readonly #control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  readonly #progress: BigInt64Array;
  readonly #withStats: boolean;
  #dirs: string[] = [];
  #dirOf: number[] = [];
  #names: string[] = [];
  #expect: (CacheEntry | undefined)[] = [];
  #count = 0;
  #published = 0;
  #ended = 0;
  #failure: Error | null = null;
  readonly #finished: Promise<void>;
  #settle: () => void = () => undefined;

  constructor(id: number, slots: readonly Slot[], options: HashJobOptions) {
    this.id = id;
    this.#slots = slots;
    this.#withStats = options.withStats;
    this.digestBytes = options.algorithms.reduce((n, a) => n + (DIGEST_BYTES[a] ?? 0), 0);
    this.#progress = new BigInt64Array(new SharedArrayBuffer(slots.length * 2 * 8));
    this.#finished = new Promise<void>((resolve) => {
      this.#settle = resolve;
    });
    slots.forEach((slot, i) => {
      const message: JobMessage = {
        type: 'job',
        job: id,
        control: this.#control,
        progress: this.#progress,
        slot: i,
        algorithms: [...options.algorithms],
        normalizeLineEndings: options.normalizeLineEndings,
        withStats: options.withStats,
        racyWindowNs: options.racyWindowNs,
      };
      slot.worker.postMessage(message);
    });
  }

  /** Files added so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds the file `name` in the real directory `dir` and returns its index; `expect` is a cache
   * entry whose identity is to be re-checked. Files of one directory are best added one after another.
   */
  add(dir: string, name: string, expect?: CacheEntry): number {
    const dirs = this.#dirs;
    if (dirs.length === 0 || dirs[dirs.length - 1] !== dir) dirs.push(dir);
    this.#dirOf.push(dirs.length - 1);
    this.#names.push(name);
    if (this.#withStats) this.#expect.push(expect);
    const index = this.#count++;
    // Small segments first so the workers start at once, larger ones once the walk is going.
    if (this.#names.length >= Math.min(MAX_SEGMENT, Math.max(32, this.#published >> 3))) this.flush();
    return index;
  }

  /** Hands the files added since the last flush to the workers. */
  flush(): void {
    const n = this.#names.length;
    if (n === 0) return;
    const status = new Int32Array(new SharedArrayBuffer(n * 4));
    const digests = new Uint8Array(new SharedArrayBuffer(n * this.digestBytes));
    const stats = this.#withStats ? new BigInt64Array(new SharedArrayBuffer(n * STAT_SLOTS * 8)) : null;
    if (stats !== null) {
      // Copied as 32-bit halves: reading a BigInt64Array allocates a BigInt per slot.
      const words = new Int32Array(stats.buffer);
      const expect = this.#expect;
      for (let i = 0; i < n; i++) {
        const e = expect[i];
        if (e === undefined) continue;
        const to = i * STAT_SLOTS * 2;
        for (let k = 0; k < STAT_SLOTS * 2; k++) words[to + k] = e.words[e.at + k]!;
        status[i] = STATUS_CHECK;
      }
    }
    const names = this.#names;
    const nameEnds = new Int32Array(n);
    let end = 0;
    for (let i = 0; i < n; i++) nameEnds[i] = end += names[i]!.length;
    const segment: SegmentMessage = {
      job: this.id,
      first: this.#published,
      count: n,
      dirs: this.#dirs,
      dirOf: Int32Array.from(this.#dirOf),
      names: names.join(''),
      nameEnds,
      status,
      digests,
      stats,
    };
    this.segments.push(segment);
    for (const { port } of this.#slots) port.postMessage(segment);
    this.#published += n;
    this.#dirs = [];
    this.#dirOf = [];
    this.#names = [];
    this.#expect = [];
    // Segments are on the workers' ports before the count that lets them claim the files.
    Atomics.store(this.#control, PUBLISHED, this.#published);
    Atomics.notify(this.#control, PUBLISHED);
  }

  /** No more files: workers end once everything added is hashed. */
  close(): void {
    this.flush();
    Atomics.store(this.#control, CLOSED, 1);
    Atomics.notify(this.#control, PUBLISHED);
  }

  /** Stops the workers as soon as they finish the file in hand. */
  cancel(): void {
    Atomics.store(this.#control, CANCEL, 1);
    Atomics.store(this.#control, CLOSED, 1);
    Atomics.notify(this.#control, PUBLISHED);
  }

  /** Files hashed and bytes read so far (updated by the workers every few milliseconds). */
  progress(): { files: number; bytes: number } {
    let files = 0n;
    let bytes = 0n;
    for (let i = 0; i < this.#slots.length; i++) {
      files += Atomics.load(this.#progress, i * 2);
      bytes += Atomics.load(this.#progress, i * 2 + 1);
    }
    return { files: Number(files), bytes: Number(bytes) };
  }

  /** The first failure, if any (set as soon as a worker reports it). */
  get failure(): Error | null {
    return this.#failure;
  }

  /** Resolves when every worker has left the job; check `failure` afterwards. */
  finished(): Promise<void> {
    return this.#finished;
  }

  /** @internal called by the pool. */
  onReply(reply: WorkerReply): void {
    if (reply.type === 'error') {
      this.#failure ??= new FileReadFailure(reply.index, reply.code, reply.message);
      this.cancel();
    }
    this.#ended++;
    if (this.#ended === this.#slots.length) this.#settle();
  }

  /** @internal called by the pool when a worker dies. */
  onCrash(error: Error): void {
    this.#failure ??= error;
    this.cancel();
    this.#settle();
  }
}

/**
 * Workers inherit the process's flags, but `--input-type` (from `node --input-type=module -e ...`)
 * is refused in a worker: then pass the flags without it and without the eval script (only then:
 * flags passed explicitly are validated, and test runners add some a worker refuses).
 */
export function workerExecArgv(inherited: readonly string[]): string[] | undefined {
  if (!inherited.some((a) => a.startsWith('--input-type'))) return undefined;
  const out: string[] = [];
  for (let i = 0; i < inherited.length; i++) {
    const arg = inherited[i]!;
    if (arg.startsWith('--input-type=')) continue;
    if (arg === '--input-type' || arg === '-e' || arg === '--eval' || arg === '-p' || arg === '--print') {
      i++;
      continue;
    }
    if (/^--(eval|print)=/.test(arg)) continue;
    out.push(arg);
  }
  return out;
}

export class HashPool {
  readonly size: number;
  readonly #slots: Slot[];
  #current: HashJob | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = 1;
  #broken: Error | null = null;

  constructor(size: number) {
    this.size = size;
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const url = new URL(`./hash-worker${ext}`, import.meta.url);
    const execArgv = workerExecArgv(process.execArgv);
    this.#slots = Array.from({ length: size }, () => {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(url, {
        workerData: { port: port2 },
        transferList: [port2],
        ...(execArgv === undefined ? {} : { execArgv }),
      });
      worker.unref();
      port1.unref();
      worker.on('message', (reply: WorkerReply) => {
        if (this.#current !== null && reply.job === this.#current.id) this.#current.onReply(reply);
      });
      const crash = (error: Error): void => {
        if (this.#broken !== null) return;
        this.#broken = error;
        this.#current?.onCrash(error);
        for (const slot of this.#slots) void slot.worker.terminate();
      };
      worker.on('error', crash);
      worker.on('exit', (code) => crash(new Error(`hash worker exited with code ${code}`)));
      return { worker, port: port1 };
    });
  }

  /** True once a worker died: the pool must be replaced. */
  get broken(): boolean {
    return this.#broken !== null;
  }

  /**
   * Runs `fn` with a new job once earlier jobs are done. The job is cancelled if `fn` throws, and
   * `run` returns only after every worker has left the job.
   */
  run<T>(options: HashJobOptions, fn: (job: HashJob) => Promise<T>): Promise<T> {
    const result = this.#queue.then(async () => {
      if (this.#broken !== null) throw this.#broken;
      const job = new HashJob(this.#nextId++, this.#slots, options);
      this.#current = job;
      for (const { worker } of this.#slots) worker.ref();
      try {
        return await fn(job);
      } finally {
        job.cancel();
        await job.finished();
        this.#current = null;
        for (const { worker } of this.#slots) worker.unref();
      }
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#broken ??= new Error('hash pool closed');
    await Promise.all(this.#slots.map(({ worker }) => worker.terminate()));
  }
}

let shared: HashPool | null = null;

/** The process-wide pool, one worker per available core (at most 16). */
export function sharedHashPool(): HashPool {
  if (shared === null || shared.broken) shared = new HashPool(Math.max(1, Math.min(16, availableParallelism())));
  return shared;
}
