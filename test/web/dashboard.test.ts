// The dashboard in a real browser (playwright-core driving Debian's chromium) against the real
// server with realistic evidence uploaded through the public API: log in, find an artifact,
// open its evidence graph, see the failed rules after a tampering and the deploy gate's admission
// decisions as deployments, answer "which artifacts contain package X", follow a deep link, see a
// live update. Screenshots: test/web/out/. (The same on the end-to-end demo's data:
// test/web/demo-dashboard.ts, run by test/demo/demo.test.ts.)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { generateKeyPair } from '../../src/core/index.ts';
import { tempDir } from '../support/cli.ts';
import { haveComponents } from '../support/components.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';
import { CHROMIUM, ROOT, buildDashboard, launch } from './browser.ts';
import { envelope, releaseEvidence, sha, type Seeded } from './seed.ts';

const OUT = join(ROOT, 'test', 'web', 'out');
const TIMEOUT = 15_000;
const APPROVAL = 'https://custody.dev/test/deploy-approval/v1';

/** The deploy gate's policy (unsigned, allowed for the test): a release approval by `approver`. */
function gatePolicy(approver: ReturnType<typeof generateKeyPair>): Record<string, unknown> {
  return {
    _type: 'https://custody.dev/policy/v1',
    name: 'deploy',
    expires: '2099-01-01T00:00:00Z',
    functionaries: { approver: { publicKey: approver.publicKey.pem } },
    requirements: [{ name: 'approved', predicateTypes: [APPROVAL], functionaries: ['approver'], rules: [{ name: 'release approved', expr: 'predicate.approved == true' }] }],
  };
}

function admissionReview(uid: string, image: string): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid, namespace: 'prod', operation: 'CREATE', object: { kind: 'Pod', metadata: { name: uid, namespace: 'prod' }, spec: { containers: [{ name: 'app', image }] } } },
  };
}

