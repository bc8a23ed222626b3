// Dashboard benchmark (issue 14): time to interactive of the artifact list and of an evidence
// graph of ~1,000 nodes, with 10,000 artifacts stored; bundle size. Peers measured in the same
// run: the API requests the views make, timed from Node (the floor any UI pays), and the
// server's static /docs page in the same browser (the floor of a page load).
//
//   node_modules/.bin/node bench/dashboard.ts [--artifacts 10000] [--libs 333] [--runs 5]
//
// Also: a name search that must read every stored summary (the oldest artifact's name).
//
// "Interactive" = the view's content is in the DOM (list rows / every graph node) and the page's
// main thread answers an evaluate() call; the time is performance.now() then (from navigation
// start). Chromium: /usr/bin/chromium (Debian), driven by playwright-core.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { loadavg } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { generateKeyPair } from '../src/core/index.ts';
import { startHarness } from '../test/support/server-harness.ts';
import { ROOT, buildDashboard, launch } from '../test/web/browser.ts';
import { SLSA_V1, commit, envelope, provenance, sha } from '../test/web/seed.ts';

const { values } = parseArgs({ options: { artifacts: { type: 'string', default: '10000' }, libs: { type: 'string', default: '333' }, runs: { type: 'string', default: '5' } } });
const ARTIFACTS = Number(values.artifacts);
const LIBS = Number(values.libs);
const RUNS = Number(values.runs);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function bundle(): { files: number; raw: number; gzip: number } {
  const dir = join(ROOT, 'web', 'dist', 'assets');
  let raw = 0;
  let gzip = 0;
  const names = readdirSync(dir);
  for (const n of names) {
    raw += statSync(join(dir, n)).size;
    gzip += gzipSync(readFileSync(join(dir, n)), { level: 9 }).length;
  }
  const index = readFileSync(join(ROOT, 'web', 'dist', 'index.html'));
  return { files: names.length + 1, raw: raw + index.length, gzip: gzip + gzipSync(index).length };
}

buildDashboard();
const h = await startHarness({ configure: (c) => (c.limits.requestsPerMinute = 1_000_000) });
const builder = generateKeyPair('ed25519');
const upload = async (lines: string[]): Promise<void> => {
  for (let i = 0; i < lines.length; i += 1000) {
    const res = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/x-ndjson' }, payload: lines.slice(i, i + 1000).join('\n') });
    if (res.statusCode !== 200) throw new Error(`upload failed: ${res.statusCode} ${res.body.slice(0, 300)}`);
  }
};

// The evidence graph: an application built from LIBS libraries, each built from its own commit.
// Nodes: 1 app + 1 app build + LIBS × (library, its build, its source commit) = 3·LIBS + 2.
const seedStart = performance.now();
const libs = Array.from({ length: LIBS }, (_, i) => ({ name: `lib-${i}-1.0.0.tgz`, digest: { sha256: sha(`lib ${i}`) } }));
const app = { name: 'big-app-2.0.0.tgz', digest: { sha256: sha('big app') } };
const graphLines: string[] = [];
for (const [i, lib] of libs.entries()) {
  graphLines.push(await envelope(builder, [lib], SLSA_V1, provenance({ subject: lib, builder: 'https://ci.example/hermetic', ref: 'refs/heads/main', sourceCommit: commit(`lib ${i}`), dependencies: [] })));
}
graphLines.push(await envelope(builder, [app], SLSA_V1, provenance({ subject: app, builder: 'https://ci.example/hermetic', ref: 'refs/heads/main', sourceCommit: commit('big app'), dependencies: libs })));
await upload(graphLines);
const bulk: string[] = [];
for (let i = graphLines.length; i < ARTIFACTS; i++) {
  const subject = { name: `service-${i}-1.0.${i % 97}.tgz`, digest: { sha256: sha(`artifact ${i}`) } };
  bulk.push(await envelope(builder, [subject], SLSA_V1, provenance({ subject, builder: 'https://ci.example/hermetic', ref: 'refs/heads/main', sourceCommit: commit(`artifact ${i}`), dependencies: [] })));
}
await upload(bulk);
const seedSeconds = (performance.now() - seedStart) / 1000;
const base = (await h.app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
const token = h.tokens.reader;
const rootDigest = `sha256:${app.digest.sha256}`;

async function apiTime(path: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await r.arrayBuffer();
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return performance.now() - t0;
}

// Diagnostic: the store's one-query-per-level graph lookup (src/store/sqlite.ts
// attestationsBySubjects) for the graph's widest level, as written and with json_each forced to be
// the outer loop (CROSS JOIN), on a read-only connection to the same database.
function planTimes(): { asWrittenMs: number; crossJoinMs: number; rows: number } {
  const db = new DatabaseSync(join(h.config.dataDir, 'custody.db'), { readOnly: true });
  const list = JSON.stringify(libs.map((l) => ['sha256', l.digest.sha256]));
  const query = (join: string): { ms: number; rows: number } => {
    const sql = `SELECT DISTINCT a.seq FROM json_each(?) d ${join} attestation_subjects s ON s.namespace = ? AND s.algorithm = d.value ->> 0 AND s.value = d.value ->> 1 JOIN attestations a ON a.seq = s.seq ORDER BY a.seq DESC LIMIT ?`;
    const t0 = performance.now();
    const rows = db.prepare(sql).all(list, 'default', 100_000).length;
    return { ms: performance.now() - t0, rows };
  };
  const asWritten = query('JOIN');
  const cross = query('CROSS JOIN');
  db.close();
  return { asWrittenMs: Math.round(asWritten.ms), crossJoinMs: Number(cross.ms.toFixed(1)), rows: cross.rows };
}
const plan = planTimes();

const browser = await launch();
async function tti(url: string, selector: string, count: number): Promise<{ ms: number; count: number }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript((t: string) => sessionStorage.setItem('custody.token', t), token);
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(url, { waitUntil: 'commit' });
  await page.locator(selector).nth(count - 1).waitFor({ state: 'attached' });
  const ms = await page.evaluate(() => performance.now());
  const n = await page.locator(selector).count();
  await context.close();
  return { ms, count: n };
}

