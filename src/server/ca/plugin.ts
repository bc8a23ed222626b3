// Keyless signing routes (plugin `ca`): the Fulcio v2 signing-certificate endpoint, the RFC 3161
// time-stamp endpoint, the workload-identity issuer (discovery, JWKS, minting for authorized
// principals), and the trust documents (trusted root, signing config).
import type { FastifyInstance } from 'fastify';
import { InputError } from '../../core/index.ts';
import type { AppContext } from '../app.ts';
import { requestNamespace } from '../app.ts';
import { errorResponses, namespaceSchema } from '../schemas.ts';
import { loadCaMaterial } from './ca-material.ts';
import { CertificateAuthority, signingCertResponse } from './ca-service.ts';
import { createIdentityTokenVerifier } from './identity-token.ts';
import { logKeylessDsse, logKeylessSignature, type DsseRequestV002, type HashedRekordRequestV002 } from './keyless-log.ts';
import { keylessSigningConfig, keylessTrustedRoot, type KeylessTrustInput } from './trust.ts';
import { createTimestampAuthority, timestampRequest } from './tsa.ts';
import { JWKS_PATH, createWorkloadIssuer } from './workload-issuer.ts';
import { parseCertificate } from './x509.ts';

const TSQ = 'application/timestamp-query';
const TSR = 'application/timestamp-reply';

interface SigningCertBody {
  credentials?: { oidcIdentityToken?: string };
  publicKeyRequest?: { publicKey?: { algorithm?: string; content?: string }; proofOfPossession?: string };
  certificateSigningRequest?: string;
}

const signingCertSchema = {
  type: 'object',
  required: ['credentials'],
  properties: {
    credentials: { type: 'object', required: ['oidcIdentityToken'], properties: { oidcIdentityToken: { type: 'string', minLength: 1, maxLength: 16384 } } },
    publicKeyRequest: {
      type: 'object',
      required: ['publicKey', 'proofOfPossession'],
      properties: {
        publicKey: { type: 'object', required: ['content'], properties: { algorithm: { type: 'string', maxLength: 64 }, content: { type: 'string', minLength: 1, maxLength: 16384 } } },
        proofOfPossession: { type: 'string', minLength: 1, maxLength: 4096 },
      },
    },
    certificateSigningRequest: { type: 'string' },
  },
} as const;

/** The organization (O) of a certificate's subject. */
function organizationOf(der: Buffer): string {
  const m = /^O=(.*)$/m.exec(parseCertificate(der).subject);
  return m?.[1] ?? 'custody';
}

