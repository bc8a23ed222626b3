// Benchmark: hashing artifacts for `custody run` (recordArtifacts) side by side with in-toto-run
// 1.3.1 and an OpenSSL floor, on (a) a node_modules-like tree of many small files and (b) a few
// very large files. Warm page cache (one warm-up pass of every contender), median of --runs.
//
//   node_modules/.bin/node bench/run-hashing.ts [--files 100000] [--big-files 32] [--big-mib 64]
//     [--runs 3] [--only a|b] [--dir /tmp] [--keep] [--baseline DIR]
//
// --baseline DIR adds the recordArtifacts of another checkout (DIR/src/attest/index.ts, e.g. a
// copy of the previous commit with node_modules linked) as contenders, so before and after are
// measured in the same run and under the same load.
//
// Prints a Markdown table with ratios; the trees are made in a temp directory and removed after.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type * as attest from '../src/attest/index.ts';
import { createStatCache, recordArtifacts } from '../src/attest/index.ts';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    'big-files': { type: 'string', default: '32' },
    'big-mib': { type: 'string', default: '64' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    dir: { type: 'string', default: tmpdir() },
    keep: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const baseline: typeof attest | null =
  args.baseline === undefined ? null : ((await import(join(args.baseline, 'src/attest/index.ts'))) as typeof attest);
const RUNS = Number(args.runs);

/** Deterministic PRNG (LCG), so every run builds the same tree shape. */
function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * (a) node_modules-like: packages with nested directories, a package.json and a README each,
 * file sizes log-normal (median 2.5 KB, a few hundred bytes to a few MB, mean ≈ 10 KB), and a
 * .bin directory of symlinks into the packages.
 */
function buildSmallTree(root: string, target: number): { files: number; bytes: number } {
  const rnd = prng(42);
  const pool = randomBytes(8 << 20);
  const size = (): number => {
    const z = Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd());
    return Math.max(40, Math.min(Math.round(Math.exp(Math.log(2500) + 1.6 * z)), 4 << 20));
  };
  const nm = join(root, 'node_modules');
  mkdirSync(join(nm, '.bin'), { recursive: true });
  let files = 0;
  let bytes = 0;
  const put = (path: string, n: number): void => {
    const off = Math.floor(rnd() * (pool.length - n));
    writeFileSync(path, pool.subarray(off, off + n));
    files++;
    bytes += n;
  };
  for (let p = 0; files < target; p++) {
    const pkg = join(nm, p % 7 === 0 ? `@scope-${p % 13}/pkg-${p}` : `pkg-${p}`);
    const dirs = [pkg];
    const count = 20 + Math.floor(rnd() * 180);
    for (let d = 0; d < 1 + count / 12; d++) dirs.push(join(dirs[Math.floor(rnd() * dirs.length)]!, ['lib', 'dist', 'src', 'esm', 'cjs', 'types'][d % 6]! + d));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    put(join(pkg, 'package.json'), 300 + Math.floor(rnd() * 1500));
    put(join(pkg, 'README.md'), size());
    for (let i = 0; i < count && files < target; i++) {
      const ext = ['.js', '.d.ts', '.map', '.json', '.mjs', '.cjs'][i % 6]!;
      const file = join(dirs[Math.floor(rnd() * dirs.length)]!, `f${i}${ext}`);
      put(file, size());
      if (i === 0 && p % 5 === 0) symlinkSync(relative(join(nm, '.bin'), file), join(nm, '.bin', `bin-${p}`));
    }
  }
  return { files, bytes };
}

/** (b) a few large files. */
function buildBigTree(root: string, count: number, mib: number): { files: number; bytes: number } {
  const chunk = randomBytes(8 << 20);
  for (let i = 0; i < count; i++) {
    const fd = openSync(join(root, `blob-${i}.bin`), 'w');
    for (let written = 0; written < mib << 20; written += chunk.length) {
      chunk[0] = i; // distinct files
      writeSync(fd, chunk, 0, Math.min(chunk.length, (mib << 20) - written));
    }
    closeSync(fd);
  }
  return { files: count, bytes: count * (mib << 20) };
}

