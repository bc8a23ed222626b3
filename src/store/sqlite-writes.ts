// The SQLite write path (attestations with their index rows, and the audit chain), shared by the
// store's own connection and by the writer thread (sqlite-writer.ts): the same statements, the same
// transaction, wherever they run.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { chainEntries } from './audit-chain.ts';
import { uniqueDigestRefs } from './ingest.ts';
import { ATTESTATION_INSERT_COLUMNS, AUDIT_COLUMNS, attestationValues, auditValues, type Row } from './rows.ts';
import type { AuditDraft, AuditEntry, NewAttestation, PutResult, WriteResult, WriteUnit } from './types.ts';

export class SqliteWrites {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** A prepared statement, kept for the connection's lifetime. */
  stmt(sql: string): StatementSync {
    let s = this.#cache.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#cache.set(sql, s);
    }
    return s;
  }

  transaction<T>(fn: () => T): T {
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

  put(namespace: string, records: readonly NewAttestation[], now: number): PutResult[] {
    const insert = this.stmt(
      `INSERT INTO attestations (${ATTESTATION_INSERT_COLUMNS.join(', ')}) VALUES (${ATTESTATION_INSERT_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (namespace, id) DO NOTHING RETURNING seq, created_at`,
    );
    const existing = this.stmt('SELECT seq, created_at FROM attestations WHERE namespace = ? AND id = ?');
    const subject = this.stmt('INSERT INTO attestation_subjects (namespace, algorithm, value, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    const signer = this.stmt('INSERT INTO attestation_signers (namespace, keyid, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    const material = this.stmt('INSERT INTO attestation_materials (namespace, algorithm, value, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    return records.map((r) => {
      const inserted = insert.get(...attestationValues(namespace, r, now)) as Row | undefined;
      const row = inserted ?? existing.get(namespace, r.id);
      if (row === undefined) throw new Error(`store: attestation ${r.id} neither inserted nor found`);
      const seq = Number(row['seq']);
      if (inserted !== undefined) {
        for (const d of uniqueDigestRefs(r.subjects)) subject.run(namespace, d.algorithm, d.value, seq);
        for (const keyid of r.verification.keyids) signer.run(namespace, keyid, seq);
        for (const d of uniqueDigestRefs(r.materials)) material.run(namespace, d.algorithm, d.value, seq);
      }
      return { id: r.id, seq, created: inserted !== undefined, createdAt: new Date(Number(row['created_at'])).toISOString() };
    });
  }

  appendAudit(drafts: readonly AuditDraft[]): AuditEntry[] {
    const head = this.stmt('SELECT seq, hash FROM audit_head WHERE id = 1').get() as Row;
    const entries = chainEntries({ seq: Number(head['seq']), hash: String(head['hash']) }, drafts);
    const insert = this.stmt(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const e of entries) insert.run(...auditValues(e));
    const last = entries.at(-1);
    if (last !== undefined) this.stmt('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(last.seq, last.hash);
    return entries;
  }

  /** Units in one transaction: committed (fsynced) when this returns. */
  write(units: readonly WriteUnit[]): WriteResult[] {
    return this.transaction(() => {
      const now = Date.now();
      const puts = units.map((u) => (u.attestations === undefined ? [] : this.put(u.attestations.namespace, u.attestations.records, now)));
      const audits = this.appendAudit(units.map((u) => u.audit));
      return units.map((_, i) => ({ attestations: puts[i] ?? [], audit: audits[i]! }));
    });
  }
}