export async function caPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const config = ctx.config.ca;
  if (!config.enabled) return;
  const material = await loadCaMaterial(config);
  app.addHook('onClose', async () => material.backend.close());
  const baseUrl = (config.identity.issuer ?? `http://${ctx.config.listen}`).replace(/\/$/, '');
  const issuer = createWorkloadIssuer({ issuer: baseUrl, key: material.identityKey, audience: config.identity.audience, maxTtlSeconds: config.identity.maxTtlSeconds, now: ctx.now });
  const verifier = createIdentityTokenVerifier([{ cfg: issuer.caIssuer(), jwks: await issuer.jwks() }, ...config.issuers.map((cfg) => ({ cfg }))], ctx.now);
  const ca = new CertificateAuthority({
    root: material.root,
    intermediate: material.intermediate,
    signer: material.intermediateSigner,
    verifier,
    validitySeconds: config.certValiditySeconds,
    log: ctx.transparencyLog,
    now: ctx.now,
  });
  const tsa = createTimestampAuthority({ certificate: material.tsa, signer: material.tsaSigner, now: ctx.now });
  const trust: KeylessTrustInput = {
    baseUrl,
    organization: organizationOf(material.root),
    root: material.root,
    intermediate: material.intermediate,
    tsa: material.tsa,
    logRoot: ctx.transparencyLog?.trustedRoot(),
    oidcIssuer: issuer.issuer,
  };
  // The tuf plugin (registered after this one) publishes the same documents as TUF targets.
  ctx.keylessTrust = trust;

  app.addContentTypeParser(TSQ, { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });

  app.post<{ Body: SigningCertBody }>(
    '/api/v2/signingCert',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'Fulcio v2: a short-lived signing certificate for an ID token and a public key with proof of possession',
        body: signingCertSchema,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (b.certificateSigningRequest !== undefined || b.publicKeyRequest === undefined) {
        throw new InputError('INPUT_INVALID', 'send publicKeyRequest {publicKey {algorithm, content}, proofOfPossession}; CSRs are not supported');
      }
      const issued = await ca.issue({
        token: b.credentials!.oidcIdentityToken!,
        publicKey: b.publicKeyRequest.publicKey!.content!,
        ...(b.publicKeyRequest.publicKey!.algorithm === undefined ? {} : { algorithm: b.publicKeyRequest.publicKey!.algorithm }),
        proofOfPossession: b.publicKeyRequest.proofOfPossession!,
      });
      await ctx.store.write([
        {
          audit: {
            ...ctx.draft(request, { action: 'ca.issue', namespace: null, target: issued.logIndex === undefined ? null : `log:${issued.logIndex}`, outcome: 'allowed', status: 200, detail: { identity: issued.identity, issuer: issued.issuer } }),
            actor: `oidc:${issued.issuer}#${issued.identity}`.slice(0, 512),
          },
        },
      ]);
      return reply.code(200).send(signingCertResponse(issued));
    },
  );

  app.post<{ Body: Buffer | { artifactHash?: unknown; hashAlgorithm?: unknown; nonce?: unknown; certificates?: unknown } }>(
    '/api/v1/timestamp',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'RFC 3161 time-stamp: application/timestamp-query in, application/timestamp-reply out (JSON {artifactHash, hashAlgorithm} too)',
        hide: false,
      },
    },
    async (request, reply) => {
      let der: Uint8Array;
      if (Buffer.isBuffer(request.body)) {
        der = request.body;
      } else {
        // sigstore timestamp-authority's JSON form: {artifactHash: base64, hashAlgorithm: 'sha256', nonce?, certificates?}.
        const j = request.body;
        if (typeof j?.artifactHash !== 'string' || (j.hashAlgorithm !== undefined && j.hashAlgorithm !== 'sha256')) {
          throw new InputError('INPUT_INVALID', 'JSON requests are {artifactHash: base64 SHA-256, hashAlgorithm: "sha256"}');
        }
        const hash = Buffer.from(j.artifactHash, 'base64');
        if (hash.length !== 32) throw new InputError('INPUT_INVALID', 'artifactHash must be a base64 SHA-256 digest');
        const nonce = typeof j.nonce === 'number' && Number.isSafeInteger(j.nonce) && j.nonce > 0 ? j.nonce.toString(16) : undefined;
        der = timestampRequest(hash, { certReq: j.certificates !== false, ...(nonce === undefined ? {} : { nonce: Buffer.from(nonce.length % 2 === 1 ? `0${nonce}` : nonce, 'hex') }) });
      }
      const response = await tsa.timestamp(der);
      return reply.code(200).type(TSR).send(response);
    },
  );

  const log = ctx.transparencyLog;
  if (log !== undefined) {
    app.post<{ Body: { hashedRekordRequestV002?: HashedRekordRequestV002; dsseRequestV002?: DsseRequestV002 } }>(
      '/api/v2/log/entries',
      {
        config: { permission: 'public' },
        schema: {
          summary: 'Rekor v2: log a keyless hashedrekord signature or DSSE envelope (the certificate, issued by this CA, is the credential)',
          body: {
            type: 'object',
            oneOf: [{ required: ['hashedRekordRequestV002'] }, { required: ['dsseRequestV002'] }],
            properties: {
              dsseRequestV002: {
                type: 'object',
                required: ['envelope', 'verifiers'],
                properties: {
                  envelope: { type: 'object' },
                  verifiers: {
                    type: 'array',
                    minItems: 1,
                    maxItems: 1,
                    items: { type: 'object', required: ['x509Certificate'], properties: { x509Certificate: { type: 'object', required: ['rawBytes'], properties: { rawBytes: { type: 'string', maxLength: 16384 } } }, keyDetails: { type: 'string', maxLength: 64 } } },
                  },
                },
              },
              hashedRekordRequestV002: {
                type: 'object',
                required: ['digest', 'signature'],
                properties: {
                  digest: { type: 'string', maxLength: 128 },
                  signature: {
                    type: 'object',
                    required: ['content', 'verifier'],
                    properties: {
                      content: { type: 'string', maxLength: 2048 },
                      verifier: { type: 'object', required: ['x509Certificate'], properties: { x509Certificate: { type: 'object', required: ['rawBytes'], properties: { rawBytes: { type: 'string', maxLength: 16384 } } }, keyDetails: { type: 'string', maxLength: 64 } } },
                    },
                  },
                },
              },
            },
          },
          response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
        },
      },
      async (request) => {
        const o = { intermediate: material.intermediate, log, now: ctx.now };
        const { hashedRekordRequestV002: rekord, dsseRequestV002: dsse } = request.body;
        return rekord !== undefined ? logKeylessSignature(rekord, o) : logKeylessDsse(dsse!, o);
      },
    );
  }

  app.get('/.well-known/openid-configuration', { config: { permission: 'public' }, schema: { summary: 'OpenID Connect discovery of the workload-identity issuer' } }, () =>
    Promise.resolve(issuer.discovery()),
  );
  app.get(JWKS_PATH, { config: { permission: 'public' }, schema: { summary: "The workload-identity issuer's JSON Web Key Set" } }, () => issuer.jwks());

  app.post<{ Querystring: { namespace: string }; Body: { step: string; ttlSeconds?: number; run?: string; audience?: string } }>(
    '/v1/identity/token',
    {
      config: { permission: 'identity.mint', namespaced: true },
      schema: {
        summary: 'Mint a short-lived workload ID token naming the caller, the pipeline run and step',
        querystring: { type: 'object', properties: { namespace: namespaceSchema }, additionalProperties: false },
        body: {
          type: 'object',
          required: ['step'],
          additionalProperties: false,
          properties: {
            step: { type: 'string', minLength: 1, maxLength: 64 },
            ttlSeconds: { type: 'integer', minimum: 1 },
            run: { type: 'string', minLength: 1, maxLength: 128 },
            audience: { type: 'string', minLength: 1, maxLength: 256 },
          },
        },
        response: { 200: { type: 'object', properties: { token: { type: 'string' }, subject: { type: 'string' }, issuer: { type: 'string' }, expiresAt: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request) => {
      const b = request.body;
      const minted = await issuer.mint({
        actor: request.principal!.actor,
        namespace: requestNamespace(request),
        step: b.step,
        ttlSeconds: b.ttlSeconds ?? 600,
        ...(b.run === undefined ? {} : { run: b.run }),
        ...(b.audience === undefined ? {} : { audience: b.audience }),
      });
      await ctx.store.write([
        { audit: ctx.draft(request, { action: 'identity.mint', namespace: requestNamespace(request), target: minted.subject.slice(0, 512), outcome: 'allowed', status: 200, detail: { step: b.step, expiresAt: minted.expiresAt } }) },
      ]);
      return { token: minted.token, subject: minted.subject, issuer: issuer.issuer, expiresAt: minted.expiresAt };
    },
  );

  app.get('/v1/ca/trusted-root', { config: { permission: 'public' }, schema: { summary: 'Sigstore trusted_root.json: the keyless CA, the transparency log and the TSA' } }, () =>
    Promise.resolve(keylessTrustedRoot(trust)),
  );
  app.get('/v1/ca/signing-config', { config: { permission: 'public' }, schema: { summary: 'Sigstore signing_config.json (v0.2): where the CA, OIDC issuer, log and TSA are' } }, () =>
    Promise.resolve(keylessSigningConfig(trust)),
  );
}
