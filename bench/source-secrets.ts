// Benchmark: `custody scan secrets` over a generated tree of ≥50,000 files, next to `git grep` for
// the rules' literal keywords (a search that finds candidates but checks nothing) as the floor.
//
//   node bench/source-secrets.ts [--files 50000] [--dir /tmp/custody-bench-source]
//
// The tree: 500 directories × 100 source-like files of 1–3 KB each, with 100 planted fake GitHub
// tokens (assembled at run time) that the scan must find, all of them and nothing else.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECRET_RULES } from '../src/source/index.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const FILES = Number(flag('--files', '50000'));
const ROOT = flag('--dir', '/tmp/custody-bench-source');
const CLI = fileURLToPath(new URL('../bin/custody.js', import.meta.url));
const PLANTED = 100;

let seed = 42;
const rnd = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed >>> 8;
};
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const word = (): string => ['value', 'index', 'config', 'request', 'result', 'buffer', 'handler', 'item', 'count', 'name', 'options', 'state'][rnd() % 12] as string;

function sourceFile(i: number): string {
  const lines: string[] = [`// generated file ${i}`, `import { ${word()} } from './${word()}.js';`];
  const n = 30 + (rnd() % 60);
  for (let l = 0; l < n; l++) {
    const r = rnd() % 6;
    if (r === 0) lines.push(`export function ${word()}${l}(${word()}, ${word()}) {`);
    else if (r === 1) lines.push(`  const ${word()}Id = "${(rnd() % 100000).toString(16)}-${word()}";`);
    else if (r === 2) lines.push(`  if (${word()}.length > ${rnd() % 100}) return ${word()};`);
    else if (r === 3) lines.push(`  // ${word()} the ${word()} before the ${word()} is used`);
    else if (r === 4) lines.push(`  const url = "https://example.com/${word()}/${rnd() % 1000}";`);
    else lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

function makeTree(dir: string, files: number): string {
  const tree = join(dir, `files-${files}`);
  if (existsSync(join(tree, '.git'))) return tree;
  mkdirSync(tree, { recursive: true });
  const perDir = 100;
  for (let i = 0; i < files; i++) {
    const d = join(tree, `pkg${Math.floor(i / perDir)}`);
    if (i % perDir === 0) mkdirSync(d, { recursive: true });
    let text = sourceFile(i);
    if (i % Math.floor(files / PLANTED) === 7) {
      let token = 'gh' + 'p_';
      for (let k = 0; k < 36; k++) token += ALNUM[rnd() % ALNUM.length];
      text += `const deployToken = "${token}";\n`;
    }
    writeFileSync(join(d, `m${i % perDir}.js`), text);
  }
  execFileSync('git', ['-C', tree, 'init', '-q']);
  execFileSync('git', ['-C', tree, 'add', '-A']);
  execFileSync('git', ['-C', tree, '-c', 'user.name=b', '-c', 'user.email=b@x', 'commit', '-q', '-m', 'bench']);
  return tree;
}

function time(cmd: string, argv: string[], runs: number): { seconds: number; status: number | null; stdout: string } {
  const samples: number[] = [];
  let last: ReturnType<typeof spawnSync> | undefined;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    last = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 30 });
    samples.push((performance.now() - t) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { seconds: samples[Math.floor(samples.length / 2)] as number, status: last?.status ?? null, stdout: String(last?.stdout ?? '') };
}

mkdirSync(ROOT, { recursive: true });
const tree = makeTree(ROOT, FILES);
const ours = time(process.execPath, [CLI, 'scan', 'secrets', '--repo', tree, '--format', 'json'], 3);
const report = JSON.parse(ours.stdout) as { findings: { ruleId: string }[]; filesScanned: number; bytesScanned: number };
if (ours.status !== 1 || report.findings.length !== PLANTED || report.findings.some((f) => f.ruleId !== 'github-token')) {
  throw new Error(`expected exactly ${PLANTED} github-token findings, got ${report.findings.length} (status ${ours.status})`);
}
// The floor: one pass of git grep over the same files for every rule's literal keyword.
const keywords = [...new Set(SECRET_RULES.flatMap((r) => r.keywords))].map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
const floor = time('git', ['-C', tree, 'grep', '-I', '-c', '-E', keywords.join('|')], 3);
const mb = report.bytesScanned / 1e6;
console.log(`| command | files | time | throughput |\n|---|---|---|---|`);
console.log(`| custody scan secrets (${SECRET_RULES.length} rules, ${PLANTED}/${PLANTED} planted found, 0 false positives) | ${report.filesScanned} | ${ours.seconds.toFixed(2)} s | ${(mb / ours.seconds).toFixed(0)} MB/s |`);
console.log(`| git grep -I -c -E '<${keywords.length} rule keywords>' (floor: candidates only) | ${report.filesScanned} | ${floor.seconds.toFixed(2)} s | ${(mb / floor.seconds).toFixed(0)} MB/s |`);
console.log(`\nratio (custody / git grep): ${(ours.seconds / floor.seconds).toFixed(1)}× (${mb.toFixed(0)} MB)`);
