// Benchmark: `custody verify --layout` vs `in-toto-verify` (1.3.1) on the same supply chain:
// a 10-step layout, 10,000 artifacts per step, every step's materials MATCHed against the
// previous step's products. Both tools run as a user would (a fresh process each time), on
// identical files; median of --runs.
//
//   node_modules/.bin/node bench/intoto-verify.ts [--steps 10] [--artifacts 10000] [--runs 3]
//
// Prints a Markdown table with the ratio.
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

function time(argv: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0] ?? 'false', argv.slice(1), { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${String(r.status)}:\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const dir = mkdtempSync(join(tmpdir(), 'custody-bench-verify-'));
try {
  await build(dir);
  const contenders: [string, string[]][] = [
    ['in-toto-verify 1.3.1', ['in-toto-verify', '-l', 'root.layout', '-k', 'owner.sslib.pub', '-t', 'ed25519']],
    ['custody verify --layout', [process.execPath, CUSTODY, 'verify', '--layout', 'root.layout', '--layout-key', 'owner.pub', '--json']],
  ];
  const results = new Map<string, number[]>();
  for (let run = 0; run <= RUNS; run++) {
    for (const [name, argv] of contenders) {
      const t = time(argv, dir);
      if (run > 0) results.set(name, [...(results.get(name) ?? []), t]); // run 0 warms the page cache
    }
  }
  const reference = median(results.get('in-toto-verify 1.3.1') ?? []);
  console.log(`${STEPS} steps × ${ARTIFACTS} artifacts per link, median of ${RUNS} runs, load average ${loadavg()[0]?.toFixed(1) ?? '?'}\n`);
  console.log('| verifier | time | speed-up vs in-toto-verify |\n|---|---|---|');
  for (const [name] of contenders) {
    const m = median(results.get(name) ?? []);
    console.log(`| ${name} | ${m.toFixed(2)} s | ${(reference / m).toFixed(1)}× |`);
  }
} finally {
  if (process.env.KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(dir);
}
