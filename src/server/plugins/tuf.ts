// TUF over HTTP: metadata at /tuf/metadata/…, targets at /tuf/targets/… (what tuf-js fetches),
// POST /tuf/v1/targets to add a target (authorized per delegated role, admitted only when its
// attestations pass the repository's policies), and a timer that re-signs the online roles
// before they expire. Writes are serialized in this process.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PolicyError, decodeBase64, digestSetOfBytes, parseEnvelope, type DigestSet } from '../../core/index.ts';
import { evaluatePolicy, failedRuleSummaries, type AttestationInput, type PolicyInput, type PolicyTrust } from '../../policy/index.ts';
import type { TufRepository } from '../../tuf/index.ts';

export interface TufServerConfig {
  /** Repository directory (metadata/, targets/). */
  dir: string;
  /** Opens the repository with the keys the server holds (online key, online delegated roles). */
  open(): TufRepository;
  /** May this request add targets as `role`? (per delegated role; the composition root decides how). */
  authorize(request: FastifyRequest, role: string): Promise<boolean> | boolean;
  /** Admission policies every added target's attestations must pass (none: no admission check). */
  policies: readonly { name: string; input: PolicyInput }[];
  trust: PolicyTrust;
  /** Re-sign online roles expiring within this many seconds, checked every `refreshEveryMs`. */
  refreshWithin: number;
  refreshEveryMs: number;
  now(): Date;
}

const METADATA_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.json$/;

function sendFile(reply: FastifyReply, base: string, rel: string): FastifyReply {
  const root = resolve(base);
  const file = resolve(root, rel);
  if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) return reply.code(404).send({ code: 'NOT_FOUND', message: 'no such file' });
  return reply.header('content-length', statSync(file).size).type('application/octet-stream').send(createReadStream(file));
}

interface AddTargetBody {
  path: string;
  role?: string;
  /** base64 of the artifact. */
  content: string;
  /** DSSE envelopes (or Sigstore bundles holding one) about the artifact. */
  attestations?: unknown[];
}

/** TUF spec-free part: the admission decision (CNCF example step 12), failed rules named. */
function admit(config: TufServerConfig, digest: DigestSet, attestations: readonly AttestationInput[], path: string): void {
  const failed: string[] = [];
  for (const p of config.policies) {
    const verdict = evaluatePolicy(p.input, attestations, config.trust, { artifactDigest: digest, now: config.now() });
    if (!verdict.passed) failed.push(...failedRuleSummaries(verdict).map((line) => `${p.name}: ${line}`));
  }
  if (failed.length > 0) throw new PolicyError('ADMISSION_DENIED', `${path} refused: ${failed.join('; ')}`);
}

export function tufPlugin(app: FastifyInstance, { tuf }: { tuf: TufServerConfig }): Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  app.get('/tuf/metadata/:file', { config: { permission: 'public' }, schema: { summary: 'TUF metadata (consistent snapshots)', params: { type: 'object', properties: { file: { type: 'string', maxLength: 256 } } } } }, (request, reply) => {
    const { file } = request.params as { file: string };
    if (!METADATA_NAME.test(file)) return reply.code(404).send({ code: 'NOT_FOUND', message: 'no such metadata' });
    return sendFile(reply.header('cache-control', file === 'timestamp.json' ? 'no-cache' : 'public, max-age=31536000, immutable'), join(tuf.dir, 'metadata'), file);
  });

  app.get('/tuf/targets/*', { config: { permission: 'public' }, schema: { summary: 'TUF targets (<dir>/<sha256>.<name>)' } }, (request, reply) => {
    const rel = (request.params as { '*': string })['*'];
    if (rel.split('/').some((s) => s === '' || s === '.' || s === '..')) return reply.code(404).send({ code: 'NOT_FOUND', message: 'no such target' });
    return sendFile(reply, join(tuf.dir, 'targets'), rel);
  });

  app.post(
    '/tuf/v1/targets',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'Add a target (and publish): authorized per delegated role, admitted by policy',
        body: {
          type: 'object',
          required: ['path', 'content'],
          additionalProperties: false,
          properties: {
            path: { type: 'string', minLength: 1, maxLength: 1024 },
            role: { type: 'string', maxLength: 128 },
            content: { type: 'string', maxLength: 64 * 1024 * 1024 },
            attestations: { type: 'array', maxItems: 256 },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as AddTargetBody;
      const content = decodeBase64(body.content, 'content');
      const digest = digestSetOfBytes(content, ['sha256', 'sha512']);
      const attestations: AttestationInput[] = (body.attestations ?? []).map((a, i) => {
        const candidate: unknown = typeof a === 'object' && a !== null && 'dsseEnvelope' in a ? a.dsseEnvelope : a;
        return { envelope: parseEnvelope(candidate), source: `attestation ${i}` };
      });
      return serialized(async () => {
        const repo = tuf.open();
        const role = body.role ?? repo.resolveRole(body.path);
        if (!(await tuf.authorize(request, role))) return reply.code(403).send({ code: 'ACCESS_DENIED', message: `not allowed to add targets as ${role}` });
        admit(tuf, digest, attestations, body.path);
        const [placed] = repo.addTargets([{ path: body.path, length: content.length, hashes: digest, content }], body.role);
        await repo.save();
        const published = await repo.publish();
        return reply.code(201).send({ path: body.path, role: placed, hashes: digest, snapshotVersion: published.snapshotVersion, timestampVersion: published.timestampVersion });
      });
    },
  );

  // Online roles are re-signed before they expire (TUF: a fresh timestamp is what clients need).
  const timer = setInterval(() => {
    void serialized(async () => {
      const repo = tuf.open();
      const ts = repo.status('timestamp');
      const horizon = tuf.now().getTime() + tuf.refreshWithin * 1000;
      if (new Date(ts.expires).getTime() <= horizon) await repo.publish({ refreshWithin: tuf.refreshWithin });
    }).catch((e: unknown) => app.log.error({ err: e }, 'TUF re-signing failed'));
  }, tuf.refreshEveryMs);
  timer.unref();
  app.addHook('onClose', () => {
    clearInterval(timer);
    return queue.then(() => undefined);
  });
  return Promise.resolve();
}
