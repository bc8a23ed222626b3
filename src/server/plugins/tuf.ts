// TUF over HTTP: metadata at /tuf/metadata/…, targets at /tuf/targets/… (what tuf-js fetches),
// POST /tuf/v1/targets to add a target (authorized per delegated role, admitted only when its
// attestations pass the repository's policies), and a timer that re-signs the online roles
// before they expire. Writes are serialized in this process. `tufServicePlugin` is how
// `custody serve` wires it from the `tuf:` config section (online keys from files or a key
// backend, per-role grants, admission policies, audit).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InputError, PolicyError, VerificationError, decodeBase64, digestSetOfBytes, isCustodyError, parseEnvelope, type DigestSet, type Signer } from '../../core/index.ts';
import { loadPrivateKeyFile, type KeyBackend } from '../../keys/index.ts';
import { evaluatePolicy, failedRuleSummaries, fnmatch, type AttestationInput, type PolicyInput, type PolicyTrust } from '../../policy/index.ts';
import { TufRepository, TOP_LEVEL_ROLES, tufKeyId } from '../../tuf/index.ts';
import type { AppContext } from '../app.ts';
import { keylessTrustTargets, stageKeylessTrust } from '../ca/tuf-publish.ts';
import type { Permission, Principal } from '../authz.ts';
import { ApiError } from '../errors.ts';
import { loadPolicyFiles } from '../policy-files.ts';
import { errorResponses } from '../schemas.ts';
import type { SigningConfig } from '../sign-config.ts';
import type { TufConfig, TufRoleGrant } from '../tuf-config.ts';
import { openKeyBackend } from './sign.ts';

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
  /** What POST /tuf/v1/targets needs from the caller (default 'public': `authorize` decides alone). */
  permission?: Permission | 'public';
  /** Records the outcome of an add (allowed, or refused by admission or input checks). */
  audit?(request: FastifyRequest, outcome: 'allowed' | 'denied', status: number, target: string, detail: Record<string, unknown>): Promise<void>;
  /** Publish at start when roles are pending or the timestamp is about to expire (serve). */
  publishAtStart?: boolean;
  /** Staged changes made at start, before that publish (serve: the keyless trust documents); throwing stops the start. */
  atStart?(repo: TufRepository): Promise<unknown>;
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

const addResponse = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    role: { type: 'string', description: 'the role now listing the target (a hashed bin where the path falls in one)' },
    hashes: { type: 'object', additionalProperties: { type: 'string' } },
    snapshotVersion: { type: 'integer' },
    timestampVersion: { type: 'integer' },
  },
} as const;

/** The named role a grant speaks of: hashed bins (TAP 15) are granted through the role that delegates them. */
function grantedRole(repo: TufRepository, role: string): string {
  return repo.listRoles().includes(role) ? role : repo.parentOf(role);
}

