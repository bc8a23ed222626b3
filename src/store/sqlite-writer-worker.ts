// The writer thread's side of sqlite-writer.ts: one durable connection, writes in arrival order.
import { parentPort, workerData } from 'node:worker_threads';
import { openDurableSqlite } from './connections.ts';
import { SqliteWrites } from './sqlite-writes.ts';
import type { WriteUnit } from './types.ts';

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
const db = openDurableSqlite(path, { busyTimeoutMs });
const writes = new SqliteWrites(db);

parentPort?.on('message', (message: { id: number; units: WriteUnit[] } | { close: true }) => {
  if ('close' in message) {
    db.close();
    parentPort?.close();
    return;
  }
  try {
    parentPort?.postMessage({ id: message.id, results: writes.write(message.units) });
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    const code = (error as { code?: unknown }).code;
    parentPort?.postMessage({ id: message.id, error: { message: error.message, ...(typeof code === 'string' ? { code } : {}) } });
  }
});
