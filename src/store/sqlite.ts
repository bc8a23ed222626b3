// The embedded store: one SQLite file in the data directory through node:sqlite. WAL journal with
// synchronous=FULL, so a transaction is on disk (fsynced) before write() returns and the server
// acknowledges it.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync} from 'node:sqlite';
import { type SQLInputValue, type StatementSync } from 'node:sqlite';
import { chainEntries } from './audit-chain.ts';
import { openDurableSqlite } from './connections.ts';
import { uniqueDigestRefs } from './ingest.ts';
import {
  ATTESTATION_INSERT_COLUMNS,
  AUDIT_COLUMNS,
  SUMMARY_COLUMNS,
  attestationValues,
  auditFromRow,
  auditValues,
  listQuery,
  pageFromRows,
  storedFromRow,
  summaryFromRow,
  tokenFromRow,
  type Row,
} from './rows.ts';
import { SQLITE_MIGRATIONS, type Migration } from './sqlite-migrations.ts';
import type {
  AttestationPage,
  AttestationQuery,
  AttestationSummary,
  AuditDraft,
  AuditEntry,
  AuditHead,
  DigestRef,
  MigrationReport,
  NewAttestation,
  PutResult,
  Store,
  StoredAttestation,
  TokenRecord,
  WriteResult,
  WriteUnit,
} from './types.ts';

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for a throwaway store. */
  path: string;
  /** Milliseconds to wait for another connection's write lock. */
  busyTimeoutMs?: number;
  /** Override the migration list (tests of the migration runner). */
  migrations?: readonly Migration[];
}

