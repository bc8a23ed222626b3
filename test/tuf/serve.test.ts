// TUF and the deploy gate through the real `custody serve` (a child process started from a
// server.yaml with `tuf:` and `gate:` sections): tokens add targets per delegated role with
// policy admission, tuf-js fetches them from /tuf, refusals are 403 and audited, the gate answers
// real AdmissionReview v1 bodies. The online keys come from a file, then from SoftHSM2 (PKCS#11).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestBytes, type PublicKey, type Signer } from '../../src/core/index.ts';
import { Pkcs11KeyBackend } from '../../src/keys/index.ts';
import { TufClient, TufRepository } from '../../src/tuf/index.ts';
import { ARTIFACT_BYTES, attest, functionary, key as policyKey, signedPolicy } from '../policy/policy-kit.ts';
import { SOFTHSM_LIBRARY, USER_PIN, softToken } from '../signing/softhsm.ts';
import { spawnServer, type ChildServer } from '../support/child-server.ts';
import { custody, tempDir } from '../support/cli.ts';
import { key } from './repo-kit.ts';

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const provenance = (id: string) => ({ buildDefinition: { buildType: 'https://ci.example/v1', externalParameters: {} }, runDetails: { builder: { id } } });
const IMAGE = digestBytes('registry.example/app image manifest');
const UNATTESTED = digestBytes('an image nobody built here');

/** root and targets signed offline, apps/* and web/* delegated to the online key; published. */
async function makeServedRepo(dir: string, onlinePub: PublicKey, onlineSigner: Signer): Promise<void> {
  const repo = TufRepository.init(
    dir,
    { rootKeys: [key('root1').publicKey], rootThreshold: 1, targetsKeys: [key('targets1').publicKey], targetsThreshold: 1, onlineKeys: [onlinePub] },
    [key('root1').signer(), key('targets1').signer(), onlineSigner],
  );
  repo.delegate({ role: 'apps', paths: ['apps/*'], keys: [onlinePub], threshold: 1 });
  repo.delegate({ role: 'web', paths: ['web/*'], keys: [onlinePub], threshold: 1 });
  await repo.save();
  await repo.publish();
}

/**
 * The same with the CLI, when only the online key's public part is here (the private key is in
 * the server's HSM): `repo init --online-key X.pub` and `repo delegate` stage everything, and
 * nothing is published until the server publishes at start.
 */
function makeRepoWithCli(dir: string, onlinePub: PublicKey): void {
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const rootKey = file('root.key', key('root1').toPkcs8Pem());
  const targetsKey = file('targets.key', key('targets1').toPkcs8Pem());
  const online = file('tuf-online.pub', onlinePub.pem);
  const tuf = join(dir, 'tuf');
  const init = custody(['repo', 'init', '--dir', tuf, '--root-key', rootKey, '--targets-key', targetsKey, '--online-key', online, '--json']);
  assert.equal(init.status, 0, init.stderr);
  assert.equal((JSON.parse(init.stdout) as { publishedBy?: string }).publishedBy, 'online key holder');
  for (const role of ['apps', 'web']) {
    const r = custody(['repo', 'delegate', '--dir', tuf, '--role', role, '--paths', `${role}/*`, '--key', online, '--sign-key', targetsKey]);
    assert.equal(r.status, 0, r.stderr);
  }
  const publish = custody(['repo', 'publish', '--dir', tuf]);
  assert.equal(publish.status, 1, 'the online key is not here');
  assert.match(publish.stderr, /THRESHOLD_NOT_MET/);
}

async function writePolicy(dir: string): Promise<void> {
  const envelope = await signedPolicy({
    name: 'release',
    functionaries: { builder: functionary('builder') },
    steps: [{ name: 'build', predicateTypes: [PROVENANCE], functionaries: ['builder'], rules: ['predicate.runDetails.builder.id == "https://ci.example/builder"'] }],
  });
  writeFileSync(join(dir, 'release.policy.json'), JSON.stringify(envelope));
  writeFileSync(join(dir, 'owner.pub'), policyKey('owner').publicKey.pem);
}

function serverYaml(dir: string, online: string): string {
  const config = join(dir, 'server.yaml');
  writeFileSync(
    config,
    `dataDir: data
log: { level: warn }
tuf:
  dir: tuf
${online}
  expiry: { timestamp: 2d, snapshot: 7d }
  refreshWithin: 12h
  refreshEvery: 1h
  admission:
    policies: [release.policy.json]
    policyKeys: [owner.pub]
  roles:
    - { role: apps, namespaces: [apps] }
    - { role: web, namespaces: [web] }
gate:
  mode: enforce
  policies: [release.policy.json]
  policyKeys: [owner.pub]
  excludeNamespaces: [kube-system]
`,
  );
  return config;
}

