// How every store table set opens its connections: SQLite durable (WAL + synchronous=FULL, so a
// commit is fsynced before it returns) and PostgreSQL transactions that always end (COMMIT, or
// ROLLBACK and release), retrying deadlocks and serialization failures a few times.
import { DatabaseSync } from 'node:sqlite';
import type pg from 'pg';

export function openDurableSqlite(path: string, options: { busyTimeoutMs?: number; foreignKeys?: boolean } = {}): DatabaseSync {
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: options.foreignKeys ?? true });
  // Durability: WAL + FULL fsyncs the WAL at every commit (https://sqlite.org/pragma.html#pragma_synchronous).
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 10_000)}`);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  return db;
}

/** PostgreSQL error codes worth running a transaction again for: deadlock, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);

export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (e as { code?: unknown }).code;
      if (attempt < attempts && typeof code === 'string' && RETRYABLE.has(code)) continue;
      throw e;
    } finally {
      client.release();
    }
  }
}
