// The store at scale: PostgreSQL through `pg`. Servers are stateless; several processes share one
// database. Batches go in with one statement per table (unnest of arrays); the audit chain is
// extended under a row lock on audit_head, so concurrent servers append one after another.
import pg from 'pg';
import { chainEntries } from './audit-chain.ts';
import { inTransaction } from './connections.ts';
import { uniqueDigestRefs } from './ingest.ts';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
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
import type { Migration } from './sqlite-migrations.ts';
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
  NewAttestation,
  PutResult,
  Store,
  StoredAttestation,
  TokenRecord,
  WriteResult,
  WriteUnit,
} from './types.ts';

export interface PostgresStoreOptions {
  /** libpq-style URL, e.g. postgres://user@127.0.0.1:5432/custody */
  connectionString: string;
  /** Pool size per process. */
  maxConnections?: number;
  migrations?: readonly Migration[];
  /** Called for errors of idle pooled connections (they must not crash the process). */
  onPoolError?: (error: Error) => void;
}

// Arbitrary constant naming the migration lock (pg_advisory_xact_lock takes a bigint).
const MIGRATION_LOCK = 0x637573746f6479n;
// Deadlock and serialization failures are retried: the transaction did nothing.

type Client = pg.PoolClient;

/** Named prepared statements per store (each pooled connection prepares those it runs). */
const MAX_PREPARED = 256;

const INSERT_TYPES = ['text', 'text', 'bytea', 'int4', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'int8'];

export class PostgresStore implements Store {
  readonly driver = 'postgres';
  readonly #pool: pg.Pool;
  readonly #migrations: readonly Migration[];
  /** SQL text → prepared statement name (#prepared). */
  readonly #statementNames = new Map<string, string>();

  constructor(options: PostgresStoreOptions) {
    this.#pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
    this.#pool.on('error', options.onPoolError ?? (() => undefined));
    this.#migrations = options.migrations ?? POSTGRES_MIGRATIONS;
  }

  async #rows(sql: string, params: unknown[] = [], client?: Client): Promise<Row[]> {
    const result = await (client ?? this.#pool).query<Row>(this.#prepared(sql, params));
    return result.rows;
  }

  /**
   * The statement as a named prepared statement: each pooled connection parses and plans it once
   * and then only binds and executes it (PostgreSQL extended protocol). Planning the listing join
   * was a measured part of a query-by-subject (docs/bench-server.md). Statements reading `*` stay
   * unnamed: a prepared `SELECT *` fails once a migration adds a column.
   */
  #prepared(text: string, values: unknown[]): pg.QueryConfig {
    if (/\bSELECT \* FROM (?!unnest)/.test(text)) return { text, values };
    let name = this.#statementNames.get(text);
    if (name === undefined) {
      // The store's statements are a fixed set; a bound keeps SQL built from data from piling up.
      if (this.#statementNames.size >= MAX_PREPARED) return { text, values };
      name = `custody_${this.#statementNames.size}`;
      this.#statementNames.set(text, name);
    }
    return { name, text, values };
  }

