// The SQLite writer thread. node:sqlite is synchronous: a COMMIT with synchronous=FULL waits for
// the fsync on the calling thread, and on the server's event loop that wait stopped every other
// request (a third of the main thread's time under load, docs/bench-server.md). Here a worker
// thread owns a second connection to the same file and runs write() there; the main thread keeps
// parsing and verifying the next uploads meanwhile and reads through its own connection (WAL lets
// readers run beside the writer). write() resolves only after the worker's COMMIT returned, so an
// acknowledged upload is on disk exactly as before.
import { Worker } from 'node:worker_threads';
import type { WriteResult, WriteUnit } from './types.ts';

interface Reply {
  id: number;
  /** Sent once after the connection closed: the thread may then be ended. */
  closed?: true;
  results?: WriteResult[];
  error?: { message: string; code?: string };
}

/**
 * postMessage copies a typed array's whole ArrayBuffer, and an upload's bytes are usually a slice
 * of node's shared 64 KiB Buffer pool: each write copied 64 KiB to the thread (≈ 10× the cost of
 * the message itself, measured). Exact-size copies of the documents go instead.
 */
function compactBytes(unit: WriteUnit): WriteUnit {
  const a = unit.attestations;
  if (a === undefined || a.records.every((r) => r.bytes.byteLength === r.bytes.buffer.byteLength)) return unit;
  return { ...unit, attestations: { ...a, records: a.records.map((r) => (r.bytes.byteLength === r.bytes.buffer.byteLength ? r : { ...r, bytes: new Uint8Array(r.bytes) })) } };
}

export class SqliteWriterThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: WriteResult[]) => void; reject: (e: Error) => void }>();
  #next = 0;
  #failure: Error | undefined;
  #closed: Promise<void> | undefined;

  constructor(path: string, busyTimeoutMs: number) {
    this.#worker = new Worker(new URL('./sqlite-writer-worker.ts', import.meta.url), { workerData: { path, busyTimeoutMs } });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => {
      // The connection is closed and every write answered: end the thread rather than wait for its
      // event loop to drain (a closed parentPort did not always end it, and close() hung).
      if (reply.closed === true) {
        void this.#worker.terminate();
        return;
      }
      const p = this.#pending.get(reply.id);
      if (p === undefined) return;
      this.#pending.delete(reply.id);
      // Idle, the thread does not keep the process alive; with writes in flight it does.
      if (this.#pending.size === 0) this.#worker.unref();
      if (reply.results !== undefined) p.resolve(reply.results);
      else p.reject(Object.assign(new Error(reply.error?.message ?? 'store: write failed'), reply.error?.code === undefined ? {} : { code: reply.error.code }));
    });
    // A dead writer fails every write, now and later (fail closed: nothing unwritten is acknowledged).
    const fail = (e: Error): void => {
      this.#failure ??= e;
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`store: the SQLite writer thread exited (${code})`)));
  }

  write(units: readonly WriteUnit[]): Promise<WriteResult[]> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, units: units.map(compactBytes) });
    });
  }

  /** Finishes the writes already sent, closes the connection and ends the thread. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      if (this.#failure !== undefined) {
        void this.#worker.terminate().then(() => resolve());
        return;
      }
      this.#worker.ref();
      this.#worker.once('exit', () => resolve());
      this.#worker.postMessage({ close: true });
    });
    return this.#closed;
  }
}
