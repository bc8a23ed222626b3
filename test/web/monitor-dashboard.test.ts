// The log monitor in the dashboard (playwright-core driving Debian's chromium, against the real
// server): the Transparency log view shows the monitored log as consistent; after a tile of the
// log is tampered with on disk, the monitor's alarm appears without a reload — a banner on every
// view, reachable by keyboard, and the alarm in the Log view's table. Screenshot: test/web/out/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { haveComponents } from '../support/components.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';
import { CHROMIUM, ROOT, buildDashboard, launch } from './browser.ts';

const OUT = join(ROOT, 'test', 'web', 'out');

describe('log monitor alarms in the dashboard', { timeout: 60_000 }, () => {
  let h: Harness | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) return;
    buildDashboard();
    h = await startHarness({
      configure: (config) => {
        config.monitor.intervalMs = 250;
      },
    });
    const entries = Array.from({ length: 12 }, (_, i) => Buffer.from(`entry ${i}`).toString('base64'));
    const res = await h.inject({ method: 'POST', url: '/v1/log/entries', token: h.tokens.attester, headers: { 'content-type': 'application/json' }, payload: { entries } });
    assert.equal(res.statusCode, 200, res.body);
    base = (await h.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(15_000);
    mkdirSync(OUT, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  it('shows the log as consistent, then the alarm after a tile is tampered with', async (t) => {
    if (!haveComponents(t, CHROMIUM)) return;
    await page.goto(`${base}/ui/log`);
    await page.getByLabel('API token').fill(h!.tokens.reader);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.goto(`${base}/ui/log`);
    const card = page.getByTestId('monitored-log');
    await card.getByText('consistent').waitFor();
    await card.getByText('12 entries, verified').waitFor();
    assert.equal(await page.getByTestId('alarm-banner').count(), 0);

    // An attacker rewrites a hash tile of the log in place.
    const tile = join(h!.config.dataDir, 'log', 'tile', '0', '000.p', '12');
    const bytes = readFileSync(tile);
    bytes[5]! ^= 0xff;
    writeFileSync(tile, bytes);

    // Without a reload: the banner, then the alarm in the table (the view re-reads on a new alarm).
    const banner = page.getByTestId('alarm-banner');
    await banner.getByText('tiles do not match the checkpoint').waitFor();
    await card.getByText('ALARM').waitFor();
    const row = page.getByTestId('alarms').locator('tbody tr').first();
    await row.getByText('tile-mismatch').waitFor();
    assert.match(await row.innerText(), /TILE_INVALID/);
    await page.getByRole('status').getByText('Transparency log alarm').waitFor();
    await page.screenshot({ path: join(OUT, '6-log-alarm.png'), fullPage: false });

    // The banner stays on every view, and its link leads back to the monitor by keyboard.
    await page.getByRole('link', { name: 'Artifacts', exact: true }).click();
    await page.getByRole('heading', { name: 'Artifacts' }).waitFor();
    await banner.waitFor();
    await banner.getByRole('link', { name: 'See the monitor' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/log$/);
    await page.getByRole('heading', { name: 'Monitor' }).waitFor();
  });
});
