// Benchmark: `custody sbom` vs @cyclonedx/cyclonedx-npm on a large installed npm tree (≥3,000
// packages, installed with npm into a temporary directory at bench time; npm's cache makes
// re-runs fast), and on a workspaces monorepo. Both tools run as child processes, the same way a
// user runs them; the component purl sets are compared and every difference is printed.
//   node bench/sbom-vs-cyclonedx-npm.ts [--dir INSTALLED_TREE] [--runs 3] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { dir: { type: 'string' }, runs: { type: 'string', default: '3' }, keep: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const ROOT = new URL('../', import.meta.url).pathname;
const CYCLONEDX_NPM = join(ROOT, 'node_modules/@cyclonedx/cyclonedx-npm/bin/cyclonedx-npm-cli.js');

// Real, widely used projects whose dependency trees add up to more than 3,000 packages.
const BIG_TREE = {
  'react-scripts': '5.0.1',
  gatsby: '5.14.1',
  'firebase-tools': '13.29.1',
  '@angular/cli': '19.0.6',
  '@nestjs/cli': '10.4.9',
  expo: '52.0.23',
  '@vue/cli': '5.0.8',
};

function npmInstall(dir: string): void {
  execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--legacy-peer-deps'], { cwd: dir, stdio: 'ignore' });
}

function makeBigTree(base: string): string {
  const dir = join(base, 'big-tree');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-big-tree', version: '1.0.0', private: true, dependencies: BIG_TREE }, null, 2));
  npmInstall(dir);
  return dir;
}

function makeMonorepo(base: string): string {
  const dir = join(base, 'monorepo');
  const packages: Record<string, Record<string, string>> = {
    web: { 'react-scripts': BIG_TREE['react-scripts'] },
    site: { gatsby: BIG_TREE.gatsby },
    api: { '@nestjs/cli': BIG_TREE['@nestjs/cli'], '@bench/shared': '1.0.0' },
    shared: {},
  };
  for (const [name, dependencies] of Object.entries(packages)) {
    mkdirSync(join(dir, 'packages', name), { recursive: true });
    writeFileSync(join(dir, 'packages', name, 'package.json'), JSON.stringify({ name: `@bench/${name}`, version: '1.0.0', dependencies }, null, 2));
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-monorepo', version: '1.0.0', private: true, workspaces: ['packages/*'], devDependencies: { typescript: '5.7.2' } }, null, 2));
  npmInstall(dir);
  return dir;
}

function purls(components: unknown, out = new Set<string>()): Set<string> {
  if (!Array.isArray(components)) return out;
  for (const c of components as { purl?: string; components?: unknown }[]) {
    if (typeof c.purl === 'string') out.add(c.purl);
    purls(c.components, out);
  }
  return out;
}

function countComponents(components: unknown): number {
  if (!Array.isArray(components)) return 0;
  return (components as { components?: unknown }[]).reduce((n, c) => n + 1 + countComponents(c.components), 0);
}

/** Installed packages: lockfile entries under node_modules (what `npm ls --all` lists). */
function installedPackages(dir: string): number {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean }> };
  return Object.entries(lock.packages).filter(([k, v]) => k.includes('node_modules/') && v.link !== true).length;
}

function timeRun(command: string[], cwd: string): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, command, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${command.join(' ')} failed: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** custody through bin/custody.js when main.ts registers `sbom`, else through the command module. */
function custodyCommand(dir: string, out: string): string[] {
  const help = spawnSync(process.execPath, [join(ROOT, 'bin/custody.js'), 'sbom', '--help'], { encoding: 'utf8' });
  if (help.status === 0 && help.stdout.includes('CycloneDX 1.6')) return [join(ROOT, 'bin/custody.js'), 'sbom', dir, '--out', out, '--no-validate'];
  return [join(ROOT, 'test/materials/run-command.ts'), join(ROOT, 'src/cli/sbom.ts'), 'sbomCommand', dir, '--out', out, '--no-validate'];
}

function compare(label: string, dir: string, work: string): Record<string, unknown> {
  const ours = join(work, `${label}.custody.json`);
  const theirs = join(work, `${label}.cyclonedx-npm.json`);
  const custodyTimes: number[] = [];
  const peerTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    custodyTimes.push(timeRun(custodyCommand(dir, ours), dir));
    peerTimes.push(timeRun([CYCLONEDX_NPM, '--output-format', 'JSON', '--spec-version', '1.6', '--output-file', theirs, '--ignore-npm-errors'], dir));
  }
  const a = purls((JSON.parse(readFileSync(ours, 'utf8')) as { components: unknown }).components);
  const theirDoc = JSON.parse(readFileSync(theirs, 'utf8')) as { components: unknown };
  const b = purls(theirDoc.components);
  const onlyOurs = [...a].filter((p) => !b.has(p)).sort();
  const onlyTheirs = [...b].filter((p) => !a.has(p)).sort();
  const c = median(custodyTimes);
  const p = median(peerTimes);
  return {
    tree: label,
    installedPackages: installedPackages(dir),
    cyclonedxNpmComponents: countComponents(theirDoc.components),
    distinctPurls: a.size,
    custodyMs: Math.round(c),
    cyclonedxNpmMs: Math.round(p),
    speedup: Number((p / c).toFixed(1)),
    samePurlSet: onlyOurs.length === 0 && onlyTheirs.length === 0,
    onlyCustody: onlyOurs.slice(0, 20),
    onlyCyclonedxNpm: onlyTheirs.slice(0, 20),
  };
}

const work = mkdtempSync(join(tmpdir(), 'custody-bench-sbom-'));
try {
  const results = [];
  if (values.dir !== undefined) results.push(compare('given-tree', values.dir, work));
  else {
    const t = performance.now();
    const big = makeBigTree(work);
    const mono = makeMonorepo(work);
    console.error(`installed the trees in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    results.push(compare('big-tree', big, work), compare('workspaces-monorepo', mono, work));
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  if (values.keep) console.error(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
