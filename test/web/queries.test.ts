// The routes the dashboard added to the public API (src/server/plugins/queries.ts) and the
// static dashboard route (src/server/plugins/web.ts), through the real app.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { generateKeyPair } from '../../src/core/index.ts';
import { componentMatches, componentsOf } from '../../src/server/plugins/queries.ts';
import { WEB_CSP, webPlugin } from '../../src/server/plugins/web.ts';
import type { AppContext } from '../../src/server/app.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';
import { envelope, releaseEvidence, sha, type Seeded } from './seed.ts';

const LINK_V03 = 'https://in-toto.io/attestation/link/v0.3';

describe('dashboard queries', () => {
  let h: Harness;
  let seed: Seeded;
  let ids: string[];
  before(async () => {
    h = await startHarness();
    seed = await releaseEvidence(h.key, generateKeyPair('ed25519'));
    const res = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/x-ndjson' }, payload: seed.lines.join('\n') });
    assert.equal(res.statusCode, 200, res.body);
    ids = (res.json<{ results: { id: string }[] }>()).results.map((r) => r.id);
  });
  after(async () => h.close());

  it('finds artifacts by name, digest and digest prefix', async () => {
    const byName = await h.inject({ method: 'GET', url: '/v1/artifacts?q=WEBAPP-1.4', token: h.tokens.reader });
    assert.equal(byName.statusCode, 200);
    const items = (byName.json<{ items: { name: string; digest: { sha256: string } }[] }>()).items;
    assert.deepEqual(items.map((i) => i.digest.sha256).sort(), [seed.good.digest['sha256'], seed.tampered.digest['sha256']].sort());
    assert.ok(items.every((i) => i.name === 'webapp-1.4.2.tgz'));
    const full = await h.inject({ method: 'GET', url: `/v1/artifacts?q=sha256:${seed.good.digest['sha256']}`, token: h.tokens.reader });
    const fullItems = (full.json<{ items: { attestations: number; predicateTypes: string[] }[] }>()).items;
    assert.equal(fullItems.length, 1);
    assert.equal(fullItems[0]!.attestations, 4); // provenance, SBOM, scan, VSA
    const prefix = await h.inject({ method: 'GET', url: `/v1/artifacts?q=${seed.tampered.digest['sha256']!.slice(0, 10)}`, token: h.tokens.reader });
    assert.equal((prefix.json<{ items: unknown[] }>()).items.length, 1);
    const none = await h.inject({ method: 'GET', url: '/v1/artifacts?q=nothing-like-this', token: h.tokens.reader });
    assert.deepEqual((none.json<{ items: unknown[] }>()).items, []);
  });

  it('answers which artifacts contain a package from the stored SBOMs', async () => {
    const res = await h.inject({ method: 'GET', url: '/v1/components?name=Lodash', token: h.tokens.reader });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ items: { artifact: { digest: { sha256: string } }; components: { version: string }[] }[]; scanned: number }>();
    assert.equal(body.scanned, 1);
    assert.deepEqual(body.items.map((i) => i.artifact.digest.sha256), [seed.good.digest['sha256']]);
    assert.equal(body.items[0]!.components[0]!.version, '4.17.21');
    const purl = await h.inject({ method: 'GET', url: '/v1/components?name=pkg:npm/left-pad', token: h.tokens.reader });
    assert.equal((purl.json<{ items: unknown[] }>()).items.length, 1);
    const otherVersion = await h.inject({ method: 'GET', url: '/v1/components?name=lodash&version=4.17.20', token: h.tokens.reader });
    assert.deepEqual((otherVersion.json<{ items: unknown[] }>()).items, []);
    const missing = await h.inject({ method: 'GET', url: '/v1/components', token: h.tokens.reader });
    assert.equal(missing.statusCode, 400);
  });

  it('evaluates a policy over the stored evidence: the honest build passes, the tampered one names its failed rules', async () => {
    const good = await h.inject({ method: 'POST', url: `/v1/artifacts/sha256:${seed.good.digest['sha256']}/verdict`, token: h.tokens.reader, payload: { policy: seed.policy } });
    assert.equal(good.statusCode, 200, good.body);
    const gv = good.json<{ passed: boolean; issues: { severity: string; code: string }[] }>();
    assert.equal(gv.passed, true, JSON.stringify(gv.issues));
    const bad = await h.inject({ method: 'POST', url: `/v1/artifacts/sha256:${seed.tampered.digest['sha256']}/verdict`, token: h.tokens.reader, payload: { policy: seed.policy } });
    const bv = bad.json<{ passed: boolean; issues: { severity: string; code: string; rule?: string; step?: string; attestation?: string }[] }>();
    assert.equal(bv.passed, false);
    const errors = bv.issues.filter((i) => i.severity === 'error');
    const hermetic = errors.find((i) => i.rule === 'hermetic builder');
    assert.equal(hermetic?.code, 'RULE_FAILED');
    assert.equal(hermetic?.attestation, ids[5]); // the tampered provenance, by its store id
    assert.ok(errors.some((i) => i.rule === 'built from main'));
    assert.ok(errors.some((i) => i.code === 'ATTESTATION_MISSING' && i.step === 'sbom'));
  });

  it('counts a step that only consumed the materials (a lint): reached through the material index, not ATTESTATION_MISSING', async () => {
    // checkout → src/app.ts; build(src/app.ts) → app.tgz; lint(src/app.ts) → lint.txt, a product on no path to app.tgz.
    const file = (name: string) => ({ name, digest: { sha256: sha(`lint-case ${name}`) } });
    const link = (step: string, materials: ReturnType<typeof file>[], products: ReturnType<typeof file>[]) =>
      envelope(h.key, products, LINK_V03, { name: step, command: ['make', step], materials, byproducts: { 'return-value': 0 } });
    const lines = [await link('checkout', [], [file('src/app.ts')]), await link('build', [file('src/app.ts')], [file('app.tgz')]), await link('lint', [file('src/app.ts')], [file('lint.txt')])];
    const up = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });
    assert.equal(up.statusCode, 200, up.body);
    const lintId = (up.json<{ results: { id: string }[] }>()).results[2]!.id;
    const step = (name: string, extra: Record<string, unknown> = {}) => ({ name, predicateTypes: [LINK_V03], functionaries: ['ci'], ...extra });
    const policy = {
      _type: 'https://custody.dev/policy/v1',
      name: 'lint-required',
      expires: '2030-01-01T00:00:00Z',
      functionaries: { ci: { publicKey: h.key.publicKey.pem } },
      artifact: { producedBy: ['build'] },
      steps: [
        step('checkout', { expectedProducts: ['ALLOW *'] }),
        step('lint', { rules: [{ name: 'lint passed', expr: 'predicate.byproducts["return-value"] == 0' }], expectedMaterials: ['MATCH src/* WITH PRODUCTS FROM checkout', 'DISALLOW *'] }),
        step('build', { expectedMaterials: ['MATCH src/* WITH PRODUCTS FROM checkout', 'DISALLOW *'] }),
      ],
    };
    const root = `sha256:${file('app.tgz').digest.sha256}`;
    const res = await h.inject({ method: 'POST', url: `/v1/artifacts/${root}/verdict`, token: h.tokens.reader, payload: { policy } });
    assert.equal(res.statusCode, 200, res.body);
    const verdict = res.json<{ passed: boolean; issues: { code: string; step?: string }[]; evidence: { attestations: number; consumers: number; skippedMaterials: number; truncated: boolean } }>();
    assert.deepEqual(verdict.issues.filter((i) => i.code === 'ATTESTATION_MISSING'), []);
    assert.equal(verdict.passed, true, JSON.stringify(verdict.issues));
    assert.deepEqual(verdict.evidence, { attestations: 3, consumers: 1, skippedMaterials: 0, truncated: false });
    const graph = await h.inject({ method: 'GET', url: `/v1/artifacts/${root}/graph`, token: h.tokens.reader });
    const g = graph.json<{ attestations: { id: string; step?: string }[]; consumers: string[]; skippedMaterials: unknown[]; truncated: boolean }>();
    assert.deepEqual(g.skippedMaterials, []);
    assert.deepEqual(g.attestations.map((a) => a.step).sort(), ['build', 'checkout', 'lint']);
    assert.deepEqual(g.consumers, [lintId]);
    // The lint is evidence about its inputs, not about another product of them: a competing build's
    // verdict does not gain it as a build, and the honest build's graph does not gain that build.
    await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/x-ndjson' }, payload: await link('build', [file('src/app.ts')], [file('other.tgz')]) });
    const again = await h.inject({ method: 'GET', url: `/v1/artifacts/${root}/graph`, token: h.tokens.reader });
    assert.deepEqual((again.json<{ attestations: { step?: string }[] }>()).attestations.map((a) => a.step).sort(), ['build', 'checkout', 'lint']);
    const stillPassing = await h.inject({ method: 'POST', url: `/v1/artifacts/${root}/verdict`, token: h.tokens.reader, payload: { policy } });
    assert.equal((stillPassing.json<{ passed: boolean }>()).passed, true, stillPassing.body);
  });

  it('refuses bad input with 4xx and needs a token', async () => {
    const bad = await h.inject({ method: 'POST', url: `/v1/artifacts/sha256:${sha('x')}/verdict`, token: h.tokens.reader, payload: { policy: { _type: 'nope' } } });
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json<{ code: string }>()).code, 'POLICY_INVALID');
    assert.equal((await h.inject({ method: 'POST', url: '/v1/artifacts/nothex/verdict', token: h.tokens.reader, payload: { policy: {} } })).statusCode, 400);
    assert.equal((await h.inject({ method: 'GET', url: '/v1/artifacts' })).statusCode, 401);
    assert.equal((await h.inject({ method: 'GET', url: '/v1/components?name=x' })).statusCode, 401);
    assert.equal((await h.inject({ method: 'GET', url: '/v1/artifacts?namespace=zz', token: h.tokens.reader })).statusCode, 403);
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = (await h.inject({ method: 'GET', url: '/docs/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    for (const p of ['/v1/artifacts', '/v1/components', '/v1/artifacts/{digest}/verdict']) assert.ok(p in doc.paths, p);
  });

  it('redirects / to the dashboard and leaves unknown API paths a JSON 404', async () => {
    const root = await h.inject({ method: 'GET', url: '/' });
    assert.equal(root.statusCode, 302);
    assert.equal(root.headers['location'], '/ui/');
    const nope = await h.inject({ method: 'GET', url: '/v1/nope' });
    assert.equal(nope.statusCode, 404);
    assert.equal((nope.json<{ code: string }>()).code, 'NOT_FOUND');
  });
});

