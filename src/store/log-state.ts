// Sequencing state of the transparency log kept in the database: which leaf hashes the log holds
// (deduplication), how far that index reaches, and — on PostgreSQL, where several servers share
// one log — the queue of entries waiting for the one sequencer and the sequencer lock.
// Tables: migration 2 (sqlite-migrations.ts, postgres-migrations.ts).
import type { DatabaseSync } from 'node:sqlite';
import { inTransaction, openDurableSqlite } from './connections.ts';
import pg from 'pg';

export interface QueuedEntry {
  readonly id: number;
  readonly entry: Uint8Array;
}

export interface LogState {
  /** Log indexes of the leaf hashes the log already holds (hex leaf hash → index). */
  lookup(leafHashes: readonly Uint8Array[]): Promise<Map<string, number>>;
  /**
   * Records integrated leaves and the new indexed size, and drops the queue rows they came from,
   * in one transaction.
   */
  record(leaves: readonly { leafHash: Uint8Array; index: number }[], indexedSize: number, dequeued?: readonly number[]): Promise<void>;
  /** Up to which tree size the leaf index is complete. */
  indexedSize(): Promise<number>;
  /** Shared queue (several servers): adds entries for the sequencer. */
  enqueue(entries: readonly Uint8Array[]): Promise<void>;
  /** The oldest queued entries. */
  peekQueue(limit: number): Promise<QueuedEntry[]>;
  /** Takes (or keeps) the sequencer role; true while this process holds it. */
  acquireSequencer(): Promise<boolean>;
  close(): Promise<void>;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** SQLite: one process serves the log, so it always sequences; its own connection to the store's file. */
export class SqliteLogState implements LogState {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.#db = openDurableSqlite(path);
  }

  lookup(leafHashes: readonly Uint8Array[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    const stmt = this.#db.prepare('SELECT idx FROM tlog_leaves WHERE leaf_hash = ?');
    for (const h of leafHashes) {
      const row = stmt.get(h) as { idx: number } | undefined;
      if (row !== undefined) found.set(hex(h), Number(row.idx));
    }
    return Promise.resolve(found);
  }

  record(leaves: readonly { leafHash: Uint8Array; index: number }[], indexedSize: number, dequeued: readonly number[] = []): Promise<void> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const insert = this.#db.prepare('INSERT OR IGNORE INTO tlog_leaves (leaf_hash, idx) VALUES (?, ?)');
      for (const l of leaves) insert.run(l.leafHash, l.index);
      this.#db.prepare('UPDATE tlog_state SET indexed_size = MAX(indexed_size, ?) WHERE id = 1').run(indexedSize);
      const del = this.#db.prepare('DELETE FROM tlog_queue WHERE id = ?');
      for (const id of dequeued) del.run(id);
      this.#db.exec('COMMIT');
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return Promise.resolve();
  }

  indexedSize(): Promise<number> {
    const row = this.#db.prepare('SELECT indexed_size FROM tlog_state WHERE id = 1').get() as { indexed_size: number } | undefined;
    return Promise.resolve(Number(row?.indexed_size ?? 0));
  }

  enqueue(entries: readonly Uint8Array[]): Promise<void> {
    const insert = this.#db.prepare('INSERT INTO tlog_queue (entry) VALUES (?)');
    for (const e of entries) insert.run(e);
    return Promise.resolve();
  }

  peekQueue(limit: number): Promise<QueuedEntry[]> {
    const rows = this.#db.prepare('SELECT id, entry FROM tlog_queue ORDER BY id LIMIT ?').all(limit) as { id: number; entry: Uint8Array }[];
    return Promise.resolve(rows.map((r) => ({ id: Number(r.id), entry: new Uint8Array(r.entry) })));
  }

  acquireSequencer(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}

// Arbitrary constant naming the sequencer lock (session-level advisory lock: released when the
// holder's connection ends, so a dead sequencer's role is taken over by the next one to ask).
const SEQUENCER_LOCK = 0x746c6f67736571n;

/** PostgreSQL: several servers share the log; the holder of an advisory lock sequences. */
export class PostgresLogState implements LogState {
  readonly #pool: pg.Pool;
  #lockClient: pg.Client | undefined;
  #lockLost = false;
  readonly #connectionString: string;

  constructor(connectionString: string) {
    this.#connectionString = connectionString;
    this.#pool = new pg.Pool({ connectionString, max: 4 });
    this.#pool.on('error', () => undefined);
  }

  async lookup(leafHashes: readonly Uint8Array[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (leafHashes.length === 0) return found;
    const { rows } = await this.#pool.query<{ leaf_hash: Buffer; idx: string }>('SELECT leaf_hash, idx FROM tlog_leaves WHERE leaf_hash = ANY($1::bytea[])', [
      leafHashes.map((h) => Buffer.from(h)),
    ]);
    for (const r of rows) found.set(r.leaf_hash.toString('hex'), Number(r.idx));
    return found;
  }

  async record(leaves: readonly { leafHash: Uint8Array; index: number }[], indexedSize: number, dequeued: readonly number[] = []): Promise<void> {
    await inTransaction(
      this.#pool,
      async (client) => {
        await client.query('INSERT INTO tlog_leaves (leaf_hash, idx) SELECT * FROM unnest($1::bytea[], $2::int8[]) ON CONFLICT DO NOTHING', [
          leaves.map((l) => Buffer.from(l.leafHash)),
          leaves.map((l) => l.index),
        ]);
        await client.query('UPDATE tlog_state SET indexed_size = GREATEST(indexed_size, $1) WHERE id = 1', [indexedSize]);
        if (dequeued.length > 0) await client.query('DELETE FROM tlog_queue WHERE id = ANY($1::int8[])', [dequeued]);
      },
      1,
    );
  }

  async indexedSize(): Promise<number> {
    const { rows } = await this.#pool.query<{ indexed_size: string }>('SELECT indexed_size FROM tlog_state WHERE id = 1');
    return Number(rows[0]?.indexed_size ?? 0);
  }

  async enqueue(entries: readonly Uint8Array[]): Promise<void> {
    await this.#pool.query('INSERT INTO tlog_queue (entry) SELECT * FROM unnest($1::bytea[])', [entries.map((e) => Buffer.from(e))]);
  }

  async peekQueue(limit: number): Promise<QueuedEntry[]> {
    const { rows } = await this.#pool.query<{ id: string; entry: Buffer }>('SELECT id, entry FROM tlog_queue ORDER BY id LIMIT $1', [limit]);
    return rows.map((r) => ({ id: Number(r.id), entry: new Uint8Array(r.entry) }));
  }

  async acquireSequencer(): Promise<boolean> {
    if (this.#lockClient !== undefined && !this.#lockLost) return true;
    if (this.#lockClient !== undefined) {
      await this.#lockClient.end().catch(() => undefined);
      this.#lockClient = undefined;
    }
    const client = new pg.Client({ connectionString: this.#connectionString });
    client.on('error', () => {
      this.#lockLost = true;
    });
    await client.connect();
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int8) AS locked', [SEQUENCER_LOCK.toString()]);
    if (rows[0]?.locked !== true) {
      await client.end();
      return false;
    }
    this.#lockClient = client;
    this.#lockLost = false;
    return true;
  }

  async close(): Promise<void> {
    await this.#lockClient?.end().catch(() => undefined);
    await this.#pool.end();
  }
}
