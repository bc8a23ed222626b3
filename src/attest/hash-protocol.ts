// What the tree hasher's main thread and its hashing workers share. Work is handed out through
// shared memory so each file goes to whichever worker is free (one huge file never holds up a
// queue of small ones) without a message round trip per file:
//  - the main thread posts "segments" (files as real directory + name, plus shared result arrays)
//    to every worker's port, then raises PUBLISHED;
//  - workers claim file indices with Atomics.add on CLAIMED, read their segments synchronously
//    (receiveMessageOnPort) and write digests and stats straight into the segment's arrays;
//  - each worker reports "end" (or "error") by message when nothing is left to claim.

/** Int32 slots of a job's control array. */
export const PUBLISHED = 0;
export const CLAIMED = 1;
export const CLOSED = 2;
export const CANCEL = 3;
export const CONTROL_SLOTS = 4;

/** Per-file status in a segment's status array. */
export const STATUS_PENDING = 0;
/** Set by the main thread: a cached entry exists, its identity is in `stats`; re-stat first. */
export const STATUS_CHECK = 1;
/** Hashed; the stat is old enough to cache (see stat-cache.ts). */
export const STATUS_HASHED = 2;
/** Hashed, but changed too recently to cache. */
export const STATUS_HASHED_RACY = 3;
/** Stat unchanged since it was cached: the cached digests hold. */
export const STATUS_UNCHANGED = 4;

/** BigInt64 slots per file in `stats`: dev, ino, size, mtimeNs, ctimeNs. */
export const STAT_SLOTS = 5;

/** Read buffer per worker: files up to this size are read whole with one read() and hashed in one call. */
export const READ_BUFFER_BYTES = 512 * 1024;

export interface JobMessage {
  type: 'job';
  job: number;
  control: Int32Array;
  /** Two BigInt64 slots per worker: files done, bytes read. */
  progress: BigInt64Array;
  slot: number;
  algorithms: string[];
  normalizeLineEndings: boolean;
  /** Stat fields are written to segments (a stat cache is in use). */
  withStats: boolean;
  racyWindowNs: bigint;
}

export interface SegmentMessage {
  job: number;
  /** Job-wide index of the segment's first file. */
  first: number;
  /** Files in the segment. */
  count: number;
  /**
   * Real directories of the segment's files; file i is `dirs[dirOf[i]] + '/' + name i`, where
   * name i is `names.slice(nameEnds[i - 1] ?? 0, nameEnds[i])`: the names travel as one string
   * (structured clone copies one string instead of creating a thousand, in each worker).
   */
  dirs: string[];
  dirOf: Int32Array;
  names: string;
  nameEnds: Int32Array;
  status: Int32Array;
  digests: Uint8Array;
  stats: BigInt64Array | null;
}

export type WorkerReply =
  | { type: 'end'; job: number }
  | { type: 'error'; job: number; index: number; code: string; message: string };

/** Bytes of each algorithm's digest, in the order they are stored for a file. */
export const DIGEST_BYTES: Readonly<Record<string, number>> = { sha256: 32, sha384: 48, sha512: 64 };
