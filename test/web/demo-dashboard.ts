// The dashboard on the end-to-end demo's data (issue 14's must-show), in Debian's chromium driven
// by playwright-core. test/demo/demo.test.ts calls it after the honest run and the attacks it
// already plays have uploaded their evidence (`custody demo --server`), so the demo runs once for
// both tests: log in, find the demo's artifact, load the demo's release policy, find the artifact
// the compromised-build attack made (its rebuild disagreed), see the failed rule in its verdict
// and its evidence graph, read diffoscope's report, answer "which artifacts contain lodash" (the
// vulnerable-dependency attack's SBOM). Screenshots: test/web/out/demo-*.png.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, buildDashboard, launch } from './browser.ts';

const OUT = join(ROOT, 'test', 'web', 'out');

export interface DemoDashboardInput {
  /** The custody server the demo uploaded to (http://127.0.0.1:PORT). */
  url: string;
  /** A token that may read the namespace `default` (and the audit: admin). */
  token: string;
  /** The demo's release policy (the payload of its signed policies/release.policy.json). */
  policy: Record<string, unknown>;
  /** sha256 hex of the honest run's package. */
  honestDigest: string;
}

export async function dashboardOnDemo(input: DemoDashboardInput): Promise<void> {
  buildDashboard();
  mkdirSync(OUT, { recursive: true });
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(20_000);
    await steps(page, input);
  } finally {
    await browser.close();
  }
}

async function steps(page: Page, input: DemoDashboardInput): Promise<void> {
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(OUT, `demo-${name}.png`) });
  const base = input.url.replace('localhost', '127.0.0.1');

  // Log in.
  await page.goto(`${base}/`);
  await page.getByLabel('API token').fill(input.token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Artifacts' }).waitFor();

  // The demo's release policy: what the signing service and the consumer require.
  await page.getByRole('link', { name: 'Policy', exact: true }).click();
  await page.getByLabel('Policy (JSON)').fill(JSON.stringify(input.policy));
  await page.getByRole('button', { name: 'Use this policy' }).click();
  await page.getByText('Policy greeter-release loaded.').waitFor();

  // Find the demo's package by name: the honest build and the attacks' builds of the same name.
  await page.getByRole('link', { name: 'Artifacts', exact: true }).click();
  await page.getByLabel('Name or digest').fill('greeter-1.0.0.tgz');
  await page.getByLabel('Name or digest').press('Enter');
  await page.waitForURL(/q=greeter/);
  const honestRow = page.locator('table.artifacts tbody tr', { hasText: input.honestDigest.slice(0, 12) });
  await honestRow.waitFor();
  await shot('1-artifacts');
  await honestRow.getByRole('link').first().click();
  // The honest package passes the release policy, its pre-build checks found through their materials.
  await page.getByTestId('verdict').getByText('PASSED', { exact: true }).waitFor();
  assert.deepEqual(await page.locator('.failed-rule').allTextContents(), []);
  await shot('2-honest-artifact');

  // Rebuilds: the compromised build's package is the one no rebuilder reproduced; diffoscope says why.
  await page.getByRole('link', { name: 'Rebuilds' }).click();
  // The compromised build machine added a line to dist/index.js: diffoscope's report shows it.
  const report = page.getByTestId('diffoscope').first();
  await report.getByText('diffoscope report').click();
  await report.getByText(/collector\.evil\.example/).waitFor();
  const disagreed = page.locator('tr', { hasText: 'greeter-1.0.0.tgz' }).filter({ hasText: '0 of 1 agree' });
  await disagreed.waitFor();
  await shot('3-rebuilds');
  await disagreed.getByRole('link').first().click();

  // Its verdict under the release policy fails on the rebuild requirement.
  await page.waitForURL(/\/ui\/artifacts\/sha256:/);
  assert.ok(!page.url().includes(input.honestDigest), 'the disagreeing artifact is not the honest one');
  await page.getByTestId('verdict').getByText('FAILED', { exact: true }).waitFor();
  const failed = await page.locator('.failed-rule').allTextContents();
  assert.ok(failed.some((f) => f.includes('rebuild') && f.includes('RULE_FAILED')), failed.join('\n'));
  await shot('4-compromised-artifact');

  // Its evidence graph: the rebuilder's failed VSA stands out; a node opens its attestation.
  await page.getByRole('link', { name: 'Evidence graph' }).click();
  await page.getByTestId('graph').waitFor();
  await page.getByTestId('verdict').getByText('FAILED', { exact: true }).waitFor();
  const failedNode = page.locator('g.node.attestation.failed').first();
  await failedNode.waitFor();
  await failedNode.focus();
  await page.keyboard.press('Enter');
  const panel = page.getByRole('complementary', { name: 'Selected node' });
  await panel.getByText('https://rebuild.example/independent').first().waitFor();
  await shot('5-evidence-graph');

  // Which artifacts contain lodash: the vulnerable-dependency attack's package (its SBOM).
  await page.getByRole('link', { name: 'Vulnerabilities' }).click();
  await page.getByLabel('Package name or purl').fill('lodash');
  await page.getByRole('button', { name: 'Find artifacts' }).click();
  const answer = page.getByTestId('component-answer');
  await answer.getByText(/artifacts? contains?/).waitFor();
  await answer.getByRole('link', { name: /greeter-1\.0\.0\.tgz/ }).first().waitFor();
  await answer.getByText('4.17.20').first().waitFor();
  // The scanner's finding about it (GHSA-35jh-r3h4-6jhm, lodash < 4.17.21).
  await page.getByText('GHSA-35jh-r3h4-6jhm').first().waitFor();
  await shot('6-which-artifacts-contain-lodash');
}