function token(config: string, role: string, namespace: string): string {
  const r = custody(['token', 'create', '--config', config, '--role', role, '--namespace', namespace, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

async function call(server: ChildServer, method: string, path: string, bearer: string | undefined, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function fetchWithTufJs(server: ChildServer, dir: string, target: string): Promise<string> {
  const client = new TufClient({ repo: `${server.url}/tuf`, root: join(dir, 'tuf', 'metadata', '1.root.json') });
  try {
    return readFileSync((await client.fetch(target, dir)).file, 'utf8');
  } finally {
    client.close();
  }
}

const review = (uid: string, namespace: string, images: string[]) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    namespace,
    operation: 'CREATE',
    userInfo: { username: 'system:serviceaccount:ci:deployer' },
    object: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app', namespace },
      spec: { selector: { matchLabels: { app: 'app' } }, template: { metadata: { labels: { app: 'app' } }, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } } },
    },
    dryRun: false,
  },
});

describe('custody serve with tuf: and gate:', () => {
  it('adds targets per delegated role with admission, tuf-js fetches them from /tuf; refusals are 403 and audited; the gate answers AdmissionReviews', async () => {
    using tmp = tempDir();
    const dir = tmp.path;
    writeFileSync(join(dir, 'online.key'), key('online').toPkcs8Pem());
    await makeServedRepo(join(dir, 'tuf'), key('online').publicKey, key('online').signer());
    await writePolicy(dir);
    const config = serverYaml(dir, '  onlineKeys:\n    - file: online.key');
    const tokens = {
      admin: token(config, 'admin', '*'),
      apps: token(config, 'maintainer', 'apps'),
      web: token(config, 'maintainer', 'web'),
      reader: token(config, 'reader', 'apps'),
      attester: token(config, 'attester', 'default'),
    };
    const server = await spawnServer(['--config', config]);
    try {
      const good = await attest(['builder'], PROVENANCE, provenance('https://ci.example/builder'));
      const bad = await attest(['builder'], PROVENANCE, provenance('https://evil.example'));
      const add = (bearer: string | undefined, path: string, attestation: unknown) =>
        call(server, 'POST', '/tuf/v1/targets', bearer, { path, content: Buffer.from(ARTIFACT_BYTES).toString('base64'), attestations: [attestation] });

      // Who may add: tuf.write (role) and the grant for the delegated role holding the path.
      assert.equal((await add(undefined, 'apps/app.tgz', good.envelope)).status, 401);
      let r = await add(tokens.reader, 'apps/app.tgz', good.envelope);
      assert.equal(r.status, 403);
      assert.match(String(r.json['message']), /role reader may not tuf\.write/);
      r = await add(tokens.web, 'apps/app.tgz', good.envelope);
      assert.equal(r.status, 403, JSON.stringify(r.json));
      assert.equal(r.json['code'], 'FORBIDDEN');
      assert.match(String(r.json['message']), /TUF role 'apps'/);
      // Admission: the attestations must pass the policy; the failed rule is named.
      r = await add(tokens.apps, 'apps/app.tgz', bad.envelope);
      assert.equal(r.status, 422);
      assert.equal(r.json['code'], 'ADMISSION_DENIED');
      assert.match(String(r.json['message']), /release\.policy\.json: \[build \/ rule 1\] RULE_FAILED/);
      r = await add(tokens.apps, 'apps/app.tgz', good.envelope);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(r.json['role'], 'apps');
      r = await add(tokens.web, 'web/site.tgz', { dsseEnvelope: good.envelope });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      // A role names the path it is given only within its delegated paths.
      r = await call(server, 'POST', '/tuf/v1/targets', tokens.web, { path: 'apps/other.tgz', role: 'web', content: Buffer.from(ARTIFACT_BYTES).toString('base64'), attestations: [good.envelope] });
      assert.equal(r.status, 422);
      assert.equal(r.json['code'], 'ACCESS_DENIED');

      // tuf-js (the real client) reads both targets from the served repository.
      assert.equal(await fetchWithTufJs(server, dir, 'apps/app.tgz'), ARTIFACT_BYTES);
      assert.equal(await fetchWithTufJs(server, dir, 'web/site.tgz'), ARTIFACT_BYTES);

      // Every refusal and every add is in the audit log.
      const audit = await call(server, 'GET', '/v1/audit?limit=1000', tokens.admin);
      const entries = (audit.json['items'] as { action: string; outcome: string; status: number; target: string | null; actor: string; detail: Record<string, unknown> }[]).filter((e) => e.action === 'tuf.write');
      const summary = entries.map((e) => `${e.outcome} ${e.status} ${e.target ?? ''} ${typeof e.detail['code'] === 'string' ? e.detail['code'] : ''}`);
      assert.deepEqual(summary, [
        'denied 401 /tuf/v1/targets UNAUTHENTICATED',
        'denied 403 /tuf/v1/targets FORBIDDEN',
        'denied 403 /tuf/v1/targets FORBIDDEN',
        'denied 422 apps/app.tgz ADMISSION_DENIED',
        'allowed 201 apps/app.tgz ',
        'allowed 201 web/site.tgz ',
        'denied 422 apps/other.tgz ACCESS_DENIED',
      ]);
      assert.match(entries[2]!.actor, /^token:/);

      // The gate: attestations come from the server's store.
      const image = attest(['builder'], PROVENANCE, provenance('https://ci.example/builder'), [{ name: 'registry.example/app', digest: { sha256: IMAGE } }]);
      const pushed = await call(server, 'POST', '/v1/attestations', tokens.attester, (await image).envelope);
      assert.ok(pushed.status < 300, JSON.stringify(pushed.json));
      let g = await call(server, 'POST', '/v1/gate/admission', undefined, review('uid-allowed', 'prod', [`registry.example/app@sha256:${IMAGE}`]));
      assert.equal(g.status, 200);
      assert.deepEqual(g.json, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'uid-allowed', allowed: true } });
      g = await call(server, 'POST', '/v1/gate/admission', undefined, review('uid-denied', 'prod', [`registry.example/app@sha256:${IMAGE}`, `registry.example/other@sha256:${UNATTESTED}`]));
      const denied = g.json['response'] as { uid: string; allowed: boolean; status: { code: number; message: string } };
      assert.equal(denied.uid, 'uid-denied');
      assert.equal(denied.allowed, false);
      assert.equal(denied.status.code, 403);
      assert.match(denied.status.message, new RegExp(`registry\\.example/other@sha256:${UNATTESTED}: release\\.policy\\.json: \\[build\\]`));
      assert.doesNotMatch(denied.status.message, new RegExp(`app@sha256:${IMAGE}`));
      g = await call(server, 'POST', '/v1/gate/admission', undefined, review('uid-system', 'kube-system', [`registry.example/other@sha256:${UNATTESTED}`]));
      assert.equal((g.json['response'] as { allowed: boolean }).allowed, true, 'excluded namespace');
      for (const malformed of [{ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, '{"apiVersion":']) {
        g = await call(server, 'POST', '/v1/gate/admission', undefined, malformed);
        assert.equal(g.status, 400, JSON.stringify(malformed));
      }
      // POST /v1/gate/verify needs a token (gate.verify).
      assert.equal((await call(server, 'POST', '/v1/gate/verify', undefined, { images: [`x@sha256:${IMAGE}`] })).status, 401);
      g = await call(server, 'POST', '/v1/gate/verify', tokens.reader, { images: [`registry.example/app@sha256:${IMAGE}`] });
      assert.equal(g.status, 200);
      assert.equal(g.json['allowed'], true);

      // The routes are in the OpenAPI document.
      const paths = (await call(server, 'GET', '/docs/openapi.json', undefined)).json['paths'] as Record<string, Record<string, { summary?: string }>>;
      for (const [path, method] of [['/tuf/v1/targets', 'post'], ['/tuf/metadata/{file}', 'get'], ['/v1/gate/admission', 'post'], ['/v1/gate/verify', 'post']] as const) {
        assert.ok(paths[path]?.[method]?.summary, `${method} ${path} documented`);
      }
    } finally {
      await server.kill();
    }
  });

  it('signs the online roles with keys in SoftHSM2 (PKCS#11): the server publishes, tuf-js verifies', async (t) => {
    const label = softToken(t, 'tuf-online');
    if (label === undefined) return;
    using tmp = tempDir();
    const dir = tmp.path;
    const setup = new Pkcs11KeyBackend({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin: USER_PIN });
    let onlinePub: PublicKey;
    try {
      onlinePub = await setup.publicKey((await setup.create({ name: 'tuf-online', type: 'ecdsa-p256' })).name);
    } finally {
      await setup.close();
    }
    // Only the public key leaves the token: the repository is published first by the server.
    makeRepoWithCli(dir, onlinePub);
    await writePolicy(dir);
    const config = serverYaml(dir, `  keyBackend: { kind: pkcs11, library: ${SOFTHSM_LIBRARY}, tokenLabel: ${label}, pinEnv: CUSTODY_TEST_TUF_PIN }\n  onlineKeys:\n    - name: tuf-online`);
    const apps = token(config, 'maintainer', 'apps');
    const env = { CUSTODY_TEST_TUF_PIN: USER_PIN };
    // A wrong PIN, or a key that does not sign the online roles, stops serve at start.
    await assert.rejects(spawnServer(['--config', config], { env: { CUSTODY_TEST_TUF_PIN: '000000' } }), /KEY_PASSPHRASE_WRONG/);
    const server = await spawnServer(['--config', config], { env });
    try {
      const good = await attest(['builder'], PROVENANCE, provenance('https://ci.example/builder'));
      const r = await call(server, 'POST', '/tuf/v1/targets', apps, { path: 'apps/app.tgz', content: Buffer.from(ARTIFACT_BYTES).toString('base64'), attestations: [good.envelope] });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(await fetchWithTufJs(server, dir, 'apps/app.tgz'), ARTIFACT_BYTES);
      const repo = TufRepository.open(join(dir, 'tuf'));
      const ts = repo.status('timestamp');
      assert.equal(ts.missing, 0);
      assert.equal(repo.pendingRoles().length, 0);
    } finally {
      await server.kill();
    }
    const logs = server.stderr.join('');
    assert.equal(logs.includes(USER_PIN), false);
  });
});
