// Offline administration against a data directory or config (no running server needed): the first
// admin token is made this way. Every change is audited like its API counterpart, with the actor
// `offline:<user>`.
import { userInfo } from 'node:os';
import type { Store, TokenRecord } from '../store/index.ts';
import { createApiToken, publicRecord, type CreateTokenRequest, type CreatedToken } from './api-tokens.ts';
import { verifyStoreAudit, type AuditVerification } from './audit.ts';
import { openStore, resolveServeConfig } from './start.ts';

export interface OfflineTarget {
  /** Server config file (its store settings are used). */
  config?: string;
  /** Data directory (SQLite store); overrides the config's. */
  data?: string;
}

function offlineActor(): string {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (containers): keep 'unknown'.
  }
  return `offline:${name}`;
}

export async function withOfflineStore<T>(target: OfflineTarget, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(resolveServeConfig(target));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function createTokenOffline(target: OfflineTarget, request: CreateTokenRequest): Promise<CreatedToken> {
  return withOfflineStore(target, (store) => createApiToken(store, request, offlineActor()));
}

export function listTokensOffline(target: OfflineTarget): Promise<Omit<TokenRecord, 'secretHash'>[]> {
  return withOfflineStore(target, async (store) => (await store.listTokens()).map(publicRecord));
}

/** false when there is no such active token. */
export function revokeTokenOffline(target: OfflineTarget, id: string): Promise<boolean> {
  return withOfflineStore(target, (store) => {
    const at = new Date().toISOString();
    return store.revokeToken(id, at, { at, actor: offlineActor(), action: 'tokens.revoke', namespace: null, target: id, outcome: 'allowed', status: 0, detail: {} });
  });
}

export function verifyAuditOffline(target: OfflineTarget): Promise<AuditVerification> {
  return withOfflineStore(target, (store) => verifyStoreAudit(store));
}
