// The TUF server plugin: tuf-js reads /tuf/metadata and /tuf/targets from a listening server,
// targets are added through the API per delegated role and admitted by policy, and the online
// roles are re-signed before they expire.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { writeFileSync } from 'node:fs';
import { mapError, parseConfig, tufPlugin, type AppContext, type TufServerConfig } from '../../src/server/index.ts';
import { grantAllows, tufServicePlugin } from '../../src/server/plugins/tuf.ts';
import { TufClient, TufRepository } from '../../src/tuf/index.ts';
import { ARTIFACT_BYTES, attest, functionary, key as policyKey, signedPolicy } from '../policy/policy-kit.ts';
import { tempDir } from '../support/cli.ts';
import { key, makeRepo, targetOf } from './repo-kit.ts';

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const provenance = (id: string) => ({ buildDefinition: { buildType: 'https://ci.example/v1', externalParameters: {} }, runDetails: { builder: { id } } });

async function server(dir: string, overrides: Partial<TufServerConfig> = {}) {
  const repo = await makeRepo(dir);
  // An online delegated role the server signs for: apps/* (its key is the online key).
  repo.addSigners([key('targets1').signer()]);
  repo.delegate({ role: 'apps', paths: ['apps/*'], keys: [key('online').publicKey], threshold: 1 });
  await repo.save();
  await repo.publish();
  const envelope = await signedPolicy({
    name: 'admission',
    functionaries: { builder: functionary('builder') },
    steps: [{ name: 'build', predicateTypes: [PROVENANCE], functionaries: ['builder'], rules: ['predicate.runDetails.builder.id == "https://ci.example/builder"'] }],
  });
  const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });
  app.setErrorHandler((error, _request, reply) => {
    const m = mapError(error);
    return reply.code(m.status).send(m.body);
  });
  const config: TufServerConfig = {
    dir,
    open: () => TufRepository.open(dir, [key('online').signer()]),
    // The composition root maps credentials to roles; here a header names the caller's role.
    authorize: (request, role) => request.headers['x-test-role'] === role,
    policies: [{ name: 'admission.json', input: { envelope } }],
    trust: { owners: { keys: [policyKey('owner').publicKey], threshold: 1 } },
    refreshWithin: 3600,
    refreshEveryMs: 60_000,
    now: () => new Date(),
    ...overrides,
  };
  await app.register(tufPlugin, { tuf: config });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

describe('TUF server plugin', () => {
  it('adds targets per delegated role with policy admission, and tuf-js fetches them from /tuf', async () => {
    using tmp = tempDir();
    const { app, url } = await server(tmp.path);
    try {
      const good = await attest(['builder'], PROVENANCE, provenance('https://ci.example/builder'));
      const bad = await attest(['builder'], PROVENANCE, provenance('https://evil.example'));
      const post = (role: string, attestation: unknown) =>
        app.inject({ method: 'POST', url: '/tuf/v1/targets', headers: { 'x-test-role': role }, payload: { path: 'apps/app.tgz', content: Buffer.from(ARTIFACT_BYTES).toString('base64'), attestations: [attestation] } });
      let res = await post('targets', good.envelope);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json<{ code: string }>().code, 'FORBIDDEN');
      res = await post('apps', bad.envelope);
      assert.equal(res.statusCode, 422);
      assert.equal(res.json<{ code: string }>().code, 'ADMISSION_DENIED');
      assert.match(res.json<{ message: string }>().message, /\[build \/ rule 1\] RULE_FAILED/);
      res = await post('apps', good.envelope);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json<{ role: string }>().role, 'apps');
      // targets is signed offline: the server cannot change it, and stages nothing.
      res = await app.inject({ method: 'POST', url: '/tuf/v1/targets', headers: { 'x-test-role': 'targets' }, payload: { path: 'top.tgz', content: Buffer.from(ARTIFACT_BYTES).toString('base64'), attestations: [good.envelope] } });
      assert.equal(res.statusCode, 422);
      assert.equal(res.json<{ code: string }>().code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(TufRepository.open(tmp.path).pendingRoles(), []);
      const client = new TufClient({ repo: `${url}/tuf`, root: join(tmp.path, 'metadata', '1.root.json') });
      try {
        const f = await client.fetch('apps/app.tgz', tmp.path);
        assert.equal(readFileSync(f.file, 'utf8'), ARTIFACT_BYTES);
      } finally {
        client.close();
      }
      assert.equal((await app.inject({ method: 'GET', url: '/tuf/metadata/..%2Frepository.json' })).statusCode, 404);
      assert.equal((await app.inject({ method: 'GET', url: '/tuf/targets/../repository.json' })).statusCode, 404);
    } finally {
      await app.close();
    }
  });

  it('re-signs the timestamp before it expires', async () => {
    using tmp = tempDir();
    // Timestamps last a day; "expiring within two days" forces a refresh on the first tick.
    const { app } = await server(tmp.path, { refreshWithin: 2 * 86400, refreshEveryMs: 20 });
    try {
      const before = TufRepository.open(tmp.path).status('timestamp').version;
      const deadline = Date.now() + 5000;
      while (TufRepository.open(tmp.path).status('timestamp').version <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(TufRepository.open(tmp.path).status('timestamp').version > before);
    } finally {
      await app.close();
    }
  });
});