describe('dashboard in chromium', { timeout: 90_000 }, () => {
  let h: Harness | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base: string;
  let seed: Seeded;
  let ids: string[];
  const dir = tempDir('custody-web-test-');
  const approver = generateKeyPair('ed25519');

  before(async () => {
    if (!existsSync(CHROMIUM)) return;
    buildDashboard();
    // A deploy gate on the server: its admission decisions are audited and shown as deployments.
    const policyFile = join(dir.path, 'deploy.policy.json');
    writeFileSync(policyFile, JSON.stringify(gatePolicy(approver)));
    h = await startHarness({
      configure: (config) => {
        config.gate = { mode: 'enforce', policies: [policyFile], policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, namespaces: [], excludeNamespaces: [], attestationsNamespace: 'default', maxAttestations: 100 };
      },
    });
    seed = await releaseEvidence(h.key, generateKeyPair('ed25519'));
    const res = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/x-ndjson' }, payload: seed.lines.join('\n') });
    assert.equal(res.statusCode, 200, res.body);
    ids = (res.json<{ results: { id: string }[] }>()).results.map((r) => r.id);
    // The honest release is approved and deployed; the tampered one is refused by the gate.
    const approval = await envelope(approver, [seed.good], APPROVAL, { approved: true });
    assert.equal((await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/json' }, payload: approval })).statusCode, 201);
    for (const [uid, d] of [['deploy-good', seed.good], ['deploy-tampered', seed.tampered]] as const) {
      const review = await h.inject({ method: 'POST', url: '/v1/gate/admission', payload: admissionReview(uid, `registry.example/webapp@sha256:${d.digest['sha256']!}`) });
      assert.equal(review.statusCode, 200, review.body);
      assert.equal(review.json<{ response: { allowed: boolean } }>().response.allowed, uid === 'deploy-good');
    }
    const audit = await h.inject({ method: 'GET', url: '/v1/audit?limit=1000', token: h.tokens.admin });
    const admissions = audit.json<{ items: { action: string; target: string; outcome: string }[] }>().items.filter((e) => e.action === 'gate.admission');
    assert.deepEqual(admissions.map((e) => [e.target, e.outcome]), [[`sha256:${seed.good.digest['sha256']!}`, 'allowed'], [`sha256:${seed.tampered.digest['sha256']!}`, 'denied']]);
    base = (await h.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(TIMEOUT);
    mkdirSync(OUT, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    dir[Symbol.dispose]();
  });

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false });

  it('logs in with an API token and lists the artifacts', async (t) => {
    if (!haveComponents(t, CHROMIUM)) return;
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill(h!.tokens.admin);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Artifacts' }).waitFor();
    await page.getByRole('link', { name: 'webapp-1.4.2.tgz' }).first().waitFor();
    assert.match(page.url(), /\/ui\/artifacts$/);
    // The token stays in this tab's sessionStorage, not in a cookie.
    assert.deepEqual(await page.context().cookies(), []);
    await shot('1-artifacts');
  });

  it('loads a policy, finds the tampered artifact by digest and shows its failed rules', async (t) => {
    if (!haveComponents(t, CHROMIUM)) return;
    await page.getByRole('link', { name: 'Policy', exact: true }).click();
    await page.getByLabel('Policy (JSON)').fill(JSON.stringify(seed.policy));
    await page.getByRole('button', { name: 'Use this policy' }).click();
    await page.getByText('Policy webapp-release loaded.').waitFor();
    await page.getByRole('link', { name: 'Artifacts', exact: true }).click();
    const digest = `sha256:${seed.tampered.digest['sha256']!}`;
    await page.getByLabel('Name or digest').fill(digest);
    await page.getByLabel('Name or digest').press('Enter');
    await page.waitForURL(/q=sha256/);
    const rows = page.locator('table.artifacts tbody tr');
    // The previous list stays on screen until the search answers: wait for the one match.
    await page.locator('table.artifacts tbody tr', { hasText: seed.tampered.digest['sha256']!.slice(0, 12) }).waitFor();
    for (let i = 0; i < 100 && (await rows.count()) !== 1; i++) await page.waitForTimeout(100);
    assert.equal(await rows.count(), 1);
    await rows.first().getByRole('link').click();
    const verdict = page.getByTestId('verdict');
    await verdict.getByText('FAILED', { exact: true }).waitFor();
    const failed = await page.locator('.failed-rule').allTextContents();
    assert.ok(failed.some((f) => f.includes('hermetic builder') && f.includes('RULE_FAILED')), failed.join('\n'));
    assert.ok(failed.some((f) => f.includes('built from main')), failed.join('\n'));
    assert.ok(failed.some((f) => f.includes('sbom') && f.includes('ATTESTATION_MISSING')), failed.join('\n'));
    // The gate's past decision about it, from the audit log.
    await page.getByTestId('deployments').getByText('denied').waitFor();
    await shot('2-tampered-artifact');
  });

  it('opens the evidence graph: the failed step and the substituted dependency stand out, a node opens its attestation', async (t) => {
    if (!haveComponents(t, CHROMIUM)) return;
    await page.getByRole('link', { name: 'Evidence graph' }).click();
    await page.getByTestId('graph').waitFor();
    await page.getByTestId('verdict').getByText('FAILED', { exact: true }).waitFor();
    const failedNode = page.locator(`g.node.attestation.failed[data-ref="${ids[5]!}"]`);
    await failedNode.waitFor();
    assert.equal(await page.locator('g.node.mismatch').count(), 2, 'both lodash-4.17.21.tgz digests are marked');
    assert.equal(await page.locator('g.node.source').count(), 2, 'the source commits (webapp, lodash) are nodes');
    // Keyboard: focus the node and press Enter.
    await failedNode.focus();
    await page.keyboard.press('Enter');
    const panel = page.getByRole('complementary', { name: 'Selected node' });
    await panel.getByText('https://ci.example/self-hosted-runner').first().waitFor();
    await panel.getByText('verified').first().waitFor();
    // The deploy gate denied it: a deployment node, red, opening the decision and its reasons.
    const denied = page.locator('g.node.deployment.denied');
    await denied.waitFor();
    assert.equal(await page.locator('g.node.deployment').count(), 1);
    await denied.focus();
    await page.keyboard.press('Enter');
    await panel.getByTestId('deployment').getByText('Deployment denied').waitFor();
    await panel.getByTestId('deployment').getByText(/ATTESTATION_MISSING/).waitFor();
    await shot('3-evidence-graph');
  });

  it('answers which artifacts contain package X', async (t) => {
    if (!haveComponents(t, CHROMIUM)) return;
    await page.getByRole('link', { name: 'Vulnerabilities' }).click();
    await page.getByLabel('Package name or purl').fill('lodash');
    await page.getByRole('button', { name: 'Find artifacts' }).click();
    const answer = page.getByTestId('component-answer');
    await answer.getByText('1 artifact contains').waitFor();
    const link = answer.getByRole('link', { name: 'webapp-1.4.2.tgz' });
    assert.match(String(await link.getAttribute('href')), new RegExp(seed.good.digest['sha256']!));
    // The scan's finding with its VEX status.
    await page.getByText('GHSA-35jh-r3h4-6jhm').waitFor();
    await page.getByText('not_affected').waitFor();
    await shot('4-vulnerabilities');
  });

  it('follows a deep link to the honest build, whose graph passes; audit, log and rebuild views answer', async (t) => {
    if (!haveComponents(t, CHROMIUM)) return;
    await page.goto(`${base}/ui/graph/sha256:${seed.good.digest['sha256']!}?depth=3`);
    await page.getByTestId('verdict').getByText('PASSED', { exact: true }).waitFor();
    assert.equal(await page.locator('g.node.failed').count(), 0);
    assert.equal(await page.locator('g.node.mismatch').count(), 0);
    await page.locator('g.node.deployment:not(.denied)').waitFor();
    await page.getByRole('link', { name: 'Signing and audit' }).click();
    await page.getByTestId('audit-status').getByText('intact').waitFor();
    await page.getByRole('link', { name: 'Transparency log' }).click();
    await page.getByTestId('log-state').waitFor();
    await page.getByRole('link', { name: 'Rebuilds' }).click();
    await page.getByText('1 of 1 agree').waitFor();
    await shot('5-rebuilds');
  });

  it('shows a new attestation without a reload (polling)', async (t) => {
    if (!haveComponents(t, CHROMIUM)) return;
    await page.getByRole('link', { name: 'Artifacts', exact: true }).click();
    await page.getByRole('heading', { name: 'Artifacts' }).waitFor();
    const fresh = await envelope(h!.key, [{ name: 'webapp-1.4.3.tgz', digest: { sha256: sha('webapp-1.4.3') } }], 'https://slsa.dev/provenance/v1', { buildDefinition: {}, runDetails: {} });
    const res = await h!.inject({ method: 'POST', url: '/v1/attestations', token: h!.tokens.attester, headers: { 'content-type': 'application/json' }, payload: fresh });
    assert.equal(res.statusCode, 201);
    await page.getByRole('link', { name: 'webapp-1.4.3.tgz' }).waitFor({ timeout: 12_000 });
    await page.getByRole('status').getByText('New attestation').waitFor();
  });
});
