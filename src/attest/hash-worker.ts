// Hashing worker of the tree hasher (see hash-protocol.ts). Runs one job at a time with
// synchronous file I/O: one open, one fstat, one read and one hash call for a small file, a
// fixed buffer streamed through the hash for a large one, so memory stays flat.
import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type BigIntStats, type Stats } from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  CANCEL,
  CLAIMED,
  CLOSED,
  DIGEST_BYTES,
  PUBLISHED,
  READ_BUFFER_BYTES,
  STAT_SLOTS,
  STATUS_CHECK,
  STATUS_HASHED,
  STATUS_HASHED_RACY,
  STATUS_UNCHANGED,
  type JobMessage,
  type SegmentMessage,
  type WorkerReply,
} from './hash-protocol.ts';
import { LineEndingNormalizer } from './line-endings.ts';

// O_NOFOLLOW: the main thread resolved every path to its real location, so a final component that
// is now a symlink was swapped in after the walk (it could point outside the base path).
// O_NONBLOCK: a file swapped for a FIFO must not block the open.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

const port = (workerData as { port: MessagePort }).port;
const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

class NotRegularFile extends Error {
  readonly code = 'ENOTREG';
}

function sameIdentity(st: BigIntStats, stats: BigInt64Array, at: number): boolean {
  return (
    st.dev === stats[at] &&
    st.ino === stats[at + 1] &&
    st.size === stats[at + 2] &&
    st.mtimeNs === stats[at + 3] &&
    st.ctimeNs === stats[at + 4]
  );
}

class JobRunner {
  readonly #job: JobMessage;
  readonly #segments: SegmentMessage[] = [];
  readonly #digestBytes: number;
  readonly #oneShot: boolean;
  #files = 0;
  #bytes = 0;
  #publishedBytes = 0;
  #lastProgress = 0;

  constructor(job: JobMessage) {
    this.#job = job;
    this.#digestBytes = job.algorithms.reduce((n, a) => n + (DIGEST_BYTES[a] ?? 0), 0);
    this.#oneShot = job.algorithms.length === 1 && !job.normalizeLineEndings;
  }

