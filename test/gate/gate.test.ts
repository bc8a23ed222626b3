// The deploy gate with real AdmissionReview v1 request bodies (as the Kubernetes API server sends
// them): allowed, denied (naming the rule), warn, namespace selection, malformed; over HTTPS
// with a self-signed certificate made by openssl.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { digestBytes } from '../../src/core/index.ts';
import { buildGateServer, type GateServeOptions } from '../../src/cli/gate.ts';
import { attest, functionary, key, signedPolicy } from '../policy/policy-kit.ts';
import { haveComponents } from '../support/components.ts';
import { tempDir } from '../support/cli.ts';

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const GOOD = digestBytes('good image manifest');
const BAD = digestBytes('bad image manifest');
const UNKNOWN = digestBytes('never attested');

const policyDoc = {
  name: 'deploy',
  functionaries: { builder: functionary('builder') },
  steps: [{ name: 'build', predicateTypes: [PROVENANCE], functionaries: ['builder'], rules: ['predicate.runDetails.builder.id == "https://ci.example/builder"'] }],
};
const provenance = (id: string) => ({ buildDefinition: { buildType: 'https://ci.example/v1', externalParameters: {} }, runDetails: { builder: { id } } });

async function setUp(dir: string, extra: Partial<GateServeOptions> = {}): Promise<GateServeOptions> {
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(await signedPolicy(policyDoc)));
  writeFileSync(join(dir, 'owner.pub'), key('owner').publicKey.pem);
  for (const [digest, id] of [[GOOD, 'https://ci.example/builder'], [BAD, 'https://evil.example']] as const) {
    mkdirSync(join(dir, 'atts', `sha256-${digest}`), { recursive: true });
    const att = await attest(['builder'], PROVENANCE, provenance(id), [{ name: 'registry.example/app', digest: { sha256: digest } }]);
    writeFileSync(join(dir, 'atts', `sha256-${digest}`, 'build.json'), JSON.stringify(att.envelope));
  }
  return { policy: [join(dir, 'policy.json')], policyKey: [join(dir, 'owner.pub')], attestations: join(dir, 'atts'), insecureHttp: true, ...extra };
}

/** An AdmissionReview v1 request for a Pod, shaped as the API server sends it. */
function podReview(images: string[], namespace = 'prod', uid = '705ab4f5-6393-11e8-b7cc-42010a800002') {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: 'app-7d4b9c',
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', uid: 'a1b2', groups: ['system:serviceaccounts'] },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'app-7d4b9c', namespace, labels: { app: 'app' } },
        spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

function deploymentReview(image: string) {
  const r = podReview([]);
  return {
    ...r,
    request: {
      ...r.request,
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', namespace: 'prod' }, spec: { replicas: 2, template: { metadata: {}, spec: { initContainers: [{ name: 'init', image }], containers: [{ name: 'app', image }] } } } },
    },
  };
}

const img = (digest: string) => `registry.example/app@sha256:${digest}`;

interface ReviewResponse {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string }; warnings?: string[] };
}

