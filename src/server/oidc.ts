// OIDC bearer JWTs (workload identities): the issuer must be on the allowlist, the signature must
// verify against that issuer's JWKS (fetched by jose and cached), the audience must match, and
// one configured grant's claims must all match. Unsigned (`alg: none`) tokens never verify: jose
// needs a key, and the allowed algorithms are listed explicitly.
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { OidcGrant, OidcIssuerConfig } from './config.ts';
import { ApiError } from './errors.ts';
import type { Principal } from './authz.ts';

export interface OidcVerifier {
  /** Verifies a JWT and maps it to a principal; throws ApiError 401/403. */
  verify(jwt: string): Promise<Principal>;
}

function grantFor(grants: readonly OidcGrant[], payload: JWTPayload): OidcGrant | undefined {
  return grants.find((g) => Object.entries(g.claims).every(([claim, value]) => payload[claim] === value));
}

export function createOidcVerifier(issuers: readonly OidcIssuerConfig[]): OidcVerifier {
  const byIssuer = new Map(
    issuers.map((cfg) => [
      cfg.issuer,
      // jose caches the key set and refetches on an unknown kid, at most once per cooldown.
      { cfg, jwks: createRemoteJWKSet(new URL(cfg.jwksUri), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 }) },
    ]),
  );
  return {
    async verify(jwt: string): Promise<Principal> {
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(jwt);
      } catch {
        throw new ApiError(401, 'JWT_INVALID', 'bearer token is neither an API token nor a JWT');
      }
      // The issuer claim only picks which keys to try; nothing is trusted before jwtVerify.
      const entry = typeof unverified.iss === 'string' ? byIssuer.get(unverified.iss) : undefined;
      if (entry === undefined) throw new ApiError(401, 'ISSUER_UNKNOWN', 'JWT issuer is not on this server\'s allowlist');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(jwt, entry.jwks, {
          issuer: entry.cfg.issuer,
          audience: entry.cfg.audiences,
          algorithms: entry.cfg.algorithms,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: 30,
        }));
      } catch (e) {
        const reason = e instanceof joseErrors.JOSEError ? e.code : 'ERR_UNKNOWN';
        throw new ApiError(401, 'JWT_INVALID', `JWT rejected (${reason})`);
      }
      const grant = grantFor(entry.cfg.grants, payload);
      const actor = `oidc:${entry.cfg.issuer}#${String(payload.sub)}`;
      if (grant === undefined) throw new ApiError(403, 'FORBIDDEN', 'no grant on this server matches the JWT claims', { auditActor: actor });
      return { actor, kind: 'oidc', role: grant.role, namespaces: grant.namespaces };
    },
  };
}
