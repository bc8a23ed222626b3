// The store at scale: PostgreSQL through `pg`. Servers are stateless; several processes share one
// database. A batch goes in as one statement (unnest of arrays, one data-modifying CTE per table,
// #writeChained); the audit chain is extended under a row lock on audit_head, so concurrent
// servers append one after another.
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

const AUDIT_TYPES = ['int8', 'text', 'text', 'text', 'text', 'text', 'text', 'int4', 'text', 'text', 'text'];
/** unnest($from::int8[], …) over the audit_log columns. */
const AUDIT_UNNEST = (from: number): string => AUDIT_TYPES.map((t, i) => `$${from + i}::${t}[]`).join(', ');

function auditColumns(entries: readonly AuditEntry[]): unknown[][] {
  const columns: unknown[][] = AUDIT_TYPES.map(() => []);
  for (const e of entries) auditValues(e).forEach((v, i) => columns[i]!.push(v));
  return columns;
}

interface Found {
  seq: number;
  createdAt: number;
  created: boolean;
}

interface AttestationRows {
  byKey: Map<string, { namespace: string; record: NewAttestation }>;
  /** Sorted distinct keys `namespace\0id`. */
  keys: string[];
  /** One array per ATTESTATION_INSERT_COLUMNS entry. */
  columns: unknown[][];
}

// $1, $2: the head this process expects; $3, $4: the head after these entries. Then the
// attestation columns, the index rows keyed by (namespace, id), and the audit entries. `cur`
// locks the head row first (every insert's condition reads it), so writes of this form take the
// head's lock before any other and cannot deadlock with each other over an attestation row.
// Under READ COMMITTED, FOR UPDATE waits for a transaction holding the row and then returns its
// newest committed version: `ok` compares the expected head with that, never with an older
// snapshot, and never with the values this statement writes (two writes may compute the same
// entries, the same hashes included, when their drafts are equal).
const A = INSERT_TYPES.length;
const CHAINED_WRITE = `WITH cur AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE),
checked AS (SELECT seq = $1 AND hash = $2 AS ok FROM cur),
head AS (UPDATE audit_head SET seq = $3, hash = $4 WHERE id = 1 AND (SELECT ok FROM checked)),
ins AS (
  INSERT INTO attestations (${ATTESTATION_INSERT_COLUMNS.join(', ')})
  SELECT * FROM unnest(${INSERT_TYPES.map((t, i) => `$${5 + i}::${t}[]`).join(', ')}) WHERE (SELECT ok FROM checked)
  ON CONFLICT (namespace, id) DO NOTHING RETURNING seq, namespace, id, created_at),
subjects AS (
  INSERT INTO attestation_subjects (namespace, algorithm, value, seq)
  SELECT k.namespace, k.algorithm, k.value, i.seq FROM unnest($${5 + A}::text[], $${6 + A}::text[], $${7 + A}::text[], $${8 + A}::text[]) AS k(namespace, algorithm, value, id)
  JOIN ins i ON i.namespace = k.namespace AND i.id = k.id ON CONFLICT DO NOTHING),
signers AS (
  INSERT INTO attestation_signers (namespace, keyid, seq)
  SELECT k.namespace, k.keyid, i.seq FROM unnest($${9 + A}::text[], $${10 + A}::text[], $${11 + A}::text[]) AS k(namespace, keyid, id)
  JOIN ins i ON i.namespace = k.namespace AND i.id = k.id ON CONFLICT DO NOTHING),
materials AS (
  INSERT INTO attestation_materials (namespace, algorithm, value, seq)
  SELECT k.namespace, k.algorithm, k.value, i.seq FROM unnest($${12 + A}::text[], $${13 + A}::text[], $${14 + A}::text[], $${15 + A}::text[]) AS k(namespace, algorithm, value, id)
  JOIN ins i ON i.namespace = k.namespace AND i.id = k.id ON CONFLICT DO NOTHING),
entries AS (
  INSERT INTO audit_log (${AUDIT_COLUMNS}) SELECT * FROM unnest(${AUDIT_UNNEST(16 + A)}) WHERE (SELECT ok FROM checked))
SELECT o.ok, i.seq, i.namespace, i.id, i.created_at FROM checked o LEFT JOIN ins i ON true`;

