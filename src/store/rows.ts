// Row ↔ record mapping and the listing query, shared by the SQLite and PostgreSQL drivers (their
// schemas use the same tables and column names; only placeholders and a few types differ).
import { InputError } from '../core/index.ts';
import type {
  AttestationMeta,
  AttestationQuery,
  AttestationSummary,
  AuditEntry,
  NewAttestation,
  Role,
  StoredAttestation,
  TokenRecord,
} from './types.ts';

export const SUMMARY_COLUMNS =
  'a.seq, a.namespace, a.id, a.size, a.media_type, a.payload_type, a.predicate_type, a.step, a.verification, a.claimed_keyids, a.subjects, a.materials, a.created_at';

export type Row = Record<string, unknown>;

function str(row: Row, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') throw new Error(`store: column ${column} is not text`);
  return v;
}

function num(row: Row, column: string): number {
  const v = row[column];
  // PostgreSQL BIGINT arrives as a string, SQLite INTEGER as a number.
  const n = typeof v === 'string' ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new Error(`store: column ${column} is not an integer`);
  return n;
}

function json<T>(row: Row, column: string): T {
  return JSON.parse(str(row, column)) as T;
}

function optionalStr(row: Row, column: string): string | null {
  const v = row[column];
  return v === null || v === undefined ? null : str(row, column);
}

export function summaryFromRow(row: Row): AttestationSummary {
  const summary: AttestationSummary = {
    seq: num(row, 'seq'),
    namespace: str(row, 'namespace'),
    id: str(row, 'id'),
    size: num(row, 'size'),
    mediaType: str(row, 'media_type') as AttestationMeta['mediaType'],
    payloadType: str(row, 'payload_type'),
    predicateType: str(row, 'predicate_type'),
    verification: json(row, 'verification'),
    claimedKeyids: json(row, 'claimed_keyids'),
    subjects: json(row, 'subjects'),
    materials: json(row, 'materials'),
    createdAt: new Date(num(row, 'created_at')).toISOString(),
  };
  const step = optionalStr(row, 'step');
  if (step !== null) summary.step = step;
  return summary;
}

export function storedFromRow(row: Row): StoredAttestation {
  const bytes = row['bytes'];
  if (!(bytes instanceof Uint8Array)) throw new Error('store: column bytes is not binary');
  return { ...summaryFromRow(row), bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** Column values of an attestations row, in ATTESTATION_INSERT_COLUMNS order. */
export const ATTESTATION_INSERT_COLUMNS = [
  'namespace',
  'id',
  'bytes',
  'size',
  'media_type',
  'payload_type',
  'predicate_type',
  'step',
  'verification',
  'claimed_keyids',
  'subjects',
  'materials',
  'created_at',
] as const;

export function attestationValues(namespace: string, r: NewAttestation, createdAt: number): (string | number | Uint8Array | null)[] {
  return [
    namespace,
    r.id,
    r.bytes,
    r.bytes.byteLength,
    r.mediaType,
    r.payloadType,
    r.predicateType,
    r.step ?? null,
    JSON.stringify(r.verification),
    JSON.stringify(r.claimedKeyids),
    JSON.stringify(r.subjects),
    JSON.stringify(r.materials),
    createdAt,
  ];
}

export function tokenFromRow(row: Row): TokenRecord {
  return {
    id: str(row, 'id'),
    secretHash: str(row, 'secret_hash'),
    role: str(row, 'role') as Role,
    namespaces: json(row, 'namespaces'),
    description: str(row, 'description'),
    createdAt: str(row, 'created_at'),
    createdBy: str(row, 'created_by'),
    expiresAt: optionalStr(row, 'expires_at'),
    revokedAt: optionalStr(row, 'revoked_at'),
  };
}

export function auditFromRow(row: Row): AuditEntry {
  return {
    seq: num(row, 'seq'),
    at: str(row, 'at'),
    actor: str(row, 'actor'),
    action: str(row, 'action'),
    namespace: optionalStr(row, 'namespace'),
    target: optionalStr(row, 'target'),
    outcome: str(row, 'outcome') as AuditEntry['outcome'],
    status: num(row, 'status'),
    detail: json(row, 'detail'),
    prevHash: str(row, 'prev_hash'),
    hash: str(row, 'hash'),
  };
}

export function auditValues(e: AuditEntry): (string | number | null)[] {
  return [e.seq, e.at, e.actor, e.action, e.namespace, e.target, e.outcome, e.status, JSON.stringify(e.detail), e.prevHash, e.hash];
}

export const AUDIT_COLUMNS = 'seq, at, actor, action, namespace, target, outcome, status, detail, prev_hash, hash';

const CURSOR_PREFIX = 'c1.';

export function encodeCursor(seq: number): string {
  return CURSOR_PREFIX + Buffer.from(String(seq)).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  if (cursor.startsWith(CURSOR_PREFIX)) {
    const text = Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString('latin1');
    if (/^[1-9][0-9]{0,15}$/.test(text)) {
      const n = Number(text);
      if (Number.isSafeInteger(n)) return n;
    }
  }
  throw new InputError('INPUT_INVALID', 'cursor is not one this server issued');
}

/**
 * SELECT for a listing, newest first. The most selective index drives: the subject index, then
 * the signer index, then the attestations table itself; the other filters apply on top.
 * `p(i)` renders placeholder number i (1-based): `?` for SQLite, `$i` for PostgreSQL.
 */
export function listQuery(q: AttestationQuery, p: (i: number) => string): { sql: string; params: (string | number)[] } {
  const params: (string | number)[] = [];
  const bind = (v: string | number): string => {
    params.push(v);
    return p(params.length);
  };
  let from: string;
  const where: string[] = [];
  let seqColumn = 'a.seq';
  if (q.subject !== undefined) {
    from = 'attestation_subjects s JOIN attestations a ON a.seq = s.seq';
    seqColumn = 's.seq';
    where.push(`s.namespace = ${bind(q.namespace)}`, `s.algorithm = ${bind(q.subject.algorithm)}`, `s.value = ${bind(q.subject.value)}`);
  } else if (q.signer !== undefined) {
    from = 'attestation_signers g JOIN attestations a ON a.seq = g.seq';
    seqColumn = 'g.seq';
    where.push(`g.namespace = ${bind(q.namespace)}`, `g.keyid = ${bind(q.signer)}`);
  } else {
    from = 'attestations a';
    where.push(`a.namespace = ${bind(q.namespace)}`);
  }
  if (q.signer !== undefined && q.subject !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM attestation_signers g WHERE g.namespace = a.namespace AND g.keyid = ${bind(q.signer)} AND g.seq = a.seq)`);
  }
  if (q.predicateType !== undefined) where.push(`a.predicate_type = ${bind(q.predicateType)}`);
  if (q.step !== undefined) where.push(`a.step = ${bind(q.step)}`);
  if (q.since !== undefined) where.push(`a.created_at >= ${bind(q.since.getTime())}`);
  if (q.cursor !== undefined) where.push(`${seqColumn} < ${bind(decodeCursor(q.cursor))}`);
  // One row more than asked tells whether another page follows.
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${seqColumn} DESC LIMIT ${bind(q.limit + 1)}`;
  return { sql, params };
}

export function pageFromRows(rows: Row[], limit: number): { items: AttestationSummary[]; nextCursor?: string } {
  const items = rows.slice(0, limit).map(summaryFromRow);
  const last = items.at(-1);
  return rows.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last.seq) } : { items };
}
