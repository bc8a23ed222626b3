// The signing service's state in the database: sign-then-verify verification jobs and revoked
// signatures. Several servers on PostgreSQL share it; a job is claimed with FOR UPDATE SKIP LOCKED
// so only one server decides it. Tables: migration 4 (sqlite-migrations.ts, postgres-migrations.ts).
import type { DatabaseSync } from 'node:sqlite';
import { openDurableSqlite } from './connections.ts';
import pg from 'pg';

export type SigningJobStatus = 'pending' | 'passed' | 'failed';

export interface SigningJob {
  id: string;
  keyRef: string;
  keyid: string;
  namespace: string;
  artifactName: string;
  /** sha256 hex of the artifact. */
  artifactDigest: string;
  /** sha256 hex of the signature bytes. */
  signatureDigest: string;
  logIndex?: number;
  createdAt: string;
  deadline: string;
  status: SigningJobStatus;
  finishedAt?: string;
  reason?: string;
}

export interface RevokedSignatureRecord {
  signatureDigest: string;
  keyid: string;
  artifactDigest: string;
  artifactName: string;
  logIndex?: number;
  revokedAt: string;
  reason: string;
}

export type JobDecision = { status: 'passed'; at: string; reason: string } | { status: 'failed'; revocation: RevokedSignatureRecord } | undefined;

export interface SigningState {
  addJob(job: SigningJob): Promise<void>;
  job(id: string): Promise<SigningJob | undefined>;
  /**
   * Decides pending jobs one at a time: `decide` returns undefined (still pending), 'passed', or a
   * revocation. Each decision is committed with the job row locked (PostgreSQL: SKIP LOCKED).
   */
  processPending(
    limit: number,
    decide: (job: SigningJob) => Promise<JobDecision>,
  ): Promise<SigningJob[]>;
  revokedSignatures(): Promise<RevokedSignatureRecord[]>;
  close(): Promise<void>;
}

interface JobRow {
  id: string;
  key_ref: string;
  keyid: string;
  namespace: string;
  artifact_name: string;
  artifact_digest: string;
  signature_digest: string;
  log_index: number | string | null;
  created_at: string;
  deadline: string;
  status: string;
  finished_at: string | null;
  reason: string | null;
}

interface RevokedRow {
  signature_digest: string;
  keyid: string;
  artifact_digest: string;
  artifact_name: string;
  log_index: number | string | null;
  revoked_at: string;
  reason: string;
}

function jobOf(r: JobRow): SigningJob {
  return {
    id: r.id,
    keyRef: r.key_ref,
    keyid: r.keyid,
    namespace: r.namespace,
    artifactName: r.artifact_name,
    artifactDigest: r.artifact_digest,
    signatureDigest: r.signature_digest,
    ...(r.log_index === null ? {} : { logIndex: Number(r.log_index) }),
    createdAt: r.created_at,
    deadline: r.deadline,
    status: r.status as SigningJobStatus,
    ...(r.finished_at === null ? {} : { finishedAt: r.finished_at }),
    ...(r.reason === null ? {} : { reason: r.reason }),
  };
}

function revokedOf(r: RevokedRow): RevokedSignatureRecord {
  return {
    signatureDigest: r.signature_digest,
    keyid: r.keyid,
    artifactDigest: r.artifact_digest,
    artifactName: r.artifact_name,
    ...(r.log_index === null ? {} : { logIndex: Number(r.log_index) }),
    revokedAt: r.revoked_at,
    reason: r.reason,
  };
}

const JOB_COLUMNS = 'id, key_ref, keyid, namespace, artifact_name, artifact_digest, signature_digest, log_index, created_at, deadline, status, finished_at, reason';

function jobValues(j: SigningJob): (string | number | null)[] {
  return [j.id, j.keyRef, j.keyid, j.namespace, j.artifactName, j.artifactDigest, j.signatureDigest, j.logIndex ?? null, j.createdAt, j.deadline, j.status, j.finishedAt ?? null, j.reason ?? null];
}

function revokedValues(r: RevokedSignatureRecord): (string | number | null)[] {
  return [r.signatureDigest, r.keyid, r.artifactDigest, r.artifactName, r.logIndex ?? null, r.revokedAt, r.reason];
}

