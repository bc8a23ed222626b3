// Authentication: the Authorization header (and, over TLS, the client certificate) → a Principal.
// `Bearer custody_…` is an API token looked up in the store; any other bearer token is tried as an
// OIDC JWT; without a header, a client certificate the client CA signed maps through the `tls`
// grants (mtls.ts). Nothing at all, no access (apart from the public routes): deny by default.
//
// Token records are cached for a few seconds (a store round trip per request was a measured cost,
// docs/bench-server.md). Fail-closed all the same: the secret is checked against the cached hash
// on every request, expiry against the current time on every request, a token revoked through
// this server is dropped from the cache at once, and one revoked elsewhere (another server on the
// same PostgreSQL, or offline) is refused at the latest TOKEN_CACHE_MS later.
import type { Store, TokenRecord } from '../store/index.ts';
import { looksLikeApiToken, parseApiToken, secretMatches, tokenState } from './api-tokens.ts';
import type { Principal } from './authz.ts';
import { ApiError } from './errors.ts';
import { certificatePrincipal, type CertGrant, type TlsPeer } from './mtls.ts';
import type { OidcVerifier } from './oidc.ts';

export interface Authenticator {
  /** The principal, or an ApiError (401, or 403 for an identity with no grant). */
  authenticate(authorization: string | undefined, peer?: TlsPeer): Promise<Principal>;
  /** Drops a token from the cache (after revoking it). */
  forget(tokenId: string): void;
}

/** How long a token record read from the store is trusted without reading it again. */
export const TOKEN_CACHE_MS = 5_000;
const TOKEN_CACHE_MAX = 10_000;

export interface AuthenticatorOptions {
  /** Grants for verified client certificates (config `tls.grants`). */
  certGrants?: readonly CertGrant[];
  /** clientCerts 'require': a TLS request without a verified client certificate is refused. */
  requireCertificate?: boolean;
  /** Token record cache lifetime in ms; 0 disables the cache. */
  tokenCacheMs?: number;
}

export function createAuthenticator(
  store: Pick<Store, 'getToken'>,
  oidc: OidcVerifier | undefined,
  now: () => Date = () => new Date(),
  options: AuthenticatorOptions = {},
): Authenticator {
  const ttl = options.tokenCacheMs ?? TOKEN_CACHE_MS;
  const grants = options.certGrants ?? [];
  // id → record and when it was read (monotonic clock: the test clock moves `now`, not this).
  const cache = new Map<string, { record: TokenRecord; readAt: number }>();

  async function tokenRecord(id: string): Promise<TokenRecord | undefined> {
    const hit = cache.get(id);
    if (hit !== undefined && performance.now() - hit.readAt < ttl) return hit.record;
    const record = await store.getToken(id);
    cache.delete(id);
    // Only tokens that can still be used are worth keeping; unknown ids are never cached.
    if (record !== undefined && ttl > 0 && record.revokedAt === null) {
      if (cache.size >= TOKEN_CACHE_MAX) cache.delete(cache.keys().next().value!);
      cache.set(id, { record, readAt: performance.now() });
    }
    return record;
  }

  return {
    forget(tokenId) {
      cache.delete(tokenId);
    },
    async authenticate(authorization, peer) {
      // A certificate the client CA did not sign is refused even next to a valid token: the client
      // claims an identity this server cannot check.
      if (peer?.certificate !== undefined && !peer.authorized) throw new ApiError(401, 'CERT_UNTRUSTED', 'the client certificate is not signed by a CA this server trusts');
      // Second line of defence behind enforceClientCertificates (mtls.ts).
      if (options.requireCertificate === true && peer?.certificate === undefined) throw new ApiError(401, 'UNAUTHENTICATED', 'this server requires a client certificate');
      if (authorization === undefined || authorization === '') {
        if (peer?.certificate !== undefined) return certificatePrincipal({ authorized: peer.authorized, certificate: peer.certificate }, grants);
        throw new ApiError(401, 'UNAUTHENTICATED', 'this route needs a bearer token or a client certificate');
      }
      const m = /^Bearer +(\S+)$/i.exec(authorization);
      if (m === null) throw new ApiError(401, 'UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
      const credential = m[1]!;
      if (looksLikeApiToken(credential)) {
        const parsed = parseApiToken(credential);
        if (parsed === undefined) throw new ApiError(401, 'TOKEN_INVALID', 'malformed API token');
        const record = await tokenRecord(parsed.id);
        if (record === undefined || !secretMatches(record, parsed.secret)) throw new ApiError(401, 'TOKEN_INVALID', 'unknown API token');
        // The secret matched: from here on the audit log may name the token.
        const auditActor = `token:${parsed.id}`;
        const state = tokenState(record, now());
        if (state === 'expired') throw new ApiError(401, 'TOKEN_EXPIRED', 'API token has expired', { auditActor });
        if (state === 'revoked') throw new ApiError(401, 'TOKEN_REVOKED', 'API token was revoked', { auditActor });
        return { actor: auditActor, kind: 'token', role: record.role, namespaces: record.namespaces };
      }
      if (oidc === undefined) throw new ApiError(401, 'JWT_INVALID', 'this server accepts no OIDC tokens');
      return oidc.verify(credential);
    },
  };
}