describe('custody gate (admission webhook)', () => {
  it('admits a Pod whose every image passes, echoing the request uid', async () => {
    using tmp = tempDir();
    const app = await buildGateServer(await setUp(tmp.path));
    const res = await app.inject({ method: 'POST', url: '/v1/gate/admission', payload: podReview([img(GOOD)]) });
    assert.equal(res.statusCode, 200);
    const body = res.json<ReviewResponse>();
    assert.equal(body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(body.kind, 'AdmissionReview');
    assert.deepEqual(body.response, { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    await app.close();
  });

  it('denies when one image fails, naming the failed rule; unattested and unpinned images are denied too', async () => {
    using tmp = tempDir();
    const app = await buildGateServer(await setUp(tmp.path));
    let body = (await app.inject({ method: 'POST', url: '/v1/gate/admission', payload: podReview([img(GOOD), img(BAD)]) })).json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.equal(body.response.status?.code, 403);
    assert.match(body.response.status?.message ?? '', new RegExp(`${BAD}.*\\[build / rule 1\\] RULE_FAILED`));
    body = (await app.inject({ method: 'POST', url: '/v1/gate/admission', payload: deploymentReview(img(UNKNOWN)) })).json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.match(body.response.status?.message ?? '', /\[build\] ATTESTATION_MISSING/);
    body = (await app.inject({ method: 'POST', url: '/v1/gate/admission', payload: podReview(['registry.example/app:latest']) })).json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.match(body.response.status?.message ?? '', /IMAGE_NOT_PINNED/);
    await app.close();
  });

  it('warn mode admits with warnings; unselected namespaces are not checked', async () => {
    using tmp = tempDir();
    const warn = await buildGateServer(await setUp(tmp.path, { mode: 'warn' }));
    const body = (await warn.inject({ method: 'POST', url: '/v1/gate/admission', payload: podReview([img(BAD)]) })).json<ReviewResponse>();
    assert.equal(body.response.allowed, true);
    assert.match(body.response.warnings?.[0] ?? '', /RULE_FAILED/);
    await warn.close();
    using tmp2 = tempDir();
    const scoped = await buildGateServer(await setUp(tmp2.path, { excludeNamespace: ['kube-system'] }));
    const skipped = (await scoped.inject({ method: 'POST', url: '/v1/gate/admission', payload: podReview([img(BAD)], 'kube-system') })).json<ReviewResponse>();
    assert.deepEqual(skipped.response.allowed, true);
    const checked = (await scoped.inject({ method: 'POST', url: '/v1/gate/admission', payload: podReview([img(BAD)], 'prod') })).json<ReviewResponse>();
    assert.equal(checked.response.allowed, false);
    await scoped.close();
  });

  it('answers malformed reviews with 400 and refuses objects it does not understand', async () => {
    using tmp = tempDir();
    const app = await buildGateServer(await setUp(tmp.path));
    for (const payload of [{}, { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }]) {
      const res = await app.inject({ method: 'POST', url: '/v1/gate/admission', payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json<{ code: string }>().code, 'INPUT_INVALID');
    }
    const notJson = await app.inject({ method: 'POST', url: '/v1/gate/admission', headers: { 'content-type': 'application/json' }, payload: '{"apiVersion":' });
    assert.equal(notJson.statusCode, 400);
    const review = podReview([img(GOOD)]);
    const odd = { ...review, request: { ...review.request, object: { kind: 'Pod', spec: { containers: 'nope' } } } };
    const body = (await app.inject({ method: 'POST', url: '/v1/gate/admission', payload: odd })).json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    await app.close();
  });

  it('POST /v1/gate/verify decides for other deployers', async () => {
    using tmp = tempDir();
    const app = await buildGateServer(await setUp(tmp.path));
    const res = await app.inject({ method: 'POST', url: '/v1/gate/verify', payload: { images: [img(GOOD), img(BAD)] } });
    const body = res.json<{ allowed: boolean; images: { image: string; allowed: boolean; reasons: string[] }[] }>();
    assert.equal(body.allowed, false);
    assert.deepEqual(body.images.map((i) => i.allowed), [true, false]);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/gate/verify', payload: { images: [] } })).statusCode, 400);
    await app.close();
  });

  it('serves the webhook over HTTPS with a self-signed certificate', async (t) => {
    if (!haveComponents(t, 'openssl')) return;
    using tmp = tempDir();
    const cert = join(tmp.path, 'tls.crt');
    const keyFile = join(tmp.path, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', cert, '-days', '1', '-subj', '/CN=custody-gate.custody.svc', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:custody-gate.custody.svc'], { stdio: 'ignore' });
    const options = await setUp(tmp.path, { insecureHttp: false, tlsCert: cert, tlsKey: keyFile });
    const app = await buildGateServer(options);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const payload = JSON.stringify(podReview([img(BAD)]));
      const text = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/v1/gate/admission', method: 'POST', ca: readFileSync(cert), headers: { 'content-type': 'application/json' } }, (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString()));
          res.on('end', () => resolve(data));
        });
        req.on('error', reject);
        req.end(payload);
      });
      const body = JSON.parse(text) as ReviewResponse;
      assert.equal(body.response.allowed, false);
    } finally {
      await app.close();
    }
  });
});