export function tufPlugin(app: FastifyInstance, { tuf }: { tuf: TufServerConfig }): Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const audit = async (request: FastifyRequest, outcome: 'allowed' | 'denied', status: number, target: string, detail: Record<string, unknown>): Promise<void> => {
    await tuf.audit?.(request, outcome, status, target.slice(0, 1024), detail);
  };

  app.get(
    '/tuf/metadata/:file',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'TUF metadata (consistent snapshots: N.root.json, V.snapshot.json, V.<role>.json; timestamp.json)',
        description: 'What TUF clients (tuf-js, python-tuf, go-tuf, custody fetch) read with the repository URL <server>/tuf. timestamp.json is not cached; versioned files are immutable.',
        params: { type: 'object', properties: { file: { type: 'string', maxLength: 256 } } },
      },
    },
    (request, reply) => {
      const { file } = request.params as { file: string };
      if (!METADATA_NAME.test(file)) return reply.code(404).send({ code: 'NOT_FOUND', message: 'no such metadata' });
      return sendFile(reply.header('cache-control', file === 'timestamp.json' ? 'no-cache' : 'public, max-age=31536000, immutable'), join(tuf.dir, 'metadata'), file);
    },
  );

  app.get('/tuf/targets/*', { config: { permission: 'public' }, schema: { summary: 'TUF targets (<dir>/<sha256>.<name>, consistent snapshots)' } }, (request, reply) => {
    const rel = (request.params as { '*': string })['*'];
    if (rel.split('/').some((s) => s === '' || s === '.' || s === '..')) return reply.code(404).send({ code: 'NOT_FOUND', message: 'no such target' });
    return sendFile(reply, join(tuf.dir, 'targets'), rel);
  });

  app.post(
    '/tuf/v1/targets',
    {
      config: { permission: tuf.permission ?? 'public' },
      schema: {
        summary: 'Add a target (and publish): authorized per delegated role, admitted by policy',
        description:
          'Needs tuf.write, and a grant in tuf.roles for the delegated role that holds the path (or `role`; hashed bins are granted through the role delegating them): ' +
          'otherwise 403 FORBIDDEN (audited). The attestations must pass every admission policy: otherwise 422 ADMISSION_DENIED naming the failed rules (audited). ' +
          'A path outside the role\'s delegated paths is 422 ACCESS_DENIED. On success the target is stored, the role re-signed and a new snapshot and timestamp published.',
        body: {
          type: 'object',
          required: ['path', 'content'],
          additionalProperties: false,
          properties: {
            path: { type: 'string', minLength: 1, maxLength: 1024, description: 'TUF target path, e.g. apps/app-1.0.tgz' },
            role: { type: 'string', maxLength: 128, description: 'delegated role to list it in (default: the role the delegation tree gives the path)' },
            content: { type: 'string', maxLength: 64 * 1024 * 1024, description: 'base64 of the artifact' },
            attestations: { type: 'array', maxItems: 256, description: 'DSSE envelopes or Sigstore bundles (holding a DSSE envelope) about the artifact' },
          },
        },
        response: { 201: addResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body as AddTargetBody;
      return serialized(async () => {
        let stage = 'input';
        try {
          const content = decodeBase64(body.content, 'content');
          const digest = digestSetOfBytes(content, ['sha256', 'sha512']);
          const attestations: AttestationInput[] = (body.attestations ?? []).map((a, i) => {
            const bundle = typeof a === 'object' && a !== null && 'dsseEnvelope' in a;
            // A Sigstore bundle keeps its verification material: keyless identity functionaries.
            return { envelope: parseEnvelope(bundle ? a.dsseEnvelope : a), source: `attestation ${i}`, ...(bundle && 'verificationMaterial' in a ? { verificationMaterial: a } : {}) };
          });
          const repo = tuf.open();
          const role = body.role ?? repo.resolveRole(body.path);
          const granted = grantedRole(repo, role);
          if (!(await tuf.authorize(request, granted))) {
            // The app's error handler audits 401/403 refusals like every route's.
            throw new ApiError(403, 'FORBIDDEN', `not allowed to add targets to the TUF role '${granted}'`, { details: { role: granted } });
          }
          stage = 'admission';
          admit(tuf, digest, attestations, body.path);
          stage = 'publish';
          const [placed] = repo.addTargets([{ path: body.path, length: content.length, hashes: digest, content }], body.role);
          // Only roles the server signs alone (online delegations, hashed bins) can change here;
          // nothing is saved before this check.
          if (placed === undefined || !repo.canSignAlone(placed)) {
            throw new VerificationError('THRESHOLD_NOT_MET', `the server holds no key of role ${placed ?? role}: add its targets offline (custody repo add … --sign-key)`);
          }
          await repo.save();
          const published = await repo.publish({ keepUnsigned: true });
          await audit(request, 'allowed', 201, body.path, { role: placed, sha256: digest['sha256'], snapshotVersion: published.snapshotVersion });
          return await reply.code(201).send({ path: body.path, role: placed, hashes: digest, snapshotVersion: published.snapshotVersion, timestampVersion: published.timestampVersion });
        } catch (e) {
          if (isCustodyError(e)) await audit(request, 'denied', e instanceof InputError ? 400 : 422, body.path, { code: e.code, stage, reason: e.message.slice(0, 1000) });
          throw e;
        }
      });
    },
  );

  // Online roles are re-signed before they expire (TUF: a fresh timestamp is what clients need).
  const refresh = (force: boolean): Promise<void> =>
    serialized(async () => {
      const repo = tuf.open();
      if (force) await tuf.atStart?.(repo);
      const horizon = tuf.now().getTime() + tuf.refreshWithin * 1000;
      // Never published (e.g. the online key lives only in an HSM the server holds), or expiring soon.
      const due = !repo.has('timestamp') || new Date(repo.status('timestamp').expires).getTime() <= horizon;
      // Online-signed roles (delegations, bins) are renewed when they would expire before the
      // next timestamp renewal, at most one timestamp period (plus a tick) away.
      const rolesWithin = repo.expiryPeriods.timestamp + Math.ceil(tuf.refreshEveryMs / 1000) + tuf.refreshWithin;
      if (due || (force && repo.pendingRoles().length > 0)) await repo.publish({ refreshWithin: rolesWithin, keepUnsigned: true });
    });
  const timer = setInterval(() => {
    refresh(false).catch((e: unknown) => app.log.error({ err: e }, 'TUF re-signing failed'));
  }, tuf.refreshEveryMs);
  timer.unref();
  app.addHook('onClose', () => {
    clearInterval(timer);
    return queue.then(() => undefined);
  });
  return tuf.publishAtStart === true ? refresh(true) : Promise.resolve();
}

// ---- custody serve: the `tuf:` config section -----------------------------------------------

/** Does a grant let this principal add targets to its role? Explicit only: deny by default. */
export function grantAllows(grants: readonly TufRoleGrant[], principal: Principal | null, role: string): boolean {
  if (principal === null) return false;
  const grant = grants.find((g) => g.role === role);
  if (grant === undefined) return false;
  return grant.principals.some((p) => fnmatch(principal.actor, p)) || grant.namespaces.some((n) => principal.namespaces.includes(n));
}

/** The online signers: private key files, and keys by name in the configured key backend. */
export async function openOnlineSigners(config: TufConfig, signing: SigningConfig): Promise<{ signers: Signer[]; backend: KeyBackend | undefined }> {
  const signers: Signer[] = [];
  let backend: KeyBackend | undefined;
  try {
    for (const k of config.onlineKeys) {
      if ('file' in k) {
        let passphrase: string | undefined;
        if (k.passphraseEnv !== undefined) {
          passphrase = process.env[k.passphraseEnv];
          if (passphrase === undefined || passphrase === '') throw new InputError('KEY_PASSPHRASE_REQUIRED', `tuf.onlineKeys: set ${k.passphraseEnv} to the passphrase of ${k.file}`);
        }
        signers.push(loadPrivateKeyFile(k.file, passphrase).signer());
        continue;
      }
      backend ??= openKeyBackend({ ...signing, backend: config.keyBackend === 'signing' ? signing.backend : config.keyBackend });
      signers.push(await backend.signer(k.name));
    }
  } catch (e) {
    await backend?.close();
    throw e;
  }
  return { signers, backend };
}

/** Registers the TUF routes from `ctx.config.tuf` (nothing when the section is absent). */
export async function tufServicePlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const config = ctx.config.tuf;
  if (config === undefined) return;
  const { signers, backend } = await openOnlineSigners(config, ctx.config.signing);
  if (backend !== undefined) app.addHook('onClose', () => backend.close());
  const open = (): TufRepository => {
    const repo = TufRepository.open(config.dir, signers, ctx.now);
    repo.setExpiry(config.expiry);
    return repo;
  };
  // Refuse to start with keys that cannot sign the online roles (a clear error now, not an expired timestamp later).
  const probe = open();
  const mine = signers.map((s) => tufKeyId(s.publicKey));
  for (const role of ['snapshot', 'timestamp'] as const) {
    const { keyIds, threshold } = probe.roleKeys(role);
    const have = new Set(mine.filter((id) => keyIds.includes(id))).size;
    if (have < threshold) {
      throw new InputError('INPUT_INVALID', `server config: tuf.onlineKeys: ${have} of the configured keys sign ${role}, which needs ${threshold} (its key ids: ${keyIds.map((id) => id.slice(0, 16)).join(', ')}; configured: ${mine.map((id) => id.slice(0, 16)).join(', ')})`);
    }
  }
  const known = new Set([...TOP_LEVEL_ROLES, ...probe.listRoles()]);
  for (const g of config.roles) if (!known.has(g.role)) app.log.warn({ role: g.role }, 'tuf.roles names a role the repository does not delegate (yet)');
  const { policies, trust } = loadPolicyFiles(config.admission, 'tuf.admission');
  // With the keyless CA: its trusted_root.json and signing_config.v0.2.json as targets (docs/keyless.md).
  if (ctx.config.ca.enabled && config.keylessTrust !== false && ctx.keylessTrust === undefined) throw new Error('the ca plugin must be registered before the tuf plugin');
  const keylessTrust = config.keylessTrust === false ? undefined : ctx.keylessTrust;
  await app.register(tufPlugin, {
    tuf: {
      dir: config.dir,
      open,
      authorize: (request, role) => grantAllows(config.roles, request.principal, role),
      policies,
      trust,
      refreshWithin: config.refreshWithin,
      refreshEveryMs: config.refreshEveryMs,
      now: ctx.now,
      permission: 'tuf.write',
      publishAtStart: true,
      ...(keylessTrust === undefined ? {} : { atStart: (repo: TufRepository) => stageKeylessTrust(repo, keylessTrustTargets(keylessTrust)) }),
      audit: async (request, outcome, status, target, detail) => {
        await ctx.store.write([{ audit: ctx.draft(request, { action: 'tuf.write', namespace: null, target, outcome, status, detail }) }]);
      },
    },
  });
}