const rows: Record<string, number[]> = { list: [], listApi: [], search: [], searchApi: [], graph: [], graphApi: [], docs: [] };
// The oldest bulk artifact: a name search has to read every stored summary to find it.
const oldest = `service-${graphLines.length}-1.0.`;
let graphNodes = 0;
let listRows = 0;
for (let run = 0; run <= RUNS; run++) {
  const list = await tti(`${base}/ui/artifacts`, 'table.artifacts tbody tr', 1);
  const listApi = await apiTime('/v1/artifacts?namespace=default&limit=200');
  const search = await tti(`${base}/ui/artifacts?q=${oldest}`, 'table.artifacts tbody tr', 1);
  const searchApi = await apiTime(`/v1/artifacts?namespace=default&limit=200&q=${oldest}`);
  const graph = await tti(`${base}/ui/graph/${rootDigest}?depth=2`, 'g.node', 3 * LIBS + 2);
  const graphApi = await apiTime(`/v1/artifacts/${rootDigest}/graph?namespace=default&depth=2`);
  const docs = await tti(`${base}/docs`, 'table tr', 1);
  if (run === 0) continue; // warm-up: first compile of the bundle, SQLite page cache
  rows['list']!.push(list.ms);
  rows['listApi']!.push(listApi);
  rows['search']!.push(search.ms);
  rows['searchApi']!.push(searchApi);
  rows['graph']!.push(graph.ms);
  rows['graphApi']!.push(graphApi);
  rows['docs']!.push(docs.ms);
  graphNodes = graph.count;
  listRows = list.count;
}
await browser.close();
await h.close();

const b = bundle();
const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)])) as Record<string, number>;
const out = {
  stored: { artifacts: ARTIFACTS, seedSeconds: Number(seedSeconds.toFixed(1)) },
  artifactList: { rows: listRows, ttiMs: Math.round(m['list']!), apiMs: Math.round(m['listApi']!), docsPageMs: Math.round(m['docs']!), ratioToApi: Number((m['list']! / m['listApi']!).toFixed(2)), ratioToDocsPage: Number((m['list']! / m['docs']!).toFixed(2)) },
  nameSearchOfOldest: { ttiMs: Math.round(m['search']!), apiMs: Math.round(m['searchApi']!), ratioToApi: Number((m['search']! / m['searchApi']!).toFixed(2)) },
  evidenceGraph: { nodes: graphNodes, ttiMs: Math.round(m['graph']!), apiMs: Math.round(m['graphApi']!), ratioToApi: Number((m['graph']! / m['graphApi']!).toFixed(2)) },
  storeGraphLevelQuery: plan,
  bundle: { files: b.files, rawKiB: Number((b.raw / 1024).toFixed(1)), gzipKiB: Number((b.gzip / 1024).toFixed(1)) },
  runs: RUNS,
  load: loadavg().map((x) => Number(x.toFixed(2))),
};
console.log(JSON.stringify(out, null, 2));