/** Runs synchronous driver work as a promise: a throw becomes a rejection, as with the async drivers. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

function rows(stmt: StatementSync, ...params: SQLInputValue[]): Row[] {
  return stmt.all(...params);
}

export class SqliteStore implements Store {
  readonly driver = 'sqlite';
  readonly #db: DatabaseSync;
  readonly #migrations: readonly Migration[];
  readonly #cache = new Map<string, StatementSync>();

  constructor(options: SqliteStoreOptions) {
    // The directory holds token hashes and the audit log: owner only.
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    this.#db = openDurableSqlite(options.path, { busyTimeoutMs: options.busyTimeoutMs ?? 5000 });
    this.#migrations = options.migrations ?? SQLITE_MIGRATIONS;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#cache.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#cache.set(sql, s);
    }
    return s;
  }

  #transaction<T>(fn: () => T): T {
    // IMMEDIATE takes the write lock up front, so two writers never deadlock upgrading a read lock.
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  migrate(): Promise<MigrationReport> {
    return settle(() =>
      this.#transaction(() => {
        this.#db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
        const current = Number((this.#db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as Row)['v']);
        const applied: number[] = [];
        for (const m of this.#migrations) {
          if (m.version <= current) continue;
          this.#db.exec(m.sql);
          this.#db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
          applied.push(m.version);
        }
        return { version: Math.max(current, ...applied), applied };
      }),
    );
  }

  ping(): Promise<void> {
    return settle(() => {
      this.#stmt('SELECT 1').get();
    });
  }

  /** PRAGMA synchronous of this connection (2 = FULL). */
  synchronous(): number {
    return Number((this.#db.prepare('PRAGMA synchronous').get() as Row)['synchronous']);
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.#db.isOpen) this.#db.close();
    });
  }

  #put(namespace: string, records: readonly NewAttestation[], now: number): PutResult[] {
    const insert = this.#stmt(
      `INSERT INTO attestations (${ATTESTATION_INSERT_COLUMNS.join(', ')}) VALUES (${ATTESTATION_INSERT_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (namespace, id) DO NOTHING RETURNING seq, created_at`,
    );
    const existing = this.#stmt('SELECT seq, created_at FROM attestations WHERE namespace = ? AND id = ?');
    const subject = this.#stmt('INSERT INTO attestation_subjects (namespace, algorithm, value, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    const signer = this.#stmt('INSERT INTO attestation_signers (namespace, keyid, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    return records.map((r) => {
      const inserted = insert.get(...attestationValues(namespace, r, now)) as Row | undefined;
      const row = inserted ?? existing.get(namespace, r.id);
      if (row === undefined) throw new Error(`store: attestation ${r.id} neither inserted nor found`);
      const seq = Number(row['seq']);
      if (inserted !== undefined) {
        for (const d of uniqueDigestRefs(r.subjects)) subject.run(namespace, d.algorithm, d.value, seq);
        for (const keyid of r.verification.keyids) signer.run(namespace, keyid, seq);
      }
      return { id: r.id, seq, created: inserted !== undefined, createdAt: new Date(Number(row['created_at'])).toISOString() };
    });
  }

  #appendAudit(drafts: readonly AuditDraft[]): AuditEntry[] {
    const head = this.#stmt('SELECT seq, hash FROM audit_head WHERE id = 1').get() as Row;
    const entries = chainEntries({ seq: Number(head['seq']), hash: String(head['hash']) }, drafts);
    const insert = this.#stmt(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const e of entries) insert.run(...auditValues(e));
    const last = entries.at(-1);
    if (last !== undefined) this.#stmt('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(last.seq, last.hash);
    return entries;
  }

  write(units: WriteUnit[]): Promise<WriteResult[]> {
    if (units.length === 0) return Promise.resolve([]);
    return settle(() =>
      this.#transaction(() => {
        const now = Date.now();
        const puts = units.map((u) => (u.attestations === undefined ? [] : this.#put(u.attestations.namespace, u.attestations.records, now)));
        const audits = this.#appendAudit(units.map((u) => u.audit));
        return units.map((_, i) => ({ attestations: puts[i] ?? [], audit: audits[i]! }));
      }),
    );
  }

  getAttestation(namespace: string, id: string): Promise<StoredAttestation | undefined> {
    return settle(() => {
      const row = this.#stmt(`SELECT ${SUMMARY_COLUMNS}, a.bytes FROM attestations a WHERE a.namespace = ? AND a.id = ?`).get(namespace, id) as Row | undefined;
      return row === undefined ? undefined : storedFromRow(row);
    });
  }

  listAttestations(query: AttestationQuery): Promise<AttestationPage> {
    return settle(() => {
      const { sql, params } = listQuery(query, () => '?');
      return pageFromRows(rows(this.#stmt(sql), ...params), query.limit);
    });
  }

  attestationsBySubjects(namespace: string, digests: DigestRef[], limit: number): Promise<AttestationSummary[]> {
    if (digests.length === 0) return Promise.resolve([]);
    const sql = `SELECT DISTINCT ${SUMMARY_COLUMNS} FROM json_each(?) d
      JOIN attestation_subjects s ON s.namespace = ? AND s.algorithm = d.value ->> 0 AND s.value = d.value ->> 1
      JOIN attestations a ON a.seq = s.seq ORDER BY a.seq DESC LIMIT ?`;
    const list = JSON.stringify(digests.map((d) => [d.algorithm, d.value]));
    return settle(() => rows(this.#stmt(sql), list, namespace, limit).map(summaryFromRow));
  }

  createToken(token: TokenRecord, audit: AuditDraft): Promise<AuditEntry> {
    return settle(() =>
      this.#transaction(() => {
        this.#stmt(
          'INSERT INTO tokens (id, secret_hash, role, namespaces, description, created_at, created_by, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(token.id, token.secretHash, token.role, JSON.stringify(token.namespaces), token.description, token.createdAt, token.createdBy, token.expiresAt, token.revokedAt);
        return this.#appendAudit([audit])[0]!;
      }),
    );
  }

  getToken(id: string): Promise<TokenRecord | undefined> {
    return settle(() => {
      const row = this.#stmt('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
      return row === undefined ? undefined : tokenFromRow(row);
    });
  }

  listTokens(): Promise<TokenRecord[]> {
    return settle(() => rows(this.#stmt('SELECT * FROM tokens ORDER BY created_at, id')).map(tokenFromRow));
  }

  revokeToken(id: string, at: string, audit: AuditDraft): Promise<boolean> {
    return settle(() =>
      this.#transaction(() => {
        const changed = this.#stmt('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes;
        if (Number(changed) === 0) return false;
        this.#appendAudit([audit]);
        return true;
      }),
    );
  }

  readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    return settle(() => rows(this.#stmt(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`), afterSeq, limit).map(auditFromRow));
  }

  auditHead(): Promise<AuditHead> {
    return settle(() => {
      const row = this.#stmt('SELECT seq, hash FROM audit_head WHERE id = 1').get() as Row;
      return { seq: Number(row['seq']), hash: String(row['hash']) };
    });
  }
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
