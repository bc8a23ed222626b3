// Benchmark: matching 3,000 SBOM components against an index of ≥50,000 generated OSV advisories.
// Reports the SQLite index build (import) time and memory, and the time of one scan once the
// index is built (target < 100 ms): a cold scan in a fresh process (what `custody scan vulns`
// does: open the index, look up, evaluate, read the hits' records), repeated scans on one
// connection, and scans of the in-memory index.
//   node bench/sbom-vuln-matching.ts [--advisories 50000] [--components 3000] [--runs 7]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseOsvRecord } from '../src/formats/index.ts';
import { MemoryAdvisories, OsvDatabase, scanComponents, type ScanComponent } from '../src/vuln/index.ts';

const { values } = parseArgs({ options: { advisories: { type: 'string', default: '50000' }, components: { type: 'string', default: '3000' }, runs: { type: 'string', default: '7' }, 'cold-scan': { type: 'string' } } });
const ADVISORIES = Number(values.advisories);
const COMPONENTS = Number(values.components);
const RUNS = Number(values.runs);

// A deterministic generator (mulberry32), so every run sees the same data.
let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (n: number): number => Math.floor(random() * n);

// Package names: 20,000 npm names, a few scoped; advisories name them with realistic ranges.
const PACKAGES = 20_000;
const names = Array.from({ length: PACKAGES }, (_, i) => (i % 10 === 0 ? `@scope${i % 97}/pkg-${i}` : `pkg-${i}`));
function advisory(i: number): Record<string, unknown> {
  const name = names[pick(PACKAGES)]!;
  const major = pick(5);
  const ranges = [{ type: 'SEMVER', events: [{ introduced: `${major}.0.0` }, { fixed: `${major}.${1 + pick(9)}.${pick(10)}` }] }];
  if (random() < 0.3) ranges.push({ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: `0.${1 + pick(9)}.0` }] });
  return {
    id: `BENCH-${i}`,
    modified: '2024-01-01T00:00:00Z',
    aliases: [`CVE-2099-${i}`],
    summary: `generated advisory ${i}`,
    severity: [{ type: 'CVSS_V3', score: random() < 0.5 ? 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' : 'CVSS:3.1/AV:N/AC:H/PR:L/UI:R/S:U/C:L/I:L/A:N' }],
    affected: [{ package: { ecosystem: 'npm', name }, ranges, ...(random() < 0.1 ? { versions: ['9.9.9'] } : {}) }],
    references: [{ type: 'ADVISORY', url: `https://example.com/BENCH-${i}` }],
  };
}
const components: ScanComponent[] = Array.from({ length: COMPONENTS }, () => {
  const name = names[pick(PACKAGES)]!;
  const version = `${pick(5)}.${pick(10)}.${pick(10)}`;
  const purl = name.startsWith('@') ? `pkg:npm/%40${name.slice(1)}@${version}` : `pkg:npm/${name}@${version}`;
  return { ref: purl, name, version, purl };
});

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timedScan(db: OsvDatabase): { wallMs: number; cpuMs: number; findings: number } {
  const t0 = performance.now();
  const cpu = process.cpuUsage();
  const res = scanComponents(db, components, [], 'bench');
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000, findings: res.active.length };
}

// Child mode: one scan on a fresh connection in a fresh process (no warm caches at all).
if (values['cold-scan'] !== undefined) {
  const t0 = performance.now();
  const cpu = process.cpuUsage();
  const db = new OsvDatabase(values['cold-scan']);
  const r = timedScan(db);
  const used = process.cpuUsage(cpu);
  db.close();
  console.log(JSON.stringify({ ...r, withOpenWallMs: performance.now() - t0, withOpenCpuMs: (used.user + used.system) / 1000 }));
  process.exit(0);
}

function coldScans(path: string): { wallMs: number; minWallMs: number; cpuMs: number; findings: number } {
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--components', String(COMPONENTS), '--cold-scan', path], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    runs.push(JSON.parse(r.stdout) as { withOpenWallMs: number; withOpenCpuMs: number; findings: number });
  }
  return { wallMs: Number(median(runs.map((r) => r.withOpenWallMs)).toFixed(1)), minWallMs: Number(Math.min(...runs.map((r) => r.withOpenWallMs)).toFixed(1)), cpuMs: Number(median(runs.map((r) => r.withOpenCpuMs)).toFixed(1)), findings: runs[0]!.findings };
}

const dir = mkdtempSync(join(tmpdir(), 'custody-bench-osv-'));
try {
  const records = Array.from({ length: ADVISORIES }, (_, i) => advisory(i));
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  let t = performance.now();
  const db = new OsvDatabase(join(dir, 'osv.sqlite'));
  const report = db.importRecords(records.map((json, i) => ({ json, where: `#${i}` })));
  const buildMs = performance.now() - t;
  const rss1 = process.memoryUsage().rss;
  const scanTimes: number[] = [];
  const scanCpu: number[] = [];
  let findings = 0;
  for (let r = 0; r <= RUNS; r++) {
    const res = timedScan(db);
    // The first run fills the connection's compiled-package and record caches.
    if (r > 0) {
      scanTimes.push(res.wallMs);
      scanCpu.push(res.cpuMs);
    }
    findings = res.findings;
  }
  const cold = coldScans(join(dir, 'osv.sqlite'));
  if (cold.findings !== findings) throw new Error(`cold scan found ${cold.findings}, repeated scans ${findings}`);
  db.close();
  t = performance.now();
  const memory = new MemoryAdvisories(records.map((r) => parseOsvRecord(r)));
  const memBuildMs = performance.now() - t;
  const memTimes: number[] = [];
  const memCpu: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    t = performance.now();
    const cpu = process.cpuUsage();
    scanComponents(memory, components, [], 'bench');
    const used = process.cpuUsage(cpu);
    if (r > 0) {
      memTimes.push(performance.now() - t);
      memCpu.push((used.user + used.system) / 1000);
    }
  }
  const rss2 = process.memoryUsage().rss;
  console.log(JSON.stringify({
    advisories: ADVISORIES,
    components: COMPONENTS,
    imported: report.imported,
    findings,
    sqlite: { buildMs: Math.round(buildMs), rssGrowth: mb(rss1 - rss0), fileSize: mb(statSync(join(dir, 'osv.sqlite')).size), coldScanFreshProcess: cold, repeatedScanMedianMs: Number(median(scanTimes).toFixed(1)), repeatedScanMinMs: Number(Math.min(...scanTimes).toFixed(1)), repeatedScanMedianCpuMs: Number(median(scanCpu).toFixed(1)) },
    memory: { buildMs: Math.round(memBuildMs), rssGrowth: mb(rss2 - rss1), scanMedianMs: Number(median(memTimes).toFixed(1)), scanMinMs: Number(Math.min(...memTimes).toFixed(1)), scanMedianCpuMs: Number(median(memCpu).toFixed(1)) },
  }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