describe('TUF re-signing of online delegated roles', () => {
  it('renews an online delegated role that would expire before the next timestamp renewal', async () => {
    using tmp = tempDir();
    // 89.5 days on: the timestamp has expired and apps (90 days) expires within a timestamp period.
    const later = () => new Date(Date.now() + 89.5 * 86400_000);
    const { app } = await server(tmp.path, { now: later, open: () => TufRepository.open(tmp.path, [key('online').signer()], later), refreshEveryMs: 20 });
    try {
      const before = TufRepository.open(tmp.path).status('apps');
      const deadline = Date.now() + 5000;
      while (TufRepository.open(tmp.path).status('apps').version <= before.version && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const after = TufRepository.open(tmp.path).status('apps');
      assert.ok(after.version > before.version);
      assert.ok(new Date(after.expires).getTime() > later().getTime() + 80 * 86400_000);
      assert.equal(after.missing, 0);
    } finally {
      await app.close();
    }
  });
});

describe('TUF in custody serve (tuf: section)', () => {
  it('refuses to start when the configured online keys do not sign snapshot and timestamp', async () => {
    using tmp = tempDir();
    await makeRepo(join(tmp.path, 'tuf'));
    writeFileSync(join(tmp.path, 'wrong.key'), key('targets1').toPkcs8Pem());
    const config = parseConfig({ tuf: { dir: 'tuf', onlineKeys: [{ file: 'wrong.key' }] } }, tmp.path);
    const app = Fastify({ logger: false });
    const ctx = { config, now: () => new Date() } as unknown as AppContext;
    await assert.rejects(tufServicePlugin(app, { ctx }), (e: unknown) => (e as { code?: string }).code === 'INPUT_INVALID' && /tuf\.onlineKeys: 0 of the configured keys sign snapshot, which needs 1/.test((e as Error).message));
    const missing = parseConfig({ tuf: { dir: 'tuf', onlineKeys: [{ file: 'nope.key' }] } }, tmp.path);
    await assert.rejects(tufServicePlugin(app, { ctx: { ...ctx, config: missing } }), (e: unknown) => (e as { code?: string }).code === 'FILE_UNREADABLE');
    await app.close();
  });

  it('grants a delegated role only to the principals and namespaces listed for it', () => {
    const grants = [
      { role: 'apps', principals: [], namespaces: ['apps'] },
      { role: 'web', principals: ['token:ci-*'], namespaces: [] },
    ];
    const p = (actor: string, namespaces: string[]) => ({ actor, kind: 'token' as const, role: 'maintainer' as const, namespaces });
    assert.equal(grantAllows(grants, p('token:1', ['apps']), 'apps'), true);
    assert.equal(grantAllows(grants, p('token:1', ['web']), 'apps'), false);
    assert.equal(grantAllows(grants, p('token:1', ['*']), 'apps'), false, "'*' tokens only where listed");
    assert.equal(grantAllows(grants, p('token:ci-7', ['x']), 'web'), true);
    assert.equal(grantAllows(grants, p('token:ci-7', ['apps']), 'targets'), false, 'no grant: denied');
    assert.equal(grantAllows(grants, null, 'apps'), false);
  });

  it('keeps renewing snapshot and timestamp while an offline root rotation awaits signatures', async () => {
    using tmp = tempDir();
    const repo = await makeRepo(tmp.path);
    repo.addSigners([key('root1').signer()]);
    repo.rotate({ role: 'root', add: [key('root3').publicKey], remove: [], threshold: 2 });
    await repo.save();
    const server = TufRepository.open(tmp.path, [key('online').signer(), key('targets1').signer()]);
    server.addTargets([targetOf('a.txt', 'a')]);
    await server.save();
    await assert.rejects(server.publish(), (e: unknown) => (e as { code?: string }).code === 'THRESHOLD_NOT_MET');
    const before = TufRepository.open(tmp.path).status('timestamp').version;
    const r = await server.publish({ keepUnsigned: true });
    assert.ok(r.timestampVersion > before);
    assert.deepEqual(r.roles, ['targets']);
    assert.deepEqual(TufRepository.open(tmp.path).pendingRoles(), ['root'], 'the rotation stays staged');
    assert.equal(r.rootVersion, 1);
    const client = new TufClient({ repo: tmp.path, root: join(tmp.path, 'metadata', '1.root.json') });
    try {
      assert.equal(readFileSync((await client.fetch('a.txt', tmp.path)).file, 'utf8'), 'a');
    } finally {
      client.close();
    }
  });
});
