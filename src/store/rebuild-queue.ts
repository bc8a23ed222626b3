// The rebuild job queue: provenance waiting for independent rebuilders. A job wants `wanted`
// rebuilds, each by a different rebuilder (k of n independent rebuilders); a rebuilder claims a
// job under a lease and completes it with the VSA it stored. On PostgreSQL, rebuilders on many
// machines share the work through `FOR UPDATE SKIP LOCKED`; SQLite (embedded) has one writer.
// Tables: migration 3 (sqlite-migrations.ts, postgres-migrations.ts).
import type { DatabaseSync } from 'node:sqlite';
import { inTransaction, openDurableSqlite } from './connections.ts';
import pg from 'pg';

export interface RebuildJobInput {
  namespace: string;
  /** Store id (sha256) of the provenance attestation to rebuild. */
  provenanceId: string;
  /** Repository to clone instead of the URI the provenance records. */
  git?: string;
  commit?: string;
  /** Independent rebuilds wanted (distinct rebuilders). */
  wanted: number;
}

export interface RebuildClaim {
  worker: string;
  state: 'running' | 'done';
  leaseUntil: string;
  /** PASSED or FAILED once done. */
  result?: string;
  /** Store id of the VSA the rebuilder posted. */
  vsaId?: string;
  finishedAt?: string;
}

export interface RebuildJob extends RebuildJobInput {
  id: number;
  state: 'open' | 'done';
  createdAt: string;
  claims: RebuildClaim[];
}

export interface RebuildQueue {
  enqueue(job: RebuildJobInput, now: Date): Promise<RebuildJob>;
  /** The oldest open job this worker has not claimed, that still needs a rebuilder; claimed under a lease. */
  claim(worker: string, now: Date, leaseMs: number): Promise<RebuildJob | undefined>;
  /** Records the worker's result; false when it holds no running claim on the job. */
  complete(id: number, worker: string, result: { result: string; vsaId: string }, now: Date): Promise<boolean>;
  get(id: number): Promise<RebuildJob | undefined>;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;

/** A text column (null or absent: undefined). */
function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined;
}

function optionalText<K extends string>(key: K, v: unknown): Partial<Record<K, string>> {
  const t = text(v);
  return t === undefined ? {} : ({ [key]: t } as Record<K, string>);
}

function jobFromRows(job: Row, claims: Row[]): RebuildJob {
  const out: RebuildJob = {
    id: Number(job['id']),
    namespace: text(job['namespace']) ?? '',
    provenanceId: text(job['provenance_id']) ?? '',
    wanted: Number(job['wanted']),
    state: job['state'] === 'done' ? 'done' : 'open',
    createdAt: text(job['created_at']) ?? '',
    claims: claims.map((c) => ({
      worker: text(c['worker']) ?? '',
      state: c['state'] === 'done' ? 'done' : 'running',
      leaseUntil: text(c['lease_until']) ?? '',
      ...optionalText('result', c['result']),
      ...optionalText('vsaId', c['vsa_id']),
      ...optionalText('finishedAt', c['finished_at']),
    })),
  };
  const git = text(job['git']);
  const commit = text(job['commit_id']);
  if (git !== undefined) out.git = git;
  if (commit !== undefined) out.commit = commit;
  return out;
}

// A job still needs a rebuilder while fewer than `wanted` claims are done or running on a live lease.
const CLAIMABLE = (p: (n: number) => string): string => `
  j.state = 'open'
  AND NOT EXISTS (SELECT 1 FROM rebuild_claims c WHERE c.job_id = j.id AND c.worker = ${p(1)})
  AND (SELECT count(*) FROM rebuild_claims c WHERE c.job_id = j.id AND (c.state = 'done' OR c.lease_until > ${p(2)})) < j.wanted`;