  #transaction<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, fn);
  }

  migrate(): Promise<MigrationReport> {
    return this.#transaction(async (c) => {
      // Several servers may start at once: one migrates, the others wait here and find nothing to do.
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      const current = Number((await this.#rows('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations', [], c))[0]?.['v']);
      const applied: number[] = [];
      for (const m of this.#migrations) {
        if (m.version <= current) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
        applied.push(m.version);
      }
      return { version: Math.max(current, ...applied), applied };
    });
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #put(c: Client, units: readonly WriteUnit[], now: number): Promise<PutResult[][]> {
    // Distinct (namespace, id) in sorted order: concurrent transactions lock rows in the same order.
    const byKey = new Map<string, { namespace: string; record: NewAttestation }>();
    for (const u of units) {
      for (const record of u.attestations?.records ?? []) byKey.set(`${u.attestations!.namespace}\u0000${record.id}`, { namespace: u.attestations!.namespace, record });
    }
    if (byKey.size === 0) return units.map(() => []);
    const keys = [...byKey.keys()].sort();
    const columns: unknown[][] = ATTESTATION_INSERT_COLUMNS.map(() => []);
    for (const key of keys) {
      const { namespace, record } = byKey.get(key)!;
      attestationValues(namespace, record, now).forEach((v, i) => columns[i]!.push(v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
    }
    const inserted = await this.#rows(
      `INSERT INTO attestations (${ATTESTATION_INSERT_COLUMNS.join(', ')})
       SELECT * FROM unnest(${INSERT_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
       ON CONFLICT (namespace, id) DO NOTHING RETURNING seq, namespace, id, created_at`,
      columns,
      c,
    );
    const found = new Map<string, { seq: number; createdAt: number; created: boolean }>();
    for (const r of inserted) found.set(`${String(r['namespace'])}\u0000${String(r['id'])}`, { seq: Number(r['seq']), createdAt: Number(r['created_at']), created: true });
    const missing = keys.filter((k) => !found.has(k));
    if (missing.length > 0) {
      const existing = await this.#rows(
        'SELECT a.seq, a.namespace, a.id, a.created_at FROM unnest($1::text[], $2::text[]) AS k(namespace, id) JOIN attestations a ON a.namespace = k.namespace AND a.id = k.id',
        [missing.map((k) => byKey.get(k)!.namespace), missing.map((k) => byKey.get(k)!.record.id)],
        c,
      );
      for (const r of existing) found.set(`${String(r['namespace'])}\u0000${String(r['id'])}`, { seq: Number(r['seq']), createdAt: Number(r['created_at']), created: false });
    }
    await this.#insertIndexes(c, keys.filter((k) => found.get(k)?.created === true).map((k) => ({ ...byKey.get(k)!, seq: found.get(k)!.seq })));
    // Within one batch the same bytes count as created once, for the first unit that named them.
    const reported = new Set<string>();
    return units.map((u) =>
      (u.attestations?.records ?? []).map((record) => {
        const key = `${u.attestations!.namespace}\u0000${record.id}`;
        const f = found.get(key);
        if (f === undefined) throw new Error(`store: attestation ${record.id} neither inserted nor found`);
        const created = f.created && !reported.has(key);
        reported.add(key);
        return { id: record.id, seq: f.seq, created, createdAt: new Date(f.createdAt).toISOString() };
      }),
    );
  }

  async #insertIndexes(c: Client, rows: { namespace: string; record: NewAttestation; seq: number }[]): Promise<void> {
    const subjects: [string[], string[], string[], number[]] = [[], [], [], []];
    const signers: [string[], string[], number[]] = [[], [], []];
    const materials: [string[], string[], string[], number[]] = [[], [], [], []];
    for (const { namespace, record, seq } of rows) {
      for (const d of uniqueDigestRefs(record.subjects)) {
        subjects[0].push(namespace);
        subjects[1].push(d.algorithm);
        subjects[2].push(d.value);
        subjects[3].push(seq);
      }
      for (const keyid of record.verification.keyids) {
        signers[0].push(namespace);
        signers[1].push(keyid);
        signers[2].push(seq);
      }
      for (const d of uniqueDigestRefs(record.materials)) {
        materials[0].push(namespace);
        materials[1].push(d.algorithm);
        materials[2].push(d.value);
        materials[3].push(seq);
      }
    }
    if (subjects[0].length > 0) {
      await this.#rows(
        'INSERT INTO attestation_subjects (namespace, algorithm, value, seq) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) ON CONFLICT DO NOTHING',
        subjects,
        c,
      );
    }
    if (signers[0].length > 0) {
      await this.#rows('INSERT INTO attestation_signers (namespace, keyid, seq) SELECT * FROM unnest($1::text[], $2::text[], $3::int8[]) ON CONFLICT DO NOTHING', signers, c);
    }
    if (materials[0].length > 0) {
      await this.#rows(
        'INSERT INTO attestation_materials (namespace, algorithm, value, seq) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) ON CONFLICT DO NOTHING',
        materials,
        c,
      );
    }
  }

  async #appendAudit(c: Client, drafts: readonly AuditDraft[]): Promise<AuditEntry[]> {
    // The row lock serialises appenders across processes until this transaction commits.
    const head = (await this.#rows('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE', [], c))[0]!;
    const entries = chainEntries({ seq: Number(head['seq']), hash: String(head['hash']) }, drafts);
    const columns: unknown[][] = Array.from({ length: 11 }, () => []);
    for (const e of entries) auditValues(e).forEach((v, i) => columns[i]!.push(v));
    const last = entries.at(-1)!;
    // One round trip for the entries and the new head: the head's row lock is held from the SELECT
    // above until COMMIT, and every round trip in between delayed the next writer (bench-server.md).
    await this.#rows(
      `WITH entries AS (INSERT INTO audit_log (${AUDIT_COLUMNS}) SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int4[], $9::text[], $10::text[], $11::text[]))
       UPDATE audit_head SET seq = $12, hash = $13 WHERE id = 1`,
      [...columns, last.seq, last.hash],
      c,
    );
    return entries;
  }

  write(units: WriteUnit[]): Promise<WriteResult[]> {
    if (units.length === 0) return Promise.resolve([]);
    return this.#transaction(async (c) => {
      const puts = await this.#put(c, units, Date.now());
      // The audit lock is taken last and held only until commit.
      const audits = await this.#appendAudit(c, units.map((u) => u.audit));
      return units.map((_, i) => ({ attestations: puts[i] ?? [], audit: audits[i]! }));
    });
  }

  async getAttestation(namespace: string, id: string): Promise<StoredAttestation | undefined> {
    const row = (await this.#rows(`SELECT ${SUMMARY_COLUMNS}, a.bytes FROM attestations a WHERE a.namespace = $1 AND a.id = $2`, [namespace, id]))[0];
    return row === undefined ? undefined : storedFromRow(row);
  }

  async listAttestations(query: AttestationQuery): Promise<AttestationPage> {
    const { sql, params } = listQuery(query, (i) => `$${i}`);
    return pageFromRows(await this.#rows(sql, params), query.limit);
  }

  async attestationsBySubjects(namespace: string, digests: DigestRef[], limit: number): Promise<AttestationSummary[]> {
    if (digests.length === 0) return [];
    const rows = await this.#rows(
      `SELECT DISTINCT ${SUMMARY_COLUMNS} FROM unnest($1::text[], $2::text[]) AS d(algorithm, value)
       JOIN attestation_subjects s ON s.namespace = $3 AND s.algorithm = d.algorithm AND s.value = d.value
       JOIN attestations a ON a.seq = s.seq ORDER BY a.seq DESC LIMIT $4`,
      [digests.map((d) => d.algorithm), digests.map((d) => d.value), namespace, limit],
    );
    return rows.map(summaryFromRow);
  }

  async attestationsByMaterials(namespace: string, digests: DigestRef[], limit: number, options: MaterialQuery = {}): Promise<MaterialMatches> {
    if (digests.length === 0) return { items: [], skipped: [] };
    const cap = options.maxPerDigest ?? -1;
    // A digest's fan-in, counted on the index up to maxPerDigest + 1 rows.
    const fanIn = '(SELECT COUNT(*) FROM (SELECT 1 FROM attestation_materials h WHERE h.namespace = $3 AND h.algorithm = d.algorithm AND h.value = d.value LIMIT $6::int8 + 1) c)';
    // `within`: no material of the attestation (its stored materials column) lacks a digest in the list.
    const rows = await this.#rows(
      `SELECT DISTINCT ${SUMMARY_COLUMNS} FROM unnest($1::text[], $2::text[]) AS d(algorithm, value)
       JOIN attestation_materials m ON m.namespace = $3 AND m.algorithm = d.algorithm AND m.value = d.value
       JOIN attestations a ON a.seq = m.seq
       WHERE ($6::int8 < 0 OR ${fanIn} <= $6::int8)
         AND ($5::text[] IS NULL OR NOT EXISTS (
           SELECT 1 FROM jsonb_array_elements(a.materials::jsonb) x WHERE NOT EXISTS (
             SELECT 1 FROM jsonb_each_text(x -> 'digest') y WHERE y.key || ':' || y.value = ANY ($5::text[]))))
       ORDER BY a.seq DESC LIMIT $4`,
      [
        digests.map((d) => d.algorithm),
        digests.map((d) => d.value),
        namespace,
        limit,
        options.within === undefined ? null : options.within.map((d) => `${d.algorithm}:${d.value}`),
        cap,
      ],
    );
    const skipped =
      cap < 0
        ? []
        : await this.#rows(`SELECT d.algorithm, d.value FROM unnest($1::text[], $2::text[]) AS d(algorithm, value) WHERE ${fanIn.replace('$6::int8 + 1', '$4::int8 + 1')} > $4::int8`, [
            digests.map((d) => d.algorithm),
            digests.map((d) => d.value),
            namespace,
            cap,
          ]);
    return { items: rows.map(summaryFromRow), skipped: skipped.map((r) => ({ algorithm: String(r['algorithm']), value: String(r['value']) })) };
  }

  createToken(token: TokenRecord, audit: AuditDraft): Promise<AuditEntry> {
    return this.#transaction(async (c) => {
      await c.query(
        'INSERT INTO tokens (id, secret_hash, role, namespaces, description, created_at, created_by, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [token.id, token.secretHash, token.role, JSON.stringify(token.namespaces), token.description, token.createdAt, token.createdBy, token.expiresAt, token.revokedAt],
      );
      return (await this.#appendAudit(c, [audit]))[0]!;
    });
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    const row = (await this.#rows('SELECT * FROM tokens WHERE id = $1', [id]))[0];
    return row === undefined ? undefined : tokenFromRow(row);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.#rows('SELECT * FROM tokens ORDER BY created_at, id')).map(tokenFromRow);
  }

  revokeToken(id: string, at: string, audit: AuditDraft): Promise<boolean> {
    return this.#transaction(async (c) => {
      const result = await c.query('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
      if (result.rowCount === 0) return false;
      await this.#appendAudit(c, [audit]);
      return true;
    });
  }

  async readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    return (await this.#rows(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).map(auditFromRow);
  }

  async auditHead(): Promise<AuditHead> {
    const row = (await this.#rows('SELECT seq, hash FROM audit_head WHERE id = 1'))[0]!;
    return { seq: Number(row['seq']), hash: String(row['hash']) };
  }
}

export function openPostgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(options);
}
