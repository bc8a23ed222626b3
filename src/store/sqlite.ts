// The embedded store: one SQLite file in the data directory through node:sqlite. WAL journal with
// synchronous=FULL, so a transaction is on disk (fsynced) before write() returns and the server
// acknowledges it. The server runs write() on a writer thread (sqlite-writer.ts).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync} from 'node:sqlite';
import { type SQLInputValue, type StatementSync } from 'node:sqlite';
import { openDurableSqlite, tuneSqliteConnection } from './connections.ts';
import {
  AUDIT_COLUMNS,
  SUMMARY_COLUMNS,
  auditFromRow,
  listQuery,
  pageFromRows,
  storedFromRow,
  summaryFromRow,
  tokenFromRow,
  type Row,
} from './rows.ts';
import { SQLITE_MIGRATIONS, type Migration } from './sqlite-migrations.ts';
import { SqliteWriterThread } from './sqlite-writer.ts';
import { SqliteWrites } from './sqlite-writes.ts';
import type {
  AttestationPage,
  AttestationQuery,
  AttestationSummary,
  AuditDraft,
  AuditEntry,
  AuditHead,
  DigestRef,
  MaterialMatches,
  MaterialQuery,
  MigrationReport,
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
  /**
   * Run write() on a worker thread with its own connection, so fsync waits do not block the event
   * loop (sqlite-writer.ts). The server turns it on; file databases only.
   */
  writerThread?: boolean;
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
  readonly #writes: SqliteWrites;
  readonly #writer: SqliteWriterThread | undefined;

  constructor(options: SqliteStoreOptions) {
    // The directory holds token hashes and the audit log: owner only.
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.#db = openDurableSqlite(options.path, { busyTimeoutMs });
    // Queries run on this connection (the writer thread has its own): map the file, cache more pages.
    if (options.path !== ':memory:') tuneSqliteConnection(this.#db);
    this.#writes = new SqliteWrites(this.#db);
    this.#migrations = options.migrations ?? SQLITE_MIGRATIONS;
    // A memory database exists only on this connection: it cannot have a writer thread.
    this.#writer = options.writerThread === true && options.path !== ':memory:' ? new SqliteWriterThread(options.path, busyTimeoutMs) : undefined;
  }

  #stmt(sql: string): StatementSync {
    return this.#writes.stmt(sql);
  }

  #transaction<T>(fn: () => T): T {
    return this.#writes.transaction(fn);
  }

  #appendAudit(drafts: readonly AuditDraft[]): AuditEntry[] {
    return this.#writes.appendAudit(drafts);
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

  async close(): Promise<void> {
    await this.#writer?.close();
    return settle(() => {
      if (this.#db.isOpen) this.#db.close();
    });
  }

  write(units: WriteUnit[]): Promise<WriteResult[]> {
    if (units.length === 0) return Promise.resolve([]);
    if (this.#writer !== undefined) return this.#writer.write(units);
    return settle(() => this.#writes.write(units));
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
    // CROSS JOIN pins the loop order: SQLite otherwise scans every subject of the namespace for
    // each wanted digest (10 s instead of 30 ms for a 1,000-node evidence graph, bench/dashboard.ts).
    const sql = `SELECT DISTINCT ${SUMMARY_COLUMNS} FROM json_each(?) d
      CROSS JOIN attestation_subjects s ON s.namespace = ? AND s.algorithm = d.value ->> 0 AND s.value = d.value ->> 1
      JOIN attestations a ON a.seq = s.seq ORDER BY a.seq DESC LIMIT ?`;
    const list = JSON.stringify(digests.map((d) => [d.algorithm, d.value]));
    return settle(() => rows(this.#stmt(sql), list, namespace, limit).map(summaryFromRow));
  }

  attestationsByMaterials(namespace: string, digests: DigestRef[], limit: number, options: MaterialQuery = {}): Promise<MaterialMatches> {
    if (digests.length === 0) return Promise.resolve({ items: [], skipped: [] });
    const list = JSON.stringify(digests.map((d) => [d.algorithm, d.value]));
    // A digest's fan-in, counted on the index up to maxPerDigest + 1 rows.
    const fanIn = `(SELECT COUNT(*) FROM (SELECT 1 FROM attestation_materials h WHERE h.namespace = ? AND h.algorithm = d.value ->> 0 AND h.value = d.value ->> 1 LIMIT ?))`;
    const cap = options.maxPerDigest ?? -1;
    // As attestationsBySubjects, on the material index. `within`: no material of the attestation
    // (its stored materials column) lacks a digest in the list (an IN list SQLite indexes once).
    const sql = `SELECT DISTINCT ${SUMMARY_COLUMNS} FROM json_each(?) d
      CROSS JOIN attestation_materials m ON m.namespace = ? AND m.algorithm = d.value ->> 0 AND m.value = d.value ->> 1
      JOIN attestations a ON a.seq = m.seq
      WHERE (? < 0 OR ${fanIn} <= ?)
        AND (? IS NULL OR NOT EXISTS (
          SELECT 1 FROM json_each(a.materials) x WHERE NOT EXISTS (
            SELECT 1 FROM json_each(x.value, '$.digest') y WHERE y.key || ':' || y.value IN (SELECT value FROM json_each(?)))))
      ORDER BY a.seq DESC LIMIT ?`;
    const allowed = options.within === undefined ? null : JSON.stringify(options.within.map((d) => `${d.algorithm}:${d.value}`));
    return settle(() => {
      const items = rows(this.#stmt(sql), list, namespace, cap, namespace, cap + 1, cap, allowed, allowed ?? '[]', limit).map(summaryFromRow);
      const skipped =
        cap < 0
          ? []
          : rows(this.#stmt(`SELECT d.value ->> 0 AS algorithm, d.value ->> 1 AS value FROM json_each(?) d WHERE ${fanIn} > ?`), list, namespace, cap + 1, cap).map((r) => ({
              algorithm: String(r['algorithm']),
              value: String(r['value']),
            }));
      return { items, skipped };
    });
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
