// Benchmark: build + sign + independent rebuild of examples/reproducible-ts, serially (build, sign
// the provenance, then rebuild from it and sign the VSA) vs in parallel (sign-then-verify: the
// builder and the rebuilder start from the same commit at once, since the build definition is
// known up front; the builder signs its provenance as soon as it is done, the rebuilder compares
// and signs its VSA when both are done). Reports wall times and their ratio.
//
//   node bench/build-rebuild.ts [--rounds 3] [--dir /tmp/custody-bench-build]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IN_TOTO_PAYLOAD_TYPE, digestSetOfBytes, digestSetsMatch, generateKeyPair, makeStatement, signEnvelope, type PrivateKey } from '../src/core/index.ts';
import { SLSA_VSA_V1, makeVsaPredicate } from '../src/formats/index.ts';
import { readProvenanceEnvelope, rebuild, rebuildPolicyDigest, runBuildStep, type BuildStepOptions } from '../src/build/index.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const ROUNDS = Number(flag('--rounds', '3'));
const ROOT = flag('--dir', '/tmp/custody-bench-build');
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPESCRIPT = join(REPO_ROOT, 'node_modules', 'typescript');

function git(cwd: string, a: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' };
  return execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...a], { cwd, env, encoding: 'utf8' }).trim();
}

/** The build definition, known before any build runs (a parameterless build). */
function definition(dir: string): BuildStepOptions {
  return {
    name: 'build',
    dir,
    materials: ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'build.sh'],
    products: ['dist', 'out'],
    command: ['sh', 'build.sh'],
    env: { TSC: join(TYPESCRIPT, 'bin', 'tsc') },
    tools: [TYPESCRIPT, '/usr/bin/node'],
    hermetic: true,
    passThrough: false,
  };
}

function freshCheckout(repo: string, name: string): string {
  const dest = join(ROOT, name);
  rmSync(dest, { recursive: true, force: true });
  execFileSync('git', ['clone', '-q', repo, dest]);
  return dest;
}

async function signed(statement: unknown, key: PrivateKey): Promise<Buffer> {
  const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), [key.signer()]);
  return Buffer.from(JSON.stringify(envelope));
}

async function serial(repo: string, builder: PrivateKey, rebuilder: PrivateKey, round: number): Promise<{ ms: number; passed: boolean }> {
  const t0 = performance.now();
  const built = await runBuildStep(definition(freshCheckout(repo, `serial-${round}`)));
  const provenance = await signed(built.provenance, builder);
  const result = await rebuild({ provenance: readProvenanceEnvelope(provenance), provenanceUri: 'provenance.json', source: { git: repo }, outDir: join(ROOT, `serial-${round}-rebuild`), passThrough: false });
  await signed(result.vsa, rebuilder);
  return { ms: performance.now() - t0, passed: result.passed };
}

async function parallel(repo: string, builder: PrivateKey, rebuilder: PrivateKey, round: number): Promise<{ ms: number; passed: boolean }> {
  const t0 = performance.now();
  const buildAndSign = (async () => {
    const built = await runBuildStep(definition(freshCheckout(repo, `parallel-${round}-build`)));
    return { built, envelope: await signed(built.provenance, builder) };
  })();
  const independent = runBuildStep({ ...definition(freshCheckout(repo, `parallel-${round}-rebuild`)), uid: 4242, workdir: '/rebuild' });
  const [{ built, envelope }, rebuilt] = await Promise.all([buildAndSign, independent]);
  // Verify: every subject of the signed provenance against the independent rebuild.
  const subjects = built.provenance!.subject;
  const passed = subjects.every((s) => {
    const d = rebuilt.link.products[s.name ?? ''];
    return d !== undefined && digestSetsMatch(s.digest ?? {}, d);
  });
  const vsa = makeStatement(subjects, SLSA_VSA_V1, makeVsaPredicate({
    verifierId: 'https://custody.dev/rebuilder/v1',
    timeVerified: new Date(),
    resourceUri: 'bench',
    policy: { digest: rebuildPolicyDigest() },
    inputAttestations: [{ uri: 'provenance.json', digest: digestSetOfBytes(envelope) }],
    passed,
    verifiedLevels: passed ? ['CUSTODY_REPRODUCIBLE'] : ['FAILED'],
  }));
  await signed(vsa, rebuilder);
  return { ms: performance.now() - t0, passed };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  const repo = join(ROOT, 'origin');
  cpSync(join(REPO_ROOT, 'examples', 'reproducible-ts'), repo, { recursive: true });
  git(repo, ['init', '-q']);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-qm', 'example']);
  const builder = generateKeyPair('ed25519');
  const rebuilder = generateKeyPair('ed25519');
  // Warm-up (page cache, compiler load), not timed.
  await runBuildStep(definition(freshCheckout(repo, 'warmup')));
  const times = { serial: [] as number[], parallel: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so drift in machine load hits both flows alike.
    const order = round % 2 === 0 ? (['serial', 'parallel'] as const) : (['parallel', 'serial'] as const);
    for (const flow of order) {
      const r = flow === 'serial' ? await serial(repo, builder, rebuilder, round) : await parallel(repo, builder, rebuilder, round);
      if (!r.passed) throw new Error(`${flow} round ${round}: the rebuild did not reproduce the build`);
      times[flow].push(r.ms);
      process.stdout.write(`round ${round} ${flow.padEnd(8)} ${(r.ms / 1000).toFixed(2)} s\n`);
    }
  }
  const s = median(times.serial);
  const p = median(times.parallel);
  const summary = { rounds: ROUNDS, serialMs: times.serial.map(Math.round), parallelMs: times.parallel.map(Math.round), medianSerialMs: Math.round(s), medianParallelMs: Math.round(p), ratio: Number((s / p).toFixed(2)) };
  process.stdout.write(`median serial ${(s / 1000).toFixed(2)} s, parallel ${(p / 1000).toFixed(2)} s: parallel (sign-then-verify) is ${(s / p).toFixed(2)}x faster\n`);
  mkdirSync(join(REPO_ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(REPO_ROOT, 'bench', 'out', 'build-rebuild.json'), `${JSON.stringify(summary, null, 2)}\n`);
  rmSync(ROOT, { recursive: true, force: true });
}

await main();