describe('dashboard static files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'custody-web-'));
    mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'dist', 'assets', 'app-1.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'no');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function app(dist: string): Promise<FastifyInstance> {
    const a = Fastify();
    await a.register(webPlugin, { ctx: {} as AppContext, dist });
    return a;
  }

  it('serves assets, falls back to index.html for deep links, refuses traversal', async () => {
    const a = await app(join(dir, 'dist'));
    const deep = await a.inject({ method: 'GET', url: '/ui/artifacts/sha256:abc' });
    assert.equal(deep.statusCode, 200);
    assert.match(deep.body, /<title>t<\/title>/);
    assert.equal(deep.headers['content-security-policy'], WEB_CSP);
    const js = await a.inject({ method: 'GET', url: '/ui/assets/app-1.js' });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.match(String(js.headers['cache-control']), /immutable/);
    for (const url of ['/ui/assets/../../secret.txt', '/ui/assets/%2e%2e/%2e%2e/secret.txt', '/ui/assets/missing.js']) {
      assert.equal((await a.inject({ method: 'GET', url })).statusCode, 404, url);
    }
    await a.close();
  });

  it('says how to build the dashboard when it is not built', async () => {
    const a = await app(join(dir, 'absent'));
    const page = await a.inject({ method: 'GET', url: '/ui/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /npm run build:web/);
    await a.close();
  });
});

