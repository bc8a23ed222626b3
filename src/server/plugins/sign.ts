// Signing service routes: POST /v1/sign (check policy → sign in the key backend → append to the
// transparency log → audit → Sigstore bundle), GET /v1/revocations (published for clients),
// GET /v1/signing/keys (public keys), GET /v1/signing/jobs/:id (sign-then-verify status).
// Every refusal is audited with its reason; nothing is signed or logged for a refused request.
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InputError, isCustodyError } from '../../core/index.ts';
import { FileKeyBackend, Pkcs11KeyBackend, type KeyBackend } from '../../keys/index.ts';
import type { KeylessVerifier } from '../../policy/index.ts';
import { PostgresSigningState, SqliteSigningState, type SigningJob } from '../../store/index.ts';
import { requestNamespace, type AppContext } from '../app.ts';
import { keylessPolicyVerifier } from '../ca/keyless-policy-verifier.ts';
import { keylessTrustedRoot } from '../ca/trust.ts';
import { loadKeylessVerifier } from '../policy-files.ts';
import { errorResponses, namespaceSchema } from '../schemas.ts';
import type { SigningConfig } from '../sign-config.ts';
import { SignRefusal, SigningService, type SignContent, type SignRequest } from '../sign-service.ts';
import type { SignMode } from '../sign-config.ts';

/** Opens the configured key backend; secrets come from the environment, never the config file. */
export function openKeyBackend(config: SigningConfig): KeyBackend {
  const b = config.backend;
  if (b.kind === 'file') {
    const passphrase = process.env[b.passphraseEnv];
    if (passphrase === undefined || passphrase === '') throw new InputError('KEY_PASSPHRASE_REQUIRED', `signing: set ${b.passphraseEnv} to the key passphrase`);
    return new FileKeyBackend({ dir: b.dir, passphrase });
  }
  const pin = process.env[b.pinEnv];
  if (pin === undefined || pin === '') throw new InputError('KEY_PASSPHRASE_REQUIRED', `signing: set ${b.pinEnv} to the token PIN`);
  return new Pkcs11KeyBackend({ library: b.library, tokenLabel: b.tokenLabel, pin, sessions: b.sessions });
}

/**
 * Where the signing policies' keyless functionaries are verified: `signing.trustedRoot` (read at
 * start: a missing file stops the server), else this server's own CA (the document GET
 * /v1/ca/trusted-root answers) when `ca.enabled`, else nowhere (keyless evidence never counts).
 */
export function signingKeylessVerifier(config: SigningConfig, ctx: AppContext): () => KeylessVerifier | undefined {
  if (config.trustedRoot !== undefined) {
    const verifier = loadKeylessVerifier(config.trustedRoot, 'signing');
    return () => verifier;
  }
  if (!ctx.config.ca.enabled) return () => undefined;
  // The ca plugin registers after this one and sets ctx.keylessTrust: read at the first request.
  let own: KeylessVerifier | undefined;
  return () => (own ??= ctx.keylessTrust === undefined ? undefined : keylessPolicyVerifier(keylessTrustedRoot(ctx.keylessTrust)));
}

interface SignBody {
  digest: string;
  keyRef: string;
  artifactName: string;
  subjects?: { name?: string; digest: Record<string, string> }[];
  attestationIds?: string[];
  mode?: SignMode;
  content?: SignContent;
}

const bodySchema = {
  type: 'object',
  required: ['digest', 'keyRef', 'artifactName'],
  additionalProperties: false,
  properties: {
    digest: { type: 'string', pattern: '^(sha256:)?[0-9a-f]{64}$', description: 'sha256 of the artifact (hashed by the client)' },
    keyRef: { type: 'string', minLength: 1, maxLength: 64 },
    artifactName: { type: 'string', minLength: 1, maxLength: 512 },
    subjects: {
      type: 'array',
      maxItems: 64,
      items: {
        type: 'object',
        required: ['digest'],
        additionalProperties: false,
        properties: { name: { type: 'string', maxLength: 512 }, digest: { type: 'object', additionalProperties: { type: 'string', maxLength: 128 }, maxProperties: 8 } },
      },
    },
    attestationIds: { type: 'array', maxItems: 256, items: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
    mode: { type: 'string', enum: ['verify-then-sign', 'sign-then-verify'], default: 'verify-then-sign' },
    content: { type: 'string', enum: ['digest', 'statement'], default: 'digest', description: 'digest: Sigstore messageSignature; statement: DSSE in-toto statement' },
  },
} as const;

/** POSTs a JSON event to an alert webhook (revocations here; log monitor alarms: plugins/monitor.ts). */
export async function postWebhook(url: string, event: Record<string, unknown>): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event), signal: AbortSignal.timeout(10_000) });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`webhook answered ${response.status}`);
}

/**
 * Registers the signing routes. A start-up failure (an unreadable policy or trusted root, a
 * missing passphrase) rejects the registration, so `custody serve` stops with its message
 * instead of an uncaught exception and a plugin time-out.
 */
