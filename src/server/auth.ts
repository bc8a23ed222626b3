// Authentication: the Authorization header → a Principal. `Bearer custody_…` is an API token
// looked up in the store; any other bearer token is tried as an OIDC JWT. No header, no access
// (apart from the public routes): deny by default.
import type { Store } from '../store/index.ts';
import { looksLikeApiToken, parseApiToken, secretMatches, tokenState } from './api-tokens.ts';
import type { Principal } from './authz.ts';
import { ApiError } from './errors.ts';
import type { OidcVerifier } from './oidc.ts';

export interface Authenticator {
  /** The principal, or an ApiError (401, or 403 for an identity with no grant). */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

export function createAuthenticator(store: Pick<Store, 'getToken'>, oidc: OidcVerifier | undefined, now: () => Date = () => new Date()): Authenticator {
  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization === '') throw new ApiError(401, 'UNAUTHENTICATED', 'this route needs a bearer token');
      const m = /^Bearer +(\S+)$/i.exec(authorization);
      if (m === null) throw new ApiError(401, 'UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"');
      const credential = m[1]!;
      if (looksLikeApiToken(credential)) {
        const parsed = parseApiToken(credential);
        if (parsed === undefined) throw new ApiError(401, 'TOKEN_INVALID', 'malformed API token');
        const record = await store.getToken(parsed.id);
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