/** SQLite: its own connection to the store's file (one server process). */
export class SqliteSigningState implements SigningState {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.#db = openDurableSqlite(path);
  }

  addJob(job: SigningJob): Promise<void> {
    this.#db.prepare(`INSERT INTO signing_jobs (${JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...jobValues(job));
    return Promise.resolve();
  }

  job(id: string): Promise<SigningJob | undefined> {
    const row = this.#db.prepare(`SELECT ${JOB_COLUMNS} FROM signing_jobs WHERE id = ?`).get(id) as JobRow | undefined;
    return Promise.resolve(row === undefined ? undefined : jobOf(row));
  }

  async processPending(limit: number, decide: (job: SigningJob) => Promise<JobDecision>): Promise<SigningJob[]> {
    const rows = this.#db.prepare(`SELECT ${JOB_COLUMNS} FROM signing_jobs WHERE status = 'pending' ORDER BY created_at LIMIT ?`).all(limit) as unknown as JobRow[];
    const decided: SigningJob[] = [];
    for (const row of rows) {
      const job = jobOf(row);
      const d = await decide(job);
      if (d === undefined) continue;
      const at = d.status === 'failed' ? d.revocation.revokedAt : d.at;
      const reason = d.status === 'failed' ? d.revocation.reason : d.reason;
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        if (d.status === 'failed') {
          this.#db.prepare('INSERT OR IGNORE INTO signing_revocations (signature_digest, keyid, artifact_digest, artifact_name, log_index, revoked_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)').run(...revokedValues(d.revocation));
        }
        this.#db.prepare("UPDATE signing_jobs SET status = ?, finished_at = ?, reason = ? WHERE id = ? AND status = 'pending'").run(d.status, at, reason, job.id);
        this.#db.exec('COMMIT');
      } catch (e) {
        this.#db.exec('ROLLBACK');
        throw e;
      }
      decided.push({ ...job, status: d.status, finishedAt: at, reason });
    }
    return decided;
  }

  revokedSignatures(): Promise<RevokedSignatureRecord[]> {
    const rows = this.#db.prepare('SELECT signature_digest, keyid, artifact_digest, artifact_name, log_index, revoked_at, reason FROM signing_revocations ORDER BY revoked_at, signature_digest').all() as unknown as RevokedRow[];
    return Promise.resolve(rows.map(revokedOf));
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}

/** PostgreSQL: shared by every server; one decides each job (row lock, SKIP LOCKED). */
export class PostgresSigningState implements SigningState {
  readonly #pool: pg.Pool;

  constructor(connectionString: string) {
    this.#pool = new pg.Pool({ connectionString, max: 2 });
    this.#pool.on('error', () => undefined);
  }

  async addJob(job: SigningJob): Promise<void> {
    await this.#pool.query(`INSERT INTO signing_jobs (${JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, jobValues(job));
  }

  async job(id: string): Promise<SigningJob | undefined> {
    const { rows } = await this.#pool.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM signing_jobs WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : jobOf(rows[0]);
  }

  async processPending(limit: number, decide: (job: SigningJob) => Promise<JobDecision>): Promise<SigningJob[]> {
    const decided: SigningJob[] = [];
    for (let i = 0; i < limit; i++) {
      const client = await this.#pool.connect();
      try {
        await client.query('BEGIN');
        // The oldest pending job no other server is deciding; jobs left pending are skipped by
        // created_at so that one undecided job does not block the rest.
        const { rows } = await client.query<JobRow>(
          `SELECT ${JOB_COLUMNS} FROM signing_jobs WHERE status = 'pending' ORDER BY created_at OFFSET $1 LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [i - decided.length],
        );
        const row = rows[0];
        if (row === undefined) {
          await client.query('ROLLBACK');
          break;
        }
        const job = jobOf(row);
        const d = await decide(job);
        if (d === undefined) {
          await client.query('ROLLBACK');
          continue;
        }
        if (d.status === 'failed') {
          await client.query(
            'INSERT INTO signing_revocations (signature_digest, keyid, artifact_digest, artifact_name, log_index, revoked_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
            revokedValues(d.revocation),
          );
        }
        const at = d.status === 'failed' ? d.revocation.revokedAt : d.at;
        const reason = d.status === 'failed' ? d.revocation.reason : d.reason;
        await client.query('UPDATE signing_jobs SET status = $1, finished_at = $2, reason = $3 WHERE id = $4', [d.status, at, reason, job.id]);
        await client.query('COMMIT');
        decided.push({ ...job, status: d.status, finishedAt: at, reason });
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    }
    return decided;
  }

  async revokedSignatures(): Promise<RevokedSignatureRecord[]> {
    const { rows } = await this.#pool.query<RevokedRow>('SELECT signature_digest, keyid, artifact_digest, artifact_name, log_index, revoked_at, reason FROM signing_revocations ORDER BY revoked_at, signature_digest');
    return rows.map(revokedOf);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