/** Lookups by subject per statement, at most. */
const MAX_LOOKUPS = 64;

// listQuery's lookup by subject (newest first, `lim` rows) for each element of the arrays; `i`
// numbers them from 1.
const SUBJECT_LOOKUPS = `SELECT d.i, ${SUMMARY_COLUMNS}
FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) WITH ORDINALITY AS d(namespace, algorithm, value, lim, i)
CROSS JOIN LATERAL (SELECT s.seq FROM attestation_subjects s WHERE s.namespace = d.namespace AND s.algorithm = d.algorithm AND s.value = d.value ORDER BY s.seq DESC LIMIT d.lim) s
JOIN attestations a ON a.seq = s.seq
ORDER BY d.i, a.seq DESC`;

/**
 * The rows of the three digest indexes as unnest columns: subjects and materials
 * (namespace, algorithm, value, ref), signers (namespace, keyid, ref). `ref` is the attestation's
 * seq, or its id when the seq is not known yet (CHAINED_WRITE joins on it).
 */
function indexColumns<R extends number | string>(rows: readonly { namespace: string; record: NewAttestation; ref: R }[]) {
  const subjects: [string[], string[], string[], R[]] = [[], [], [], []];
  const signers: [string[], string[], R[]] = [[], [], []];
  const materials: [string[], string[], string[], R[]] = [[], [], [], []];
  const digests = (into: [string[], string[], string[], R[]], namespace: string, refs: Parameters<typeof uniqueDigestRefs>[0], ref: R): void => {
    for (const d of uniqueDigestRefs(refs)) {
      into[0].push(namespace);
      into[1].push(d.algorithm);
      into[2].push(d.value);
      into[3].push(ref);
    }
  };
  for (const { namespace, record, ref } of rows) {
    digests(subjects, namespace, record.subjects, ref);
    digests(materials, namespace, record.materials, ref);
    for (const keyid of record.verification.keyids) {
      signers[0].push(namespace);
      signers[1].push(keyid);
      signers[2].push(ref);
    }
  }
  return { subjects, signers, materials };
}

export class PostgresStore implements Store {
  readonly driver = 'postgres';
  readonly #pool: pg.Pool;
  readonly #migrations: readonly Migration[];
  /** SQL text → prepared statement name (#prepared). */
  readonly #statementNames = new Map<string, string>();
  /** The audit head after this process's last write (possibly still committing); undefined: unknown (#writeChained). */
  #head: AuditHead | undefined;
  /** Settles when the write that left #head finished: true if it committed (#writeChained); undefined: #head is committed. */
  #previous: Promise<boolean> | undefined;
  /** Lookups by subject waiting for the next turn of the event loop (#lookUp). */
  readonly #lookups: { query: AttestationQuery; resolve: (page: AttestationPage) => void; reject: (error: unknown) => void }[] = [];
  /** Lookups by subject sent and not yet answered: while there are any, new ones wait one turn to go together. */
  #lookupsInFlight = 0;

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

