// API tokens: `custody_<id>_<secret>`. The id is public (it names the token in lists and the audit
// log); the secret is 256 random bits, shown once, stored only as its sha256 (a slow hash adds
// nothing for a secret this long). Expiring and revocable.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InputError } from '../core/index.ts';
import type { AuditDraft, Role, Store, TokenRecord } from '../store/index.ts';
import { isNamespace, isRole } from './authz.ts';

const TOKEN_PATTERN = /^custody_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function looksLikeApiToken(text: string): boolean {
  return text.startsWith('custody_');
}

export function parseApiToken(text: string): { id: string; secret: string } | undefined {
  const m = TOKEN_PATTERN.exec(text);
  return m === null ? undefined : { id: m[1]!, secret: m[2]! };
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(record: TokenRecord, secret: string): boolean {
  return timingSafeEqual(Buffer.from(hashSecret(secret), 'hex'), Buffer.from(record.secretHash, 'hex'));
}

export type TokenState = 'active' | 'expired' | 'revoked';

export function tokenState(record: TokenRecord, now: Date): TokenState {
  if (record.revokedAt !== null) return 'revoked';
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w`, an ISO 8601 time, or `never` → expiry time (null = never). */
export function parseExpiry(text: string, now = new Date()): string | null {
  if (text === 'never') return null;
  const m = /^(\d{1,6})([mhdw])$/.exec(text);
  if (m !== null) return new Date(now.getTime() + Number(m[1]) * UNIT_MS[m[2]!]!).toISOString();
  const t = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(t)) {
    if (t <= now.getTime()) throw new InputError('USAGE', `expiry ${text} is in the past`);
    return new Date(t).toISOString();
  }
  throw new InputError('USAGE', `expiry '${text}' is not a duration (30d, 12h, 90m, 2w), an ISO 8601 time or 'never'`);
}

export interface CreateTokenRequest {
  role: string;
  namespaces: string[];
  /** Expiry as parseExpiry reads it; default 90d. */
  expires?: string;
  description?: string;
}

export interface CreatedToken {
  /** The token itself: shown once, never stored. */
  token: string;
  record: Omit<TokenRecord, 'secretHash'>;
}

export function publicRecord(record: TokenRecord): Omit<TokenRecord, 'secretHash'> {
  const { secretHash: _hidden, ...rest } = record;
  return rest;
}

/** Creates a token, storing it with its audit entry in one transaction. */
export async function createApiToken(
  store: Store,
  request: CreateTokenRequest,
  actor: string,
  audit: Pick<AuditDraft, 'status'> & { detail?: Record<string, unknown> } = { status: 0 },
): Promise<CreatedToken> {
  if (!isRole(request.role)) throw new InputError('USAGE', `unknown role '${request.role}'`);
  const role: Role = request.role;
  const namespaces = request.namespaces.length === 0 ? (role === 'admin' ? ['*'] : []) : [...new Set(request.namespaces)];
  if (namespaces.length === 0) throw new InputError('USAGE', `a ${role} token needs at least one namespace (or '*')`);
  for (const n of namespaces) if (n !== '*' && !isNamespace(n)) throw new InputError('USAGE', `'${n}' is not a namespace name`);
  const now = new Date();
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record: TokenRecord = {
    id,
    secretHash: hashSecret(secret),
    role,
    namespaces,
    description: request.description ?? '',
    createdAt: now.toISOString(),
    createdBy: actor,
    expiresAt: parseExpiry(request.expires ?? '90d', now),
    revokedAt: null,
  };
  await store.createToken(record, {
    at: now.toISOString(),
    actor,
    action: 'tokens.create',
    namespace: null,
    target: id,
    outcome: 'allowed',
    status: audit.status,
    detail: { role, namespaces, expiresAt: record.expiresAt, ...audit.detail },
  });
  return { token: `custody_${id}_${secret}`, record: publicRecord(record) };
}