describe('SBOM component extraction (untrusted predicates)', () => {
  it('reads CycloneDX nested components and SPDX packages', () => {
    const cdx = componentsOf('https://cyclonedx.org/bom', { components: [{ name: 'a', version: '1', components: [{ name: 'b', purl: 'pkg:npm/b@2' }] }] });
    assert.deepEqual(cdx, [{ name: 'a', version: '1' }, { name: 'b', purl: 'pkg:npm/b@2' }]);
    const spdx = componentsOf('https://spdx.dev/Document', { packages: [{ name: 'c', versionInfo: '3', externalRefs: [{ referenceType: 'purl', referenceLocator: 'pkg:pypi/c@3' }] }] });
    assert.deepEqual(spdx, [{ name: 'c', version: '3', purl: 'pkg:pypi/c@3' }]);
    assert.equal(componentMatches({ name: 'Lodash', version: '1' }, 'lodash', undefined), true);
    assert.equal(componentMatches({ name: 'lodash', version: '1' }, 'lodash', '2'), false);
  });

  it('never throws on arbitrary JSON and returns only named components', () => {
    fc.assert(
      fc.property(fc.constantFrom('https://cyclonedx.org/bom', 'https://spdx.dev/Document'), fc.jsonValue(), (type, value) => {
        const out = componentsOf(type, value);
        for (const c of out) assert.ok(typeof c.name === 'string' && c.name !== '');
      }),
      { numRuns: 300 },
    );
  });
});
