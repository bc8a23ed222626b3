// The transparency log monitor's state in the database: per monitored log the last checkpoint it
// verified (so a restart resumes from it and still catches a rollback or a fork), and the alarms
// it raised, newest first. Several servers on PostgreSQL share both.
// Tables: migration 5 (sqlite-migrations.ts, postgres-migrations.ts).
import type { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { openDurableSqlite } from './connections.ts';

export interface MonitoredCheckpoint {
  logId: string;
  origin: string;
  size: number;
  /** base64 root hash */
  rootHash: string;
  /** The signed checkpoint note as verified. */
  checkpoint: string;
  /** Names of the witnesses whose cosignatures verified. */
  cosignatures: string[];
  verifiedAt: string;
}

export interface MonitorAlarmInput {
  logId: string;
  kind: string;
  /** The error code of the failed check (LOG_INCONSISTENT, TILE_INVALID, SIGNATURE_MISSING, …). */
  code: string;
  message: string;
  /** Tree size of the offending checkpoint, when it could be read. */
  size: number | null;
  /** The offending checkpoint text (evidence), when it could be read. */
  checkpoint: string | null;
  raisedAt: string;
}

export interface MonitorAlarmRecord extends MonitorAlarmInput {
  id: number;
}

export interface MonitorStateStore {
  checkpoints(): Promise<MonitoredCheckpoint[]>;
  /** Records a verified checkpoint; never one smaller than the stored one (servers sharing PostgreSQL race). */
  saveCheckpoint(state: MonitoredCheckpoint): Promise<void>;
  addAlarm(alarm: MonitorAlarmInput): Promise<MonitorAlarmRecord>;
  /** Alarms newest first; `before`: only ids below it (the next page). */
  alarms(options: { logId?: string; limit: number; before?: number }): Promise<MonitorAlarmRecord[]>;
  alarmCount(): Promise<number>;
  close(): Promise<void>;
}

/** Longest checkpoint text kept as evidence with an alarm. */
const EVIDENCE_CHARS = 8192;

interface CheckpointRow {
  log_id: string;
  origin: string;
  size: number | string;
  root_hash: string;
  checkpoint: string;
  cosignatures: string;
  verified_at: string;
}

interface AlarmRow {
  id: number | string;
  log_id: string;
  kind: string;
  code: string;
  message: string;
  size: number | string | null;
  checkpoint: string | null;
  raised_at: string;
}

function checkpointOf(r: CheckpointRow): MonitoredCheckpoint {
  return {
    logId: r.log_id,
    origin: r.origin,
    size: Number(r.size),
    rootHash: r.root_hash,
    checkpoint: r.checkpoint,
    cosignatures: JSON.parse(r.cosignatures) as string[],
    verifiedAt: r.verified_at,
  };
}

function alarmOf(r: AlarmRow): MonitorAlarmRecord {
  return {
    id: Number(r.id),
    logId: r.log_id,
    kind: r.kind,
    code: r.code,
    message: r.message,
    size: r.size === null ? null : Number(r.size),
    checkpoint: r.checkpoint,
    raisedAt: r.raised_at,
  };
}

const evidence = (text: string | null): string | null => (text === null ? null : text.slice(0, EVIDENCE_CHARS));

/** SQLite: its own connection to the store's file. */
export class SqliteMonitorState implements MonitorStateStore {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.#db = openDurableSqlite(path);
  }

  checkpoints(): Promise<MonitoredCheckpoint[]> {
    const rows = this.#db.prepare('SELECT * FROM monitor_logs ORDER BY log_id').all() as unknown as CheckpointRow[];
    return Promise.resolve(rows.map(checkpointOf));
  }

  saveCheckpoint(s: MonitoredCheckpoint): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO monitor_logs (log_id, origin, size, root_hash, checkpoint, cosignatures, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (log_id) DO UPDATE SET origin = excluded.origin, size = excluded.size, root_hash = excluded.root_hash,
           checkpoint = excluded.checkpoint, cosignatures = excluded.cosignatures, verified_at = excluded.verified_at
         WHERE excluded.size >= monitor_logs.size`,
      )
      .run(s.logId, s.origin, s.size, s.rootHash, s.checkpoint, JSON.stringify(s.cosignatures), s.verifiedAt);
    return Promise.resolve();
  }

  addAlarm(a: MonitorAlarmInput): Promise<MonitorAlarmRecord> {
    const result = this.#db
      .prepare('INSERT INTO monitor_alarms (log_id, kind, code, message, size, checkpoint, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(a.logId, a.kind, a.code, a.message, a.size, evidence(a.checkpoint), a.raisedAt);
    return Promise.resolve({ ...a, checkpoint: evidence(a.checkpoint), id: Number(result.lastInsertRowid) });
  }

  alarms(options: { logId?: string; limit: number; before?: number }): Promise<MonitorAlarmRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM monitor_alarms WHERE (? IS NULL OR log_id = ?) AND id < ? ORDER BY id DESC LIMIT ?')
      .all(options.logId ?? null, options.logId ?? null, options.before ?? Number.MAX_SAFE_INTEGER, options.limit) as unknown as AlarmRow[];
    return Promise.resolve(rows.map(alarmOf));
  }

  alarmCount(): Promise<number> {
    const row = this.#db.prepare('SELECT count(*) AS n FROM monitor_alarms').get() as { n: number };
    return Promise.resolve(Number(row.n));
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}

/** PostgreSQL: a small pool of its own. */
export class PostgresMonitorState implements MonitorStateStore {
  readonly #pool: pg.Pool;

  constructor(connectionString: string) {
    this.#pool = new pg.Pool({ connectionString, max: 2 });
    this.#pool.on('error', () => undefined);
  }

  async checkpoints(): Promise<MonitoredCheckpoint[]> {
    const { rows } = await this.#pool.query<CheckpointRow>('SELECT * FROM monitor_logs ORDER BY log_id');
    return rows.map(checkpointOf);
  }

  async saveCheckpoint(s: MonitoredCheckpoint): Promise<void> {
    await this.#pool.query(
      `INSERT INTO monitor_logs (log_id, origin, size, root_hash, checkpoint, cosignatures, verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (log_id) DO UPDATE SET origin = excluded.origin, size = excluded.size, root_hash = excluded.root_hash,
         checkpoint = excluded.checkpoint, cosignatures = excluded.cosignatures, verified_at = excluded.verified_at
         WHERE excluded.size >= monitor_logs.size`,
      [s.logId, s.origin, s.size, s.rootHash, s.checkpoint, JSON.stringify(s.cosignatures), s.verifiedAt],
    );
  }

  async addAlarm(a: MonitorAlarmInput): Promise<MonitorAlarmRecord> {
    const { rows } = await this.#pool.query<{ id: string }>(
      'INSERT INTO monitor_alarms (log_id, kind, code, message, size, checkpoint, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [a.logId, a.kind, a.code, a.message, a.size, evidence(a.checkpoint), a.raisedAt],
    );
    return { ...a, checkpoint: evidence(a.checkpoint), id: Number(rows[0]!.id) };
  }

  async alarms(options: { logId?: string; limit: number; before?: number }): Promise<MonitorAlarmRecord[]> {
    const { rows } = await this.#pool.query<AlarmRow>(
      'SELECT * FROM monitor_alarms WHERE ($1::text IS NULL OR log_id = $1) AND id < $2 ORDER BY id DESC LIMIT $3',
      [options.logId ?? null, options.before ?? Number.MAX_SAFE_INTEGER, options.limit],
    );
    return rows.map(alarmOf);
  }

  async alarmCount(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>('SELECT count(*) AS n FROM monitor_alarms');
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