export function signPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  try {
    registerSign(app, ctx);
    return Promise.resolve();
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

function registerSign(app: FastifyInstance, ctx: AppContext): void {
  const config = ctx.config.signing;
  if (!config.enabled) return;
  const backend = openKeyBackend(config);
  const store = ctx.config.store;
  const state = store.driver === 'postgres' ? new PostgresSigningState(store.url) : new SqliteSigningState(join(ctx.config.dataDir, 'custody.db'));
  const service = new SigningService({
    config,
    backend,
    store: ctx.store,
    log: ctx.transparencyLog,
    state,
    now: ctx.now,
    keyless: signingKeylessVerifier(config, ctx),
    onRevoked: async (job: SigningJob, reason: string) => {
      const detail = { keyRef: job.keyRef, artifactDigest: job.artifactDigest, signatureDigest: job.signatureDigest, jobId: job.id, reason: reason.slice(0, 500) };
      await ctx.store.write([
        {
          audit: {
            at: ctx.now().toISOString(),
            actor: 'system:signing',
            action: 'signing.revoke',
            namespace: job.namespace,
            target: job.artifactName,
            outcome: 'allowed',
            status: 0,
            detail,
          },
        },
      ]);
      if (config.webhook !== undefined) {
        try {
          await postWebhook(config.webhook, { event: 'signature.revoked', artifactName: job.artifactName, ...detail });
        } catch (e) {
          app.log.error({ err: e, jobId: job.id }, 'signing: revocation webhook failed');
        }
      }
    },
  });
  let running: Promise<unknown> | undefined;
  const tick = (): void => {
    if (running !== undefined) return;
    running = service
      .runJobs()
      .catch((e: unknown) => app.log.error({ err: e }, 'signing: verification jobs failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, config.jobIntervalMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
    await backend.close();
    await state.close();
  });

  const audit = async (request: FastifyRequest, outcome: 'allowed' | 'denied', status: number, body: Partial<SignBody>, detail: Record<string, unknown>): Promise<void> => {
    await ctx.store.write([
      {
        audit: ctx.draft(request, {
          action: 'signing.sign',
          namespace: requestNamespace(request),
          target: typeof body.artifactName === 'string' ? body.artifactName.slice(0, 512) : null,
          outcome,
          status,
          detail: { keyRef: body.keyRef, digest: body.digest, mode: body.mode, ...detail },
        }),
      },
    ]);
  };

  app.post<{ Querystring: { namespace?: string }; Body: SignBody }>(
    '/v1/sign',
    {
      config: { permission: 'signing.sign', namespaced: true },
      schema: {
        summary: 'Sign an artifact digest after checking its attestations against the key’s signing policy',
        description:
          'Refused (403 ACCESS_DENIED / MODE_NOT_ALLOWED, 422 POLICY_FAILED / KEY_REVOKED) unless the caller may use keyRef for artifactName and ' +
          'the attestations stored for the digest satisfy the key’s signing policy. The answer is a Sigstore bundle v0.3 with the log entry.',
        querystring: { type: 'object', properties: { namespace: namespaceSchema }, additionalProperties: false },
        body: bodySchema,
        response: { ...errorResponses },
      },
    },
    async (request, reply: FastifyReply) => {
      const body = request.body;
      const req: SignRequest = {
        digest: body.digest,
        keyRef: body.keyRef,
        artifactName: body.artifactName,
        namespace: requestNamespace(request),
        mode: body.mode ?? 'verify-then-sign',
        content: body.content ?? 'digest',
        ...(body.subjects === undefined ? {} : { subjects: body.subjects.map((s) => ({ ...(s.name === undefined ? {} : { name: s.name }), digest: s.digest })) }),
        ...(body.attestationIds === undefined ? {} : { attestationIds: body.attestationIds }),
      };
      try {
        const result = await service.sign(request.principal!.actor, req);
        await audit(request, 'allowed', 200, body, {
          keyid: result.keyid,
          signatureDigest: result.signatureDigest,
          ...(result.logIndex === undefined ? {} : { logIndex: result.logIndex }),
          ...(result.jobId === undefined ? {} : { jobId: result.jobId }),
        });
        return await reply.code(200).send(result);
      } catch (e) {
        if (e instanceof SignRefusal) {
          await audit(request, 'denied', e.status, body, { code: e.code, reason: e.message, ...e.details });
          return reply.code(e.status).send({ code: e.code, message: e.message, ...e.details });
        }
        if (isCustodyError(e)) await audit(request, 'denied', 400, body, { code: e.code, reason: e.message });
        throw e;
      }
    },
  );

  app.get(
    '/v1/revocations',
    { config: { permission: 'public' }, schema: { summary: 'Revoked signing keys and revoked signatures (custody revocation list v1)' } },
    async () => service.revocations(),
  );

  app.get(
    '/v1/signing/keys',
    { config: { permission: 'public' }, schema: { summary: 'The signing keys: names, types, key ids, public keys, revocation times' } },
    async () => ({ keys: (await backend.list()).filter((k) => config.keys.some((c) => c.name === k.name)) }),
  );

  app.get<{ Params: { id: string }; Querystring: { namespace?: string } }>(
    '/v1/signing/jobs/:id',
    {
      config: { permission: 'signing.sign', namespaced: true },
      schema: {
        summary: 'Status of a sign-then-verify verification job',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        querystring: { type: 'object', properties: { namespace: namespaceSchema }, additionalProperties: false },
      },
    },
    async (request, reply) => {
      const job = await state.job(request.params.id);
      if (job === undefined || job.namespace !== requestNamespace(request)) return reply.code(404).send({ code: 'NOT_FOUND', message: 'no such job' });
      return job;
    },
  );
}
