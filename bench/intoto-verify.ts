// Benchmark: `custody verify --layout` vs `in-toto-verify` (1.3.1) on the same supply chain:
// a 10-step layout, 10,000 artifacts per step, every step's materials MATCHed against the
// previous step's products. Both tools run as a user would (a fresh process each time), on
// identical files; median of --runs.
//
//   node_modules/.bin/node bench/intoto-verify.ts [--steps 10] [--artifacts 10000] [--runs 3] [--baseline DIR]
//
// --baseline DIR adds the custody of another checkout (DIR/bin/custody.js, e.g. a clone of the
// previous commit with node_modules linked) as a contender, for before/after figures in one run.
// Prints a Markdown table with the wall time, the CPU time (user + system of the child) and the
// ratios to in-toto-verify.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { digestBytes, generateKeyPair } from '../src/core/index.ts';
import {
  addSignature,
  formatLikeReference,
  layoutFromSpec,
  linkFileName,
  makeLink,
  metadataToJson,
  type SignedLayout,
  type SignedLink,
} from '../src/formats/index.ts';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    artifacts: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    baseline: { type: 'string' },
  },
});
const STEPS = Number(args.steps);
const ARTIFACTS = Number(args.artifacts);
const RUNS = Number(args.runs);
const CUSTODY = new URL('../bin/custody.js', import.meta.url).pathname;

function artifacts(step: number): Record<string, { sha256: string }> {
  const out: Record<string, { sha256: string }> = {};
  for (let i = 0; i < ARTIFACTS; i++) out[`pkg/dir${i % 100}/file${i}.js`] = { sha256: digestBytes(`${step}:${i}`) };
  return out;
}

async function build(dir: string): Promise<void> {
  const owner = generateKeyPair('ed25519');
  const functionary = generateKeyPair('ed25519');
  writeFileSync(join(dir, 'owner.pub'), owner.publicKey.pem);
  writeFileSync(join(dir, 'owner.sslib.pub'), JSON.stringify(owner.publicKey.toSecuresystemslib()));
  const steps = Array.from({ length: STEPS }, (_, s) => ({
    name: `step${s}`,
    functionaries: ['f'],
    materials: s === 0 ? ['ALLOW *'] : [`MATCH * WITH PRODUCTS FROM step${s - 1}`, 'DISALLOW *'],
    products: s === 0 ? ['CREATE *', 'DISALLOW *'] : ['MODIFY *', 'DISALLOW *'],
  }));
  const layout = layoutFromSpec({ expires: '30d', functionaries: { f: 'f' }, steps }, () => functionary.publicKey);
  const signedLayout = await addSignature<SignedLayout>({ type: 'layout', signed: layout, signatures: [] }, owner.signer());
  writeFileSync(join(dir, 'root.layout'), formatLikeReference(metadataToJson(signedLayout)));
  for (let s = 0; s < STEPS; s++) {
    const link = makeLink({ name: `step${s}`, materials: s === 0 ? {} : artifacts(s - 1), products: artifacts(s) });
    const signed = await addSignature<SignedLink>({ type: 'link', signed: link, signatures: [] }, functionary.signer());
    writeFileSync(join(dir, linkFileName(`step${s}`, functionary.publicKey.keyid)), formatLikeReference(metadataToJson(signed)));
  }
}

interface Timing {
  wall: number;
  cpu: number;
}

/** Wall time and CPU time (user + system, from /usr/bin/time) of one run. */
function time(argv: string[], cwd: string): Timing {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', ...argv], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${String(r.status)}:\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { wall, cpu: m === null ? NaN : Number(m[1]) + Number(m[2]) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const dir = mkdtempSync(join(tmpdir(), 'custody-bench-verify-'));
try {
  await build(dir);
  const verifyArgs = ['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub'];
  const contenders: [string, string[]][] = [
    ['in-toto-verify 1.3.1', ['in-toto-verify', '-l', 'root.layout', '-k', 'owner.sslib.pub', '-t', 'ed25519']],
    ['custody verify --layout', [process.execPath, CUSTODY, ...verifyArgs]],
    ['custody verify --layout --json (full report)', [process.execPath, CUSTODY, ...verifyArgs, '--json']],
  ];
  if (args.baseline !== undefined) {
    const before = join(args.baseline, 'bin', 'custody.js');
    contenders.push(['baseline: custody verify --layout', [process.execPath, before, ...verifyArgs]]);
    contenders.push(['baseline: custody verify --layout --json', [process.execPath, before, ...verifyArgs, '--json']]);
  }
  const loadAtStart = loadavg();
  const results = new Map<string, Timing[]>();
  for (let run = 0; run <= RUNS; run++) {
    for (const [name, argv] of contenders) {
      const t = time(argv, dir);
      if (run > 0) results.set(name, [...(results.get(name) ?? []), t]); // run 0 warms the page cache (and the compile cache)
    }
  }
  const wall = (name: string): number => median((results.get(name) ?? []).map((t) => t.wall));
  const cpu = (name: string): number => median((results.get(name) ?? []).map((t) => t.cpu));
  const reference = contenders[0]?.[0] ?? '';
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' ');
  console.log(`${STEPS} steps × ${ARTIFACTS} artifacts per link, median of ${RUNS} runs; load average ${load(loadAtStart)} at the start, ${load(loadavg())} at the end\n`);
  console.log('| verifier | wall | CPU (user+sys) | speed-up, wall | speed-up, CPU |\n|---|---:|---:|---:|---:|');
  for (const [name] of contenders) {
    console.log(
      `| ${name} | ${wall(name).toFixed(2)} s | ${cpu(name).toFixed(2)} s | ${(wall(reference) / wall(name)).toFixed(1)}× | ${(cpu(reference) / cpu(name)).toFixed(1)}× |`,
    );
  }
} finally {
  if (process.env.KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(dir);
}
