// ID-token verification for the certificate authority: the issuer must be configured (an external
// OIDC provider, or this server's own workload issuer), the signature must verify under that
// issuer's keys with an allowed algorithm (`alg: none` never), the token must be unexpired and for
// an accepted audience. The verified claims become the certificate's identity (SAN), the
// proof-of-possession challenge and the Sigstore CI extensions. Each refusal has its own code.
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ApiError } from '../errors.ts';
import type { CaIssuerConfig } from './ca-config.ts';
import type { CiExtension, SanValue } from './x509.ts';

export interface VerifiedIdentity {
  readonly issuer: string;
  readonly san: SanValue;
  /**
   * What the client may sign to prove possession of its key: the `sub` claim, or the email for an
   * email identity (sigstore-js signs the email for some issuers, `sub` for the others).
   */
  readonly challenges: readonly string[];
  readonly ci: Partial<Record<CiExtension, string>>;
  readonly claims: JWTPayload;
}

export interface IdentityTokenVerifier {
  verify(token: string): Promise<VerifiedIdentity>;
}

interface Entry {
  readonly cfg: CaIssuerConfig;
  readonly keys: JWTVerifyGetKey;
}

/** A claim by dotted path (`kubernetes.io.namespace` also finds `{"kubernetes.io": {"namespace": …}}`). */
function claim(payload: JWTPayload, name: string): string | undefined {
  const direct = (payload as Record<string, unknown>)[name];
  if (typeof direct === 'string' || typeof direct === 'number') return String(direct);
  const parts = name.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    const head = (payload as Record<string, unknown>)[parts.slice(0, i).join('.')];
    if (typeof head === 'object' && head !== null) {
      const rest = claim(head as JWTPayload, parts.slice(i).join('.'));
      if (rest !== undefined) return rest;
    }
  }
  return undefined;
}

/** Fills `{claim}` placeholders; undefined when a claim is missing. */
export function fillTemplate(template: string, payload: JWTPayload): string | undefined {
  let missing = false;
  const out = template.replace(/\{([A-Za-z0-9_.-]+)\}/g, (_m, name: string) => {
    const v = claim(payload, name);
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

function sanOf(cfg: CaIssuerConfig, payload: JWTPayload): SanValue {
  if (cfg.san.type === 'email') {
    const email = payload['email'];
    // Fulcio: an email identity needs email_verified true.
    if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email) || payload['email_verified'] !== true) {
      throw new ApiError(400, 'IDENTITY_UNMAPPED', 'the ID token has no verified email claim');
    }
    return { email };
  }
  const uri = fillTemplate(cfg.san.template, payload);
  if (uri === undefined) throw new ApiError(400, 'IDENTITY_UNMAPPED', `the ID token lacks a claim of the identity template ${cfg.san.template}`);
  try {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(uri)) throw new Error('relative');
    new URL(uri);
  } catch {
    throw new ApiError(400, 'IDENTITY_UNMAPPED', 'the identity made from the ID token is not an absolute URI');
  }
  return { uri };
}

/** Maps jose's refusal to a stable code (401: the credential is not acceptable). */
function refusal(e: unknown): ApiError {
  if (e instanceof joseErrors.JWTExpired) return new ApiError(401, 'TOKEN_EXPIRED', 'the ID token has expired');
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new ApiError(401, 'AUDIENCE_MISMATCH', 'the ID token is not for an audience this CA accepts');
    if (e.claim === 'iss') return new ApiError(401, 'ISSUER_UNKNOWN', 'the ID token issuer is not accepted');
    return new ApiError(401, 'JWT_INVALID', `the ID token's ${e.claim} claim is not acceptable (${e.reason})`);
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return new ApiError(401, 'ALGORITHM_REFUSED', 'the ID token is signed with an algorithm this issuer is not allowed');
  const code = e instanceof joseErrors.JOSEError ? e.code : 'ERR_UNKNOWN';
  return new ApiError(401, 'JWT_INVALID', `the ID token does not verify (${code})`);
}

export function createIdentityTokenVerifier(
  issuers: readonly { cfg: CaIssuerConfig; jwks?: { keys: Record<string, unknown>[] } }[],
  now: () => Date = () => new Date(),
): IdentityTokenVerifier {
  const byIssuer = new Map<string, Entry>(
    issuers.map(({ cfg, jwks }) => [
      cfg.issuer,
      {
        cfg,
        // The server's own issuer: its key set is local. External ones: fetched and cached by jose.
        keys: jwks !== undefined ? createLocalJWKSet(jwks as never) : createRemoteJWKSet(new URL(cfg.jwksUri), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 }),
      },
    ]),
  );
  return {
    async verify(token: string): Promise<VerifiedIdentity> {
      let unverified: JWTPayload;
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
        unverified = decodeJwt(token);
      } catch {
        throw new ApiError(401, 'JWT_INVALID', 'the identity token is not a JWT');
      }
      // RFC 8725 §3.1: never accept unsigned tokens, whatever the issuer.
      if (typeof alg !== 'string' || alg.toLowerCase() === 'none') throw new ApiError(401, 'ALGORITHM_REFUSED', "an ID token with alg 'none' is never accepted");
      // The issuer claim only picks which keys to try; nothing is trusted before jwtVerify.
      const entry = typeof unverified.iss === 'string' ? byIssuer.get(unverified.iss) : undefined;
      if (entry === undefined) throw new ApiError(401, 'ISSUER_UNKNOWN', 'the ID token issuer is not accepted by this CA');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, entry.keys, {
          issuer: entry.cfg.issuer,
          audience: entry.cfg.audiences,
          algorithms: entry.cfg.algorithms,
          requiredClaims: ['exp', 'sub', 'iat'],
          clockTolerance: 30,
          currentDate: now(),
        }));
      } catch (e) {
        throw refusal(e);
      }
      const san = sanOf(entry.cfg, payload);
      const ci: Partial<Record<CiExtension, string>> = {};
      for (const [k, t] of Object.entries(entry.cfg.extensions) as [CiExtension, string][]) {
        const v = fillTemplate(t, payload);
        if (v !== undefined) ci[k] = v;
      }
      return { issuer: entry.cfg.issuer, san, challenges: 'email' in san ? [String(payload.sub), san.email] : [String(payload.sub)], ci, claims: payload };
    },
  };
}