/** Wall and CPU (user + sys, all threads and child processes) time of one run, in ms. */
interface Timing {
  wall: number;
  cpu: number;
}

function timeProcess(command: string, argv: string[], cwd: string): Timing {
  // bash's `time` reports the CPU of the command and every child it waited for.
  const quoted = [command, ...argv].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const start = performance.now();
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; time ( ${quoted} >/dev/null 2>/tmp/.custody-bench-err-$$ )`], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HOME: cwd },
  });
  const wall = performance.now() - start;
  const err = r.stderr.toString().trim().split('\n');
  const [user, sys] = (err.at(-1) ?? '').split(' ').map(Number);
  if (r.status !== 0 || user === undefined || sys === undefined || Number.isNaN(user)) {
    throw new Error(`${command} failed (${r.status}): ${err.join('\n').slice(0, 500)}`);
  }
  return { wall, cpu: (user + sys) * 1000 };
}

async function timeAsync(fn: () => Promise<unknown>): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await fn();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Contender {
  name: string;
  run: () => Promise<Timing>;
}

async function benchTree(label: string, tree: string, work: string, key: string): Promise<Map<string, Timing>> {
  const outDir = join(work, 'links');
  mkdirSync(outDir, { recursive: true });
  const inToto = (extra: string[]): Promise<Timing> => {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir);
    return Promise.resolve(timeProcess('in-toto-run', ['-n', 'step', '-k', key, '-t', 'ed25519', '-x', '-d', outDir, ...extra], tree));
  };
  const child = join(work, 'child.mts');
  const contenders: Contender[] = [
    { name: 'in-toto-run -m .', run: () => inToto(['-m', '.']) },
    { name: 'in-toto-run -m . -p .', run: () => inToto(['-m', '.', '-p', '.']) },
    { name: 'recordArtifacts materials', run: () => timeAsync(() => recordArtifacts(['.'], { basePath: tree })) },
    {
      name: 'recordArtifacts materials+products (stat cache)',
      run: () =>
        timeAsync(async () => {
          const cache = createStatCache();
          await recordArtifacts(['.'], { basePath: tree, cache });
          await recordArtifacts(['.'], { basePath: tree, cache });
        }),
    },
    ...(baseline === null
      ? []
      : [
          {
            name: 'baseline: recordArtifacts materials',
            run: () => timeAsync(() => baseline.recordArtifacts(['.'], { basePath: tree })),
          },
          {
            name: 'baseline: recordArtifacts materials+products (stat cache)',
            run: () =>
              timeAsync(async () => {
                const cache = baseline.createStatCache();
                await baseline.recordArtifacts(['.'], { basePath: tree, cache });
                await baseline.recordArtifacts(['.'], { basePath: tree, cache });
              }),
          },
        ]),
    {
      name: 'recordArtifacts materials, fresh node process',
      run: () => Promise.resolve(timeProcess(process.execPath, [child, tree], tree)),
    },
    {
      name: 'floor: find | xargs -P2 -n500 openssl dgst -sha256',
      run: () =>
        Promise.resolve(
          timeProcess('sh', ['-c', 'find . -type f -print0 | xargs -0 -P2 -n500 openssl dgst -sha256 > /dev/null'], tree),
        ),
    },
  ];
  writeFileSync(
    child,
    `import { recordArtifacts } from ${JSON.stringify(new URL('../src/attest/index.ts', import.meta.url).pathname)};\n` +
      'await recordArtifacts(["."], { basePath: process.argv[2] });\n',
  );
  const times = new Map<string, Timing[]>(contenders.map((c) => [c.name, []]));
  process.stderr.write(`[${label}] warm-up\n`);
  for (const c of contenders) await c.run();
  for (let r = 0; r < RUNS; r++) {
    for (const c of contenders) {
      const t = await c.run();
      times.get(c.name)!.push(t);
      process.stderr.write(`[${label}] run ${r + 1}: ${c.name}: ${t.wall.toFixed(0)} ms wall, ${t.cpu.toFixed(0)} ms cpu\n`);
    }
  }
  return new Map([...times].map(([k, v]) => [k, { wall: median(v.map((t) => t.wall)), cpu: median(v.map((t) => t.cpu)) }]));
}

function report(label: string, shape: { files: number; bytes: number }, t: Map<string, Timing>): string {
  const get = (k: string): Timing => t.get(k)!;
  const IT_M = 'in-toto-run -m .';
  const IT_MP = 'in-toto-run -m . -p .';
  const M = 'recordArtifacts materials';
  const MP = 'recordArtifacts materials+products (stat cache)';
  const FRESH = 'recordArtifacts materials, fresh node process';
  const FLOOR = 'floor: find | xargs -P2 -n500 openssl dgst -sha256';
  const BM = 'baseline: recordArtifacts materials';
  const BMP = 'baseline: recordArtifacts materials+products (stat cache)';
  const ratio = (a: string, b: string, f: 'wall' | 'cpu'): string => (get(a)[f] / get(b)[f]).toFixed(2);
  const lines = [
    `### ${label}: ${shape.files.toLocaleString('en')} files, ${(shape.bytes / 2 ** 20).toFixed(0)} MiB`,
    '',
    '| contender | wall, median (ms) | CPU user+sys, median (ms) |',
    '|---|---:|---:|',
    ...[...t].map(([k, v]) => `| ${k} | ${v.wall.toFixed(0)} | ${v.cpu.toFixed(0)} |`),
    '',
    '| ratio | wall | CPU |',
    '|---|---:|---:|',
    `| in-toto-run -m . / ours (materials) | **${ratio(IT_M, M, 'wall')}×** | ${ratio(IT_M, M, 'cpu')}× |`,
    `| in-toto-run -m . -p . / ours with stat cache | **${ratio(IT_MP, MP, 'wall')}×** | ${ratio(IT_MP, MP, 'cpu')}× |`,
    `| ours (materials) / openssl floor | **${ratio(M, FLOOR, 'wall')}×** | ${ratio(M, FLOOR, 'cpu')}× |`,
    `| ours in a fresh process / openssl floor | ${ratio(FRESH, FLOOR, 'wall')}× | ${ratio(FRESH, FLOOR, 'cpu')}× |`,
    ...(t.has(BM)
      ? [
          `| in-toto-run -m . / baseline (materials) | ${ratio(IT_M, BM, 'wall')}× | ${ratio(IT_M, BM, 'cpu')}× |`,
          `| in-toto-run -m . -p . / baseline with stat cache | ${ratio(IT_MP, BMP, 'wall')}× | ${ratio(IT_MP, BMP, 'cpu')}× |`,
        ]
      : []),
    '',
  ];
  return lines.join('\n');
}

const work = mkdtempSync(join(args.dir, 'custody-bench-run-hashing-'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (!args.keep) rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  const key = join(work, 'key');
  execFileSync('in-toto-keygen', ['-t', 'ed25519', key], { stdio: 'ignore' });
  const out: string[] = [
    `Machine: ${availableParallelism()} cores; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${RUNS} runs, median.`,
    '',
  ];
  if (args.only !== 'b') {
    const tree = join(work, 'a');
    mkdirSync(tree);
    process.stderr.write('building (a) node_modules-like tree...\n');
    const shape = buildSmallTree(tree, Number(args.files));
    out.push(report('(a) node_modules-like tree', shape, await benchTree('a', tree, work, key)));
    if (!args.keep) rmSync(tree, { recursive: true, force: true });
  }
  if (args.only !== 'a') {
    const tree = join(work, 'b');
    mkdirSync(tree);
    process.stderr.write('building (b) large files...\n');
    const shape = buildBigTree(tree, Number(args['big-files']), Number(args['big-mib']));
    out.push(report('(b) large files', shape, await benchTree('b', tree, work, key)));
  }
  out.push(`Load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
  console.log(out.join('\n'));
} finally {
  if (args.keep) process.stderr.write(`kept ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
}