  /** The attestations of a batch, one per distinct (namespace, id), as the columns of the INSERT (unnest arrays). */
  #attestationRows(units: readonly WriteUnit[], now: number): AttestationRows {
    // Distinct (namespace, id) in sorted order: concurrent transactions lock rows in the same order.
    const byKey = new Map<string, { namespace: string; record: NewAttestation }>();
    for (const u of units) {
      for (const record of u.attestations?.records ?? []) byKey.set(`${u.attestations!.namespace}\u0000${record.id}`, { namespace: u.attestations!.namespace, record });
    }
    const keys = [...byKey.keys()].sort();
    const columns: unknown[][] = ATTESTATION_INSERT_COLUMNS.map(() => []);
    for (const key of keys) {
      const { namespace, record } = byKey.get(key)!;
      attestationValues(namespace, record, now).forEach((v, i) => columns[i]!.push(v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
    }
    return { byKey, keys, columns };
  }

  /** Adds the rows a conflict left out (the same bytes stored before) to `found`, read through `c` or the pool. */
  async #findExisting(rows: AttestationRows, found: Map<string, Found>, c?: Client): Promise<void> {
    const missing = rows.keys.filter((k) => !found.has(k));
    if (missing.length === 0) return;
    const existing = await this.#rows(
      'SELECT a.seq, a.namespace, a.id, a.created_at FROM unnest($1::text[], $2::text[]) AS k(namespace, id) JOIN attestations a ON a.namespace = k.namespace AND a.id = k.id',
      [missing.map((k) => rows.byKey.get(k)!.namespace), missing.map((k) => rows.byKey.get(k)!.record.id)],
      c,
    );
    for (const r of existing) found.set(`${String(r['namespace'])}\u0000${String(r['id'])}`, { seq: Number(r['seq']), createdAt: Number(r['created_at']), created: false });
  }

  /** Each unit's results, in upload order. Within one batch the same bytes count as created once, for the first unit that named them. */
  #putResults(units: readonly WriteUnit[], found: Map<string, Found>): PutResult[][] {
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

  /** Rows returned by an INSERT … RETURNING seq, namespace, id, created_at. */
  static #inserted(rows: readonly Row[], found: Map<string, Found>): void {
    for (const r of rows) {
      if (r['seq'] === null || r['seq'] === undefined) continue;
      found.set(`${String(r['namespace'])}\u0000${String(r['id'])}`, { seq: Number(r['seq']), createdAt: Number(r['created_at']), created: true });
    }
  }

  async #put(c: Client, units: readonly WriteUnit[], now: number): Promise<PutResult[][]> {
    const rows = this.#attestationRows(units, now);
    if (rows.keys.length === 0) return units.map(() => []);
    const found = new Map<string, Found>();
    PostgresStore.#inserted(
      await this.#rows(
        `INSERT INTO attestations (${ATTESTATION_INSERT_COLUMNS.join(', ')})
       SELECT * FROM unnest(${INSERT_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
       ON CONFLICT (namespace, id) DO NOTHING RETURNING seq, namespace, id, created_at`,
        rows.columns,
        c,
      ),
      found,
    );
    await this.#findExisting(rows, found, c);
    await this.#insertIndexes(c, rows.keys.filter((k) => found.get(k)?.created === true).map((k) => ({ ...rows.byKey.get(k)!, seq: found.get(k)!.seq })));
    return this.#putResults(units, found);
  }

  async #insertIndexes(c: Client, rows: { namespace: string; record: NewAttestation; seq: number }[]): Promise<void> {
    const { subjects, signers, materials } = indexColumns(rows.map((r) => ({ ...r, ref: r.seq })));
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

  /**
   * Appends audit entries after the head. `locked`: the head this transaction already read under
   * its row lock; otherwise it is locked here. The row lock serialises appenders across processes
   * until this transaction commits.
   */
  async #appendAudit(c: Client, drafts: readonly AuditDraft[], locked?: AuditHead): Promise<AuditEntry[]> {
    const head = locked ?? (await this.#lockHead(c));
    const entries = chainEntries(head, drafts);
    const last = entries.at(-1)!;
    // One round trip for the entries and the new head: the head's row lock is held from the SELECT
    // until COMMIT, and every round trip in between delayed the next writer (bench-server.md).
    await this.#rows(`WITH entries AS (INSERT INTO audit_log (${AUDIT_COLUMNS}) SELECT * FROM unnest(${AUDIT_UNNEST(1)})) UPDATE audit_head SET seq = $12, hash = $13 WHERE id = 1`, [...auditColumns(entries), last.seq, last.hash], c);
    return entries;
  }

  /** After a chained write failed: unless a later write already chained after it, the head is unknown. */
  #forget(write: Promise<boolean>): void {
    if (this.#previous !== write) return;
    this.#head = undefined;
    this.#previous = undefined;
  }

  /** The head a committed transaction left (it held the row lock): the next write chains after it. */
  #committed(entry: AuditEntry): void {
    this.#head = { seq: entry.seq, hash: entry.hash };
    this.#previous = undefined;
  }

  async #lockHead(c: Client): Promise<AuditHead> {
    const head = (await this.#rows('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE', [], c))[0]!;
    return { seq: Number(head['seq']), hash: String(head['hash']) };
  }

  async write(units: WriteUnit[]): Promise<WriteResult[]> {
    if (units.length === 0) return [];
    const expected = this.#head;
    if (expected !== undefined) {
      const done = await this.#writeChained(units, expected);
      if (done !== undefined) return done;
    }
    // The head moved (another process wrote, or an earlier write of this one failed), or is not
    // known yet: a transaction that reads it under its row lock first.
    const results = await this.#transaction(async (c) => {
      const head = await this.#lockHead(c);
      const puts = await this.#put(c, units, Date.now());
      const audits = await this.#appendAudit(c, units.map((u) => u.audit), head);
      return units.map((_, i) => ({ attestations: puts[i] ?? [], audit: audits[i]! }));
    });
    this.#committed(results.at(-1)!.audit);
    return results;
  }

  /**
   * The common case in one statement, committed on its own (no BEGIN/COMMIT round trips): the
   * audit entries are chained in this process after the head it expects (the one its last write
   * left, committed or still in flight), and the statement first locks the head row and checks
   * it holds that expected value (CHAINED_WRITE). The lock waits for a transaction still committing
   * and then sees the row it committed, so several writes of one process queue on the lock inside
   * the database, each extending the chain of the one before, with no round trip between them. If
   * the row holds anything else, nothing is written (every insert depends on `ok`) and the caller
   * falls back to the locking transaction. The acknowledgement comes after the statement's
   * implicit transaction committed (PostgreSQL sends ReadyForQuery after the commit, which is
   * durable as an explicit COMMIT is: synchronous_commit stays on).
   */
  async #writeChained(units: readonly WriteUnit[], expected: AuditHead): Promise<WriteResult[] | undefined> {
    const entries = chainEntries(expected, units.map((u) => u.audit));
    const last = entries.at(-1)!;
    const rows = this.#attestationRows(units, Date.now());
    // Index rows keyed by (namespace, id): the statement joins them to the seq its insert returns.
    const { subjects, signers, materials } = indexColumns(
      rows.keys.map((key) => {
        const row = rows.byKey.get(key)!;
        return { ...row, ref: row.record.id };
      }),
    );
    const params = [expected.seq, expected.hash, last.seq, last.hash, ...rows.columns, ...subjects, ...signers, ...materials, ...auditColumns(entries)];
    // From here on, the next write chains after this one.
    const previous = this.#previous;
    let settle!: (committed: boolean) => void;
    const mine = new Promise<boolean>((resolve) => (settle = resolve));
    this.#head = { seq: last.seq, hash: last.hash };
    this.#previous = mine;
    let result: Row[];
    try {
      result = await this.#rows(CHAINED_WRITE, params);
      // The write this one chains after went out on another connection and may reach the database
      // later: then the head was still the one before it. Once that write committed, the head is
      // the expected one (unless another process wrote in between).
      if (result[0]?.['ok'] !== true && previous !== undefined && (await previous)) result = await this.#rows(CHAINED_WRITE, params);
    } catch (e) {
      // Whether it committed is unknown (a dropped connection): the next write reads the head under the lock.
      this.#forget(mine);
      settle(false);
      throw e;
    }
    if (result[0]?.['ok'] !== true) {
      this.#forget(mine);
      settle(false);
      return undefined;
    }
    settle(true);
    const found = new Map<string, Found>();
    PostgresStore.#inserted(result, found);
    // Already stored (a conflict): committed before this statement's insert gave up on it, so a new statement sees it.
    await this.#findExisting(rows, found);
    const puts = this.#putResults(units, found);
    return units.map((_, i) => ({ attestations: puts[i] ?? [], audit: entries[i]! }));
  }

  async getAttestation(namespace: string, id: string): Promise<StoredAttestation | undefined> {
    const row = (await this.#rows(`SELECT ${SUMMARY_COLUMNS}, a.bytes FROM attestations a WHERE a.namespace = $1 AND a.id = $2`, [namespace, id]))[0];
    return row === undefined ? undefined : storedFromRow(row);
  }

  async listAttestations(query: AttestationQuery): Promise<AttestationPage> {
    const subjectOnly = query.subject !== undefined && query.predicateType === undefined && query.signer === undefined && query.step === undefined && query.since === undefined && query.cursor === undefined;
    if (!subjectOnly) return this.#list(query);
    // Nothing else on its way: no reason to wait for company.
    if (this.#lookupsInFlight === 0 && this.#lookups.length === 0) return this.#counted(this.#list(query));
    return new Promise((resolve, reject) => {
      this.#lookups.push({ query, resolve, reject });
      if (this.#lookups.length === 1) setImmediate(() => void this.#lookUp());
    });
  }

  async #counted<T>(lookup: Promise<T>): Promise<T> {
    this.#lookupsInFlight += 1;
    try {
      return await lookup;
    } finally {
      this.#lookupsInFlight -= 1;
    }
  }

  async #list(query: AttestationQuery): Promise<AttestationPage> {
    const { sql, params } = listQuery(query, (i) => `$${i}`);
    return pageFromRows(await this.#rows(sql, params), query.limit);
  }

  /**
   * Lookups by subject that arrived in one turn of the event loop while others were on their way
   * go to the database as one statement (a LATERAL join over the list, SUBJECT_LOOKUPS): one round trip, one wake-up of one
   * database process and one implicit transaction for all of them, instead of one each. Under load
   * these per-statement costs were most of a query's CPU on both sides (docs/bench-server.md).
   * Each caller gets exactly the page the single query (listQuery) returns.
   */
  async #lookUp(): Promise<void> {
    const batch = this.#lookups.splice(0, MAX_LOOKUPS);
    if (this.#lookups.length > 0) setImmediate(() => void this.#lookUp());
    if (batch.length === 1) {
      const [one] = batch;
      await this.#counted(this.#list(one!.query)).then(one!.resolve, one!.reject);
      return;
    }
    try {
      const rows = await this.#counted(this.#rows(SUBJECT_LOOKUPS, [
        batch.map((l) => l.query.namespace),
        batch.map((l) => l.query.subject!.algorithm),
        batch.map((l) => l.query.subject!.value),
        batch.map((l) => l.query.limit + 1),
      ]));
      const each: Row[][] = batch.map(() => []);
      for (const row of rows) each[Number(row['i']) - 1]!.push(row);
      // Rows arrive ordered by (i, seq DESC): each list is in the order of listQuery's.
      batch.forEach((l, i) => {
        try {
          l.resolve(pageFromRows(each[i]!, l.query.limit));
        } catch (e) {
          l.reject(e);
        }
      });
    } catch (e) {
      for (const l of batch) l.reject(e);
    }
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
    }).then((entry) => {
      this.#committed(entry);
      return entry;
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
      if (result.rowCount === 0) return undefined;
      return (await this.#appendAudit(c, [audit]))[0]!;
    }).then((entry) => {
      if (entry === undefined) return false;
      this.#committed(entry);
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
