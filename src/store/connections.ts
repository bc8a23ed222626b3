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

/**
 * Read tuning for a long-lived store connection. SQLite's default page cache is 2 MB, so with a
 * large store nearly every index and row page of a query came from the OS through a read() call:
 * at 1,000,000 attestations that was most of a query-by-subject's time (docs/bench-server.md).
 * mmap_size maps the file so such pages are read without a system call or a copy
 * (https://sqlite.org/mmap.html; node:sqlite caps it at just under 2 GiB); cache_size keeps the
 * hot b-tree pages in the connection. Neither touches durability: writes still go through the WAL
 * with synchronous=FULL.
 */
export function tuneSqliteConnection(db: DatabaseSync, options: { mmapBytes?: number; cacheKiB?: number } = {}): void {
  db.exec(`PRAGMA mmap_size = ${Math.trunc(options.mmapBytes ?? SQLITE_MMAP_BYTES)}`);
  // A negative cache_size is in KiB (https://sqlite.org/pragma.html#pragma_cache_size).
  db.exec(`PRAGMA cache_size = ${-Math.trunc(options.cacheKiB ?? SQLITE_CACHE_KIB)}`);
}

/** Address space mapped per connection (not memory used: pages are shared with the OS cache). */
export const SQLITE_MMAP_BYTES = 2 * 1024 ** 3;
/** Page cache per connection: 64 MiB. */
export const SQLITE_CACHE_KIB = 64 * 1024;

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