  run(): WorkerReply {
    const { control } = this.#job;
    for (;;) {
      // With plenty published and unclaimed, claim a few files at once: fewer atomic operations
      // on a contended slot. Near the end, one at a time, so no worker waits on another's batch.
      const batch = Atomics.load(control, PUBLISHED) - Atomics.load(control, CLAIMED) >= 256 ? 8 : 1;
      const first = Atomics.add(control, CLAIMED, batch);
      for (let index = first; index < first + batch; index++) {
        if (!this.#waitFor(index)) {
          this.#publishProgress(true);
          return { type: 'end', job: this.#job.job };
        }
        const segment = this.#segmentFor(index);
        try {
          this.#process(segment, index - segment.first);
        } catch (e) {
          Atomics.store(control, CANCEL, 1);
          Atomics.notify(control, PUBLISHED);
          const err = e as NodeJS.ErrnoException;
          this.#publishProgress(true);
          return { type: 'error', job: this.#job.job, index, code: err.code ?? 'EIO', message: err.message };
        }
        this.#files++;
        if ((this.#files & 31) === 0 || this.#bytes - this.#publishedBytes > 1 << 26) this.#publishProgress(false);
      }
    }
  }

  /** Waits until `index` is published (true) or the job is closed or cancelled without it (false). */
  #waitFor(index: number): boolean {
    const { control } = this.#job;
    for (;;) {
      if (Atomics.load(control, CANCEL) !== 0) return false;
      const published = Atomics.load(control, PUBLISHED);
      if (index < published) return true;
      if (Atomics.load(control, CLOSED) !== 0) return index < Atomics.load(control, PUBLISHED);
      Atomics.wait(control, PUBLISHED, published, 200);
    }
  }

  #segmentFor(index: number): SegmentMessage {
    for (;;) {
      for (let i = this.#segments.length - 1; i >= 0; i--) {
        const s = this.#segments[i]!;
        if (index >= s.first && index < s.first + s.count) {
          // Claims only grow, so older segments are done with.
          if (i > 0) this.#segments.splice(0, i);
          return s;
        }
      }
      const received = receiveMessageOnPort(port) as { message: SegmentMessage } | undefined;
      if (received === undefined) {
        // Posted before PUBLISHED was raised, so it is on its way: wait a moment.
        Atomics.wait(this.#job.control, CANCEL, 0, 1);
        continue;
      }
      if (received.message.job === this.#job.job) this.#segments.push(received.message);
    }
  }

  #process(segment: SegmentMessage, local: number): void {
    const name = segment.names.slice(local === 0 ? 0 : segment.nameEnds[local - 1]!, segment.nameEnds[local]);
    const path = `${segment.dirs[segment.dirOf[local]!]!}/${name}`;
    const { stats } = segment;
    const at = local * STAT_SLOTS;
    if (stats !== null && Atomics.load(segment.status, local) === STATUS_CHECK) {
      // No symlink is followed: the path is real, so a symlink here is a change.
      const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
      if (st !== undefined && st.isFile() && sameIdentity(st, stats, at)) {
        Atomics.store(segment.status, local, STATUS_UNCHANGED);
        return;
      }
    }
    const fd = openSync(path, OPEN_FLAGS);
    let stat: BigIntStats | Stats;
    let readStartNs = 0n;
    try {
      stat = stats !== null ? fstatSync(fd, { bigint: true }) : fstatSync(fd);
      if (!stat.isFile()) throw new NotRegularFile(`${path} is no longer a regular file`);
      if (stats !== null) readStartNs = BigInt(Date.now()) * 1_000_000n;
      this.#bytes += this.#digestFd(fd, Number(stat.size), segment.digests, local * this.#digestBytes);
    } finally {
      closeSync(fd);
    }
    let status = STATUS_HASHED_RACY;
    if (stats !== null) {
      const st = stat as BigIntStats;
      stats[at] = st.dev;
      stats[at + 1] = st.ino;
      stats[at + 2] = st.size;
      stats[at + 3] = st.mtimeNs;
      stats[at + 4] = st.ctimeNs;
      if (st.ctimeNs + this.#job.racyWindowNs < readStartNs) status = STATUS_HASHED;
    }
    Atomics.store(segment.status, local, status);
  }

  /** Reads `fd` to its end and writes its digests at `out[offset]`; returns the bytes read. */
  #digestFd(fd: number, size: number, out: Uint8Array, offset: number): number {
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (n === 0) break;
      filled += n;
      if (filled === buffer.length) return this.#digestStream(fd, out, offset);
      // A short read that reaches the size fstat gave is the end of a regular file: saves the
      // read() that would return 0. A file that grew is read on to its real end.
      if (filled === size) break;
    }
    const data = buffer.subarray(0, filled);
    if (this.#oneShot) {
      out.set(hashOnce(this.#job.algorithms[0]!, data, 'buffer'), offset);
      return filled;
    }
    const hashes = this.#job.algorithms.map((a) => createHash(a));
    const normalizer = this.#job.normalizeLineEndings ? new LineEndingNormalizer() : null;
    this.#update(hashes, normalizer, data);
    this.#finish(hashes, normalizer, out, offset);
    return filled;
  }

  /** A file larger than the buffer, whose first buffer-full is read: stream the rest through. */
  #digestStream(fd: number, out: Uint8Array, offset: number): number {
    const hashes = this.#job.algorithms.map((a) => createHash(a));
    const normalizer = this.#job.normalizeLineEndings ? new LineEndingNormalizer() : null;
    let total = buffer.length;
    this.#update(hashes, normalizer, buffer);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      total += n;
      this.#update(hashes, normalizer, n === buffer.length ? buffer : buffer.subarray(0, n));
    }
    this.#finish(hashes, normalizer, out, offset);
    return total;
  }

  #update(hashes: Hash[], normalizer: LineEndingNormalizer | null, chunk: Uint8Array): void {
    const data = normalizer === null ? chunk : normalizer.push(chunk);
    for (const h of hashes) h.update(data);
  }

  #finish(hashes: Hash[], normalizer: LineEndingNormalizer | null, out: Uint8Array, offset: number): void {
    if (normalizer !== null) {
      const tail = normalizer.end();
      for (const h of hashes) h.update(tail);
    }
    let at = offset;
    for (const h of hashes) {
      const digest = h.digest();
      out.set(digest, at);
      at += digest.length;
    }
  }

  #publishProgress(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.#lastProgress < 20) return;
    this.#lastProgress = now;
    this.#publishedBytes = this.#bytes;
    const { progress, slot } = this.#job;
    Atomics.store(progress, slot * 2, BigInt(this.#files));
    Atomics.store(progress, slot * 2 + 1, BigInt(this.#bytes));
  }
}

parentPort!.on('message', (job: JobMessage) => {
  parentPort!.postMessage(new JobRunner(job).run());
});
