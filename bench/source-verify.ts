// Benchmark: `custody source verify` over a long signed history, next to `git log --show-signature`
// (git verifies each SSH signature by running ssh-keygen) as the floor to beat.
//
//   node bench/source-verify.ts [--commits 10000] [--floor-commits N] [--dir /tmp/custody-bench-source]
//
// The history is made quickly: commits are signed in-process (SSHSIG with the ed25519 key
// ssh-keygen made, exactly as git would embed it in a gpgsig header) and written as loose objects
// with zlib, then packed by git. git itself checks a sample of the signatures before timing.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { embedCommitSignature, parseOpenSshPrivateKey, signSshsig, type OpenSshPrivateKey } from '../src/source/index.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const COMMITS = Number(flag('--commits', '10000'));
const FLOOR_COMMITS = Number(flag('--floor-commits', String(COMMITS)));
const ROOT = flag('--dir', '/tmp/custody-bench-source');
const CLI = fileURLToPath(new URL('../bin/custody.js', import.meta.url));

function git(repo: string, a: string[], input?: string): string {
  return execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8', input: input ?? '', maxBuffer: 1 << 30 }).trim();
}

function writeLoose(repo: string, type: string, body: Buffer): string {
  const raw = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
  const id = createHash('sha1').update(raw).digest('hex');
  const dir = join(repo, '.git', 'objects', id.slice(0, 2));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, id.slice(2));
  if (!existsSync(file)) writeFileSync(file, deflateSync(raw, { level: 1 }));
  return id;
}

function treeWith(repo: string, entries: [string, string][]): string {
  const parts = entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, blob]) => Buffer.concat([Buffer.from(`100644 ${name}\0`), Buffer.from(blob, 'hex')]));
  return writeLoose(repo, 'tree', Buffer.concat(parts));
}

function signedCommit(payload: string, key: OpenSshPrivateKey): Buffer {
  const sig = signSshsig(key.keyObject, key.publicKey, Buffer.from(payload), 'git');
  return Buffer.from(embedCommitSignature(Buffer.from(payload), sig));
}

function makeHistory(dir: string, n: number): { repo: string; policy: string; key: string } {
  const repo = join(dir, `history-${n}`);
  const key = join(dir, 'bench-key');
  const policy = join(dir, `source-${n}.yaml`);
  if (!existsSync(key)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench@example.com', '-f', key]);
  const publicLine = readFileSync(`${key}.pub`, 'utf8').trim();
  writeFileSync(
    policy,
    `version: 1\nidentities:\n  bench:\n    emails: [bench@example.com]\n    keys: ["${publicLine}"]\nrefs:\n  - pattern: refs/heads/main\n    signers: [bench]\n    protected: true\nowners:\n  - path: "*"\n    owners: [bench]\n`,
  );
  if (existsSync(join(repo, '.git', 'refs', 'heads', 'main')) || existsSync(join(repo, '.git', 'packed-refs'))) return { repo, policy, key };
  mkdirSync(repo, { recursive: true });
  git(repo, ['init', '-q', '-b', 'main']);
  const allowed = join(repo, '.git', 'allowed_signers');
  writeFileSync(allowed, `bench@example.com namespaces="git" ${publicLine}\n`);
  git(repo, ['config', 'gpg.ssh.allowedSignersFile', allowed]);
  const priv = parseOpenSshPrivateKey(readFileSync(key, 'utf8'));
  const files = new Map<string, string>();
  let parent: string | undefined;
  const t0 = 1_700_000_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    // Each commit changes one of 200 files, so trees and path checks are realistic.
    files.set(`src/f${i % 200}.txt`, writeLoose(repo, 'blob', Buffer.from(`line ${i}\n`)));
    const srcTree = treeWith(repo, [...files].map(([p, b]) => [p.slice(4), b]));
    const tree = writeLoose(repo, 'tree', Buffer.concat([Buffer.from('40000 src\0'), Buffer.from(srcTree, 'hex')]));
    const ident = `Bench <bench@example.com> ${t0 + i} +0000`;
    const payload = `tree ${tree}\n${parent === undefined ? '' : `parent ${parent}\n`}author ${ident}\ncommitter ${ident}\n\ncommit ${i}\n`;
    parent = writeLoose(repo, 'commit', signedCommit(payload, priv));
  }
  git(repo, ['update-ref', 'refs/heads/main', parent as string]);
  git(repo, ['repack', '-adq']);
  git(repo, ['prune']);
  process.stderr.write(`generated ${n} signed commits in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  // git agrees the signatures are good (a sample: the tip and its parents).
  const checked = git(repo, ['log', '-5', '--format=%G?', 'main']).split('\n');
  if (!checked.every((s) => s === 'G')) throw new Error(`git does not accept the generated signatures: ${checked.join(',')}`);
  // One log entry so the protected ref's history check has something to replay.
  const rec = spawnSync(process.execPath, [CLI, 'source', 'record', 'refs/heads/main', '--repo', repo, '--key', key], { encoding: 'utf8' });
  if (rec.status !== 0) throw new Error(rec.stderr);
  return { repo, policy, key };
}

function time(cmd: string, argv: string[], runs: number, env: NodeJS.ProcessEnv = process.env): { seconds: number; status: number | null; stdout: string } {
  const samples: number[] = [];
  let last: ReturnType<typeof spawnSync> | undefined;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    last = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 30, env });
    samples.push((performance.now() - t) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { seconds: samples[Math.floor(samples.length / 2)] as number, status: last?.status ?? null, stdout: String(last?.stdout ?? '') };
}

mkdirSync(ROOT, { recursive: true });
const { repo, policy } = makeHistory(ROOT, COMMITS);
const ours = time(process.execPath, [CLI, 'source', 'verify', '--repo', repo, '--policy', policy, '--ref', 'main', '--json'], 3);
const result = JSON.parse(ours.stdout) as { passed: boolean; commits: unknown[] };
if (ours.status !== 0 || !result.passed || result.commits.length !== COMMITS) throw new Error(`custody source verify failed (status ${ours.status})`);
const floorRange = FLOOR_COMMITS >= COMMITS ? ['main'] : ['-n', String(FLOOR_COMMITS), 'main'];
const floor = time('git', ['-C', repo, 'log', '--show-signature', '--format=%H', ...floorRange], 1);
const good = (floor.stdout.match(/^Good "git" signature/gm) ?? []).length;
if (good !== Math.min(FLOOR_COMMITS, COMMITS)) throw new Error(`git log --show-signature found ${good} good signatures`);
const floorFull = floor.seconds * (COMMITS / Math.min(FLOOR_COMMITS, COMMITS));
const row = (name: string, s: number, n: number): string => `| ${name} | ${n} | ${s.toFixed(2)} s | ${((n / s) | 0).toLocaleString('en')} commits/s |`;
console.log(`| command | commits | time | rate |\n|---|---|---|---|`);
console.log(row('custody source verify --ref main (signatures + authorization + path owners + RSL)', ours.seconds, COMMITS));
console.log(row('git log --show-signature (floor: ssh-keygen per commit)', floor.seconds, Math.min(FLOOR_COMMITS, COMMITS)));
console.log(`\nratio (git log --show-signature time / custody time, per ${COMMITS} commits): ${(floorFull / ours.seconds).toFixed(1)}×`);
