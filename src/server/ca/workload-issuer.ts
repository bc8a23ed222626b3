// The server as an OIDC issuer for workloads: an authorized principal asks for a short-lived ID
// token naming its pipeline run and step; the token is an ES256 JWT under the issuer key whose
// public half is served as JWKS next to /.well-known/openid-configuration (OpenID Connect
// Discovery 1.0 §3), so any OIDC relying party, and this server's CA, can verify it.
import { randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { InputError, type PrivateKey } from '../../core/index.ts';
import type { CaIssuerConfig } from './ca-config.ts';

export interface MintRequest {
  /** Audit name of the principal (token:<id> or oidc:<issuer>#<sub>). */
  readonly actor: string;
  readonly namespace: string;
  readonly step: string;
  readonly ttlSeconds: number;
  readonly run?: string;
  readonly audience?: string;
}

export interface MintedToken {
  readonly token: string;
  readonly subject: string;
  readonly expiresAt: string;
}

export interface WorkloadIssuer {
  readonly issuer: string;
  jwks(): Promise<{ keys: JWK[] }>;
  discovery(): Record<string, unknown>;
  mint(req: MintRequest): Promise<MintedToken>;
  /** How the CA treats this issuer's tokens: URI identity from `sub`, run and step in the CI extensions. */
  caIssuer(): CaIssuerConfig;
}

export const JWKS_PATH = '/.well-known/jwks.json';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RUN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The URI identity of a principal's step: stable across runs, so policies can name it. */
export function workloadSubject(issuer: string, actor: string, step: string): string {
  return `${issuer}/principals/${encodeURIComponent(actor)}/steps/${encodeURIComponent(step)}`;
}

export function createWorkloadIssuer(options: { issuer: string; key: PrivateKey; audience: string; maxTtlSeconds: number; now: () => Date }): WorkloadIssuer {
  const issuer = options.issuer.replace(/\/$/, '');
  if (options.key.type !== 'ecdsa-p256') throw new InputError('KEY_UNSUPPORTED', 'the identity issuer key must be ECDSA P-256 (ES256)');
  let cached: { keys: JWK[] } | undefined;
  const jwks = async (): Promise<{ keys: JWK[] }> => {
    if (cached === undefined) {
      const jwk = await exportJWK(options.key.publicKey.keyObject);
      cached = { keys: [{ ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256', use: 'sig' }] };
    }
    return cached;
  };
  return {
    issuer,
    jwks,
    discovery: () => ({
      issuer,
      jwks_uri: `${issuer}${JWKS_PATH}`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'custody_actor', 'custody_namespace', 'custody_step', 'custody_run'],
    }),
    async mint(req: MintRequest): Promise<MintedToken> {
      if (!NAME.test(req.step)) throw new InputError('INPUT_INVALID', 'step must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit');
      if (req.run !== undefined && !RUN.test(req.run)) throw new InputError('INPUT_INVALID', 'run must be 1-128 of [A-Za-z0-9._:-]');
      if (!Number.isSafeInteger(req.ttlSeconds) || req.ttlSeconds <= 0 || req.ttlSeconds > options.maxTtlSeconds) {
        throw new InputError('INPUT_INVALID', `ttl must be 1 to ${options.maxTtlSeconds} seconds`);
      }
      const now = Math.floor(options.now().getTime() / 1000);
      const subject = workloadSubject(issuer, req.actor, req.step);
      const { keys } = await jwks();
      const token = await new SignJWT({
        custody_actor: req.actor,
        custody_namespace: req.namespace,
        custody_step: req.step,
        ...(req.run === undefined ? {} : { custody_run: req.run }),
      })
        .setProtectedHeader({ alg: 'ES256', kid: keys[0]!.kid!, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(subject)
        .setAudience(req.audience ?? options.audience)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + req.ttlSeconds)
        .setJti(randomUUID())
        .sign(options.key.keyObject);
      return { token, subject, expiresAt: new Date((now + req.ttlSeconds) * 1000).toISOString() };
    },
    caIssuer: () => ({
      issuer,
      audiences: [options.audience],
      jwksUri: `${issuer}${JWKS_PATH}`,
      algorithms: ['ES256'],
      san: { type: 'uri', template: '{sub}' },
      extensions: { buildSignerUri: '{sub}', runInvocationUri: `${issuer}/runs/{custody_run}` },
    }),
  };
}
