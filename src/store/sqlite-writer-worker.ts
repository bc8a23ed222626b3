// The writer thread's side of sqlite-writer.ts: one durable connection, writes in arrival order.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDurableSqlite, tuneSqliteConnection } from './connections.ts';
import { SqliteWrites } from './sqlite-writes.ts';
import type { WriteResult, WriteUnit } from './types.ts';

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
const db = openDurableSqlite(path, { busyTimeoutMs });
// Index inserts at a million rows touch b-tree pages all over the file: keep them cached.
tuneSqliteConnection(db);
const writes = new SqliteWrites(db);
const port: MessagePort | undefined = parentPort ?? undefined;

type Message = { id: number; units: WriteUnit[] } | { close: true };
type Write = { id: number; units: WriteUnit[] };

/** Each sender gets the results of its own units, in order. */
function answer(batch: readonly Write[], results: readonly WriteResult[]): void {
  let offset = 0;
  for (const { id, units } of batch) {
    parentPort?.postMessage({ id, results: results.slice(offset, offset + units.length) });
    offset += units.length;
  }
}

function fail(batch: readonly Write[], error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  for (const { id } of batch) parentPort?.postMessage({ id, error: { message: e.message, ...(typeof code === 'string' ? { code } : {}) } });
}

/** The next message already queued for this thread, without waiting. */
function queued(): Message | undefined {
  return port === undefined ? undefined : (receiveMessageOnPort(port)?.message as Message | undefined);
}

// Group commit on this side too: the writes that arrived while the last COMMIT was waiting for its
// fsync go into the next transaction together (the server keeps several writes in flight, so the
// thread does not wait for a round trip to the event loop between two commits). Each sender gets
// its results, or the transaction's error, only once that transaction has committed or failed.
parentPort?.on('message', (first: Message) => {
  const batch: Write[] = [];
  let close = false;
  for (let m: Message | undefined = first; m !== undefined; m = queued()) {
    if ('close' in m) {
      close = true;
      break;
    }
    batch.push(m);
  }
  if (batch.length > 0) {
    try {
      answer(batch, writes.write(batch.flatMap((m) => m.units)));
    } catch (e) {
      fail(batch, e);
    }
  }
  if (close) {
    db.close();
    parentPort?.postMessage({ id: -1, closed: true });
    parentPort?.close();
  }
});