/** SQLite: its own connection to the store's file, as the transparency log state has. */
export class SqliteRebuildQueue implements RebuildQueue {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.#db = openDurableSqlite(path);
  }

  #tx<T>(fn: () => T): Promise<T> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return Promise.resolve(result);
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #get(id: number): RebuildJob | undefined {
    const job = this.#db.prepare('SELECT * FROM rebuild_jobs WHERE id = ?').get(id) as Row | undefined;
    if (job === undefined) return undefined;
    return jobFromRows(job, this.#db.prepare('SELECT * FROM rebuild_claims WHERE job_id = ? ORDER BY worker').all(id));
  }

  enqueue(job: RebuildJobInput, now: Date): Promise<RebuildJob> {
    return this.#tx(() => {
      const row = this.#db
        .prepare("INSERT INTO rebuild_jobs (namespace, provenance_id, git, commit_id, wanted, state, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?) RETURNING id")
        .get(job.namespace, job.provenanceId, job.git ?? null, job.commit ?? null, job.wanted, now.toISOString()) as Row;
      return this.#get(Number(row['id']))!;
    });
  }

  claim(worker: string, now: Date, leaseMs: number): Promise<RebuildJob | undefined> {
    return this.#tx(() => {
      const job = this.#db.prepare(`SELECT j.id FROM rebuild_jobs j WHERE ${CLAIMABLE(() => '?')} ORDER BY j.id LIMIT 1`).get(worker, now.toISOString()) as Row | undefined;
      if (job === undefined) return undefined;
      const id = Number(job['id']);
      this.#db.prepare("INSERT INTO rebuild_claims (job_id, worker, state, lease_until) VALUES (?, ?, 'running', ?)").run(id, worker, new Date(now.getTime() + leaseMs).toISOString());
      return this.#get(id);
    });
  }

  complete(id: number, worker: string, result: { result: string; vsaId: string }, now: Date): Promise<boolean> {
    return this.#tx(() => {
      const changed = this.#db
        .prepare("UPDATE rebuild_claims SET state = 'done', result = ?, vsa_id = ?, finished_at = ? WHERE job_id = ? AND worker = ? AND state = 'running'")
        .run(result.result, result.vsaId, now.toISOString(), id, worker).changes;
      if (Number(changed) === 0) return false;
      this.#db.prepare("UPDATE rebuild_jobs SET state = 'done' WHERE id = ? AND (SELECT count(*) FROM rebuild_claims WHERE job_id = ? AND state = 'done') >= wanted").run(id, id);
      return true;
    });
  }

  get(id: number): Promise<RebuildJob | undefined> {
    return Promise.resolve(this.#get(id));
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}

/** PostgreSQL: rebuilders on many machines; a claim skips jobs another claim is holding locked. */
export class PostgresRebuildQueue implements RebuildQueue {
  readonly #pool: pg.Pool;

  constructor(connectionString: string) {
    this.#pool = new pg.Pool({ connectionString, max: 4 });
    this.#pool.on('error', () => undefined);
  }

  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, fn, 1);
  }

  async #get(c: pg.PoolClient | pg.Pool, id: number): Promise<RebuildJob | undefined> {
    const job = (await c.query<Row>('SELECT * FROM rebuild_jobs WHERE id = $1', [id])).rows[0];
    if (job === undefined) return undefined;
    return jobFromRows(job, (await c.query<Row>('SELECT * FROM rebuild_claims WHERE job_id = $1 ORDER BY worker', [id])).rows);
  }

  enqueue(job: RebuildJobInput, now: Date): Promise<RebuildJob> {
    return this.#tx(async (c) => {
      const { rows } = await c.query<Row>(
        "INSERT INTO rebuild_jobs (namespace, provenance_id, git, commit_id, wanted, state, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6) RETURNING id",
        [job.namespace, job.provenanceId, job.git ?? null, job.commit ?? null, job.wanted, now.toISOString()],
      );
      return (await this.#get(c, Number(rows[0]!['id'])))!;
    });
  }

  claim(worker: string, now: Date, leaseMs: number): Promise<RebuildJob | undefined> {
    return this.#tx(async (c) => {
      const passedOver: number[] = [];
      for (;;) {
        // The row lock holds until COMMIT; concurrent claimers skip it and take the next job.
        const { rows } = await c.query<Row>(
          `SELECT j.id FROM rebuild_jobs j WHERE ${CLAIMABLE((n) => `$${n}`)} AND j.id <> ALL ($3::int8[]) ORDER BY j.id LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [worker, now.toISOString(), passedOver],
        );
        const job = rows[0];
        if (job === undefined) return undefined;
        const id = Number(job['id']);
        // A claim committed after this statement took its snapshot is invisible to it, and FOR
        // UPDATE re-checks only the locked job row, which a claim does not change: the same job
        // could be taken twice. A new statement sees every committed claim, and while this
        // transaction holds the row lock no other claim for the job can commit.
        const recheck = await c.query(`SELECT 1 FROM rebuild_jobs j WHERE j.id = $3 AND ${CLAIMABLE((n) => `$${n}`)}`, [worker, now.toISOString(), id]);
        if (recheck.rowCount === 0) {
          passedOver.push(id);
          continue;
        }
        await c.query("INSERT INTO rebuild_claims (job_id, worker, state, lease_until) VALUES ($1, $2, 'running', $3)", [id, worker, new Date(now.getTime() + leaseMs).toISOString()]);
        return this.#get(c, id);
      }
    });
  }


  complete(id: number, worker: string, result: { result: string; vsaId: string }, now: Date): Promise<boolean> {
    return this.#tx(async (c) => {
      const { rowCount } = await c.query(
        "UPDATE rebuild_claims SET state = 'done', result = $1, vsa_id = $2, finished_at = $3 WHERE job_id = $4 AND worker = $5 AND state = 'running'",
        [result.result, result.vsaId, now.toISOString(), id, worker],
      );
      if (rowCount === 0) return false;
      await c.query("UPDATE rebuild_jobs SET state = 'done' WHERE id = $1 AND (SELECT count(*) FROM rebuild_claims WHERE job_id = $1 AND state = 'done') >= wanted", [id]);
      return true;
    });
  }

  get(id: number): Promise<RebuildJob | undefined> {
    return this.#get(this.#pool, id);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
