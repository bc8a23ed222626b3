// Issue 12 end to end: `custody demo` runs the example secure supply chain on examples/supply-chain
// with real git/ssh-keygen signatures, a bubblewrap build, an independent rebuild, the signing
// service (SoftHSM2 when installed), a TUF repository and the deploy gate; then every attack is
// played against a copy of that one honest run (--from) and must be stopped at its stage by its rule.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACKS } from '../../src/cli/demo-attacks.ts';
import { CUSTODY_BIN, assertOneLineError, custody, tempDir, type CliResult } from '../support/cli.ts';
import { haveComponents } from '../support/components.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';
import { CHROMIUM } from '../web/browser.ts';
import { dashboardOnDemo } from '../web/demo-dashboard.ts';

interface Summary {
  result: string;
  backend: string;
  workDir?: string;
  uploaded?: { server: string; attestations: number };
  caught?: { stage: string; rule: string; artifact: string; reason: string; checks: string[]; asExpected: boolean };
  steps: { id: string; status: string; evidence: { what: string; where?: string }[]; commands: string[] }[];
}

const COMPONENTS = ['git', 'ssh-keygen', 'bwrap', 'npm', '/usr/bin/node'];

function demo(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CUSTODY_BIN, 'demo', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const dir = tempDir('custody-demo-test-');
const base = join(dir.path, 'honest');
let honest: Promise<{ r: CliResult; summary: Summary | undefined }> | undefined;
/** A custody server the honest run uploads its evidence to (--server), as a dashboard's would be. */
let server: { h: Harness; url: string } | undefined;

/** The one honest run every attack starts from (started once, awaited by whoever needs it). */
function honestRun(): Promise<{ r: CliResult; summary: Summary | undefined }> {
  honest ??= (async () => {
    const h = await startHarness();
    server = { h, url: await h.app.listen({ host: '127.0.0.1', port: 0 }) };
    return demo(['--keep', base, '--json', '--server', server.url], { CUSTODY_TOKEN: h.tokens.attester });
  })().then((r) => {
    let summary: Summary | undefined;
    try {
      summary = JSON.parse(r.stdout) as Summary;
    } catch {
      summary = undefined;
    }
    return { r, summary };
  });
  return honest;
}

/** Attacks whose evidence also goes to the server (--server): the dashboard test below shows it. */
const UPLOADED_ATTACKS = new Set(['compromised-build', 'vulnerable-dependency']);
const attackRuns = new Map<string, Promise<CliResult>>();

/** One run of an attack from the honest run (started once, awaited by whoever needs it). */
function attackRun(name: string): Promise<CliResult> {
  let run = attackRuns.get(name);
  if (run === undefined) {
    const upload = UPLOADED_ATTACKS.has(name) && server !== undefined;
    run = demo(['--attack', name, '--from', base, '--json', ...(upload ? ['--server', server!.url] : [])], upload ? { CUSTODY_TOKEN: server!.h.tokens.attester } : {});
    attackRuns.set(name, run);
  }
  return run;
}

before(() => {
  // Start early: the command-line checks below run while it works.
  if (COMPONENTS.every((c) => !c.includes('/') || existsSync(c))) void honestRun();
});

after(async () => {
  await server?.h.close();
  dir[Symbol.dispose]();
});

describe('custody demo: command line', () => {
  it('lists the thirteen attacks with the stage and rule that stop each', () => {
    const r = custody(['demo', '--attack', 'list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { name: string; expect: { stage: string; rule: string } }[];
    assert.deepEqual(
      list.map((a) => a.name).sort(),
      [
        'artifact-swapped', 'build-params-modified', 'compromised-build', 'impersonated-builder', 'policy-bypass-signing', 'repo-rollback', 'repo-substitution',
        'source-tampered', 'typosquat-dependency', 'unauthorized-commit', 'unreviewed-change', 'unsigned-commit', 'vulnerable-dependency',
      ],
    );
    const human = custody(['demo', '--attack', 'list']);
    assert.equal(human.status, 0);
    assert.match(human.stdout, /compromised-build\s+build\s+caught at rebuild \(DIGEST_MISMATCH\)/);
  });

  it('refuses an unknown attack and --from without an attack, in one line, exit 2', () => {
    const unknown = custody(['demo', '--attack', 'no-such-attack']);
    assert.equal(unknown.status, 2);
    assert.match(assertOneLineError(unknown), /unknown attack 'no-such-attack'.*\[USAGE\]/);
    const from = custody(['demo', '--from', dir.path]);
    assert.equal(from.status, 2);
    assert.match(assertOneLineError(from), /--from .*--attack.*\[USAGE\]/);
  });
});

describe('custody demo: the honest supply chain', () => {
  it('runs every stage, each with its evidence, and the deploy gate admits the package', async (t) => {
    if (!haveComponents(t, ...COMPONENTS)) return;
    const { r, summary } = await honestRun();
    assert.equal(r.status, 0, r.stderr);
    assert.ok(summary !== undefined, r.stdout);
    assert.equal(summary.result, 'passed');
    assert.equal(summary.workDir, base);
    assert.deepEqual(
      summary.steps.map((s) => [s.id, s.status]),
      ['commit', 'source', 'trigger', 'pre-build', 'build', 'post-build', 'rebuild', 'sign', 'publish', 'fetch', 'consumer-scan', 'deploy'].map((id) => [id, 'ok']),
    );
    for (const s of summary.steps) assert.ok(s.evidence.length > 0 && s.commands.length > 0, `${s.id} has evidence and commands`);
    // The evidence is where the summary says, and says what it should.
    const statement = (file: string): { predicate: Record<string, unknown> } =>
      JSON.parse(Buffer.from((JSON.parse(readFileSync(join(base, file), 'utf8')) as { payload: string }).payload, 'base64').toString('utf8')) as { predicate: Record<string, unknown> };
    assert.deepEqual((statement('attestations/source.vsa.json').predicate['verifiedLevels'] as string[]).includes('SLSA_SOURCE_LEVEL_4'), true);
    assert.equal(statement('attestations/rebuild.vsa.json').predicate['verificationResult'], 'PASSED');
    const provenance = summary.steps.find((s) => s.id === 'build')?.evidence[0]?.where ?? '';
    assert.equal(((statement(provenance).predicate['buildDefinition'] as { externalParameters: { hermetic: boolean } }).externalParameters).hermetic, true);
    const review = JSON.parse(readFileSync(join(base, 'deploy', 'admission-review.json'), 'utf8')) as { response: { response: { allowed: boolean } } };
    assert.equal(review.response.response.allowed, true);
    assert.ok(existsSync(join(base, 'release', 'greeter-1.0.0.tgz.sigstore.json')));
    assert.ok(existsSync(join(base, 'repo', 'metadata', 'timestamp.json')));
    assert.ok(existsSync(join(base, 'server', 'data')), 'the server state is kept for other tools (dashboard)');
    // Every attestation reached the other server (--server): the CI's, the rebuilder's, the consumer's.
    assert.ok(summary.uploaded !== undefined && summary.uploaded.attestations >= 12, JSON.stringify(summary.uploaded));
    const listed = await server!.h.inject({ method: 'GET', url: '/v1/attestations?namespace=default&limit=100', token: server!.h.tokens.reader });
    const types = new Set((JSON.parse(listed.body) as { items: { predicateType: string }[] }).items.map((a) => a.predicateType));
    for (const type of ['https://slsa.dev/provenance/v1', 'https://slsa.dev/verification_summary/v1', 'https://in-toto.io/attestation/link/v0.3', 'https://in-toto.io/attestation/vulns/v0.1', 'https://cyclonedx.org/bom']) {
      assert.ok(types.has(type), `${type} uploaded (${[...types].join(', ')})`);
    }
    assert.ok(summary.steps.find((s) => s.id === 'sign')?.commands.some((c) => c.startsWith('custody sign ')));
  });
});

// Every attack starts from a copy of the one honest run (--from), at the stage it attacks, so
// nothing is built twice that need not be.
describe('custody demo: every attack is caught at its stage by its rule', { concurrency: 3 }, () => {
  for (const attack of ATTACKS) {
    it(`${attack.name}: caught at ${attack.expect.stage} by ${attack.expect.rule}`, async (t) => {
      if (!haveComponents(t, ...COMPONENTS)) return;
      const { r: h } = await honestRun();
      assert.equal(h.status, 0, `the honest run failed: ${h.stderr}`);
      const r = await attackRun(attack.name);
      assert.equal(r.status, 1, `exit 1 when caught as expected: ${r.stderr}\n${r.stdout.slice(-3000)}`);
      const summary = JSON.parse(r.stdout) as Summary;
      assert.equal(summary.result, 'caught');
      assert.ok(summary.caught !== undefined);
      assert.equal(summary.caught.stage, attack.expect.stage, summary.caught.reason);
      assert.equal(summary.caught.rule, attack.expect.rule, summary.caught.reason);
      assert.equal(summary.caught.asExpected, true);
      assert.notEqual(summary.caught.artifact, '');
      assert.notEqual(summary.caught.reason, '');
      // Nothing after the refusing stage ran.
      const last = summary.steps.at(-1);
      assert.equal(last?.id, attack.expect.stage);
      assert.equal(last?.status, 'refused');
      assert.ok(summary.steps.slice(0, -1).every((s) => s.status === 'ok' || s.status === 'reused'));
    });
  }
});

// Issue 14's must-show on this run's data: the dashboard (test/web/demo-dashboard.ts) against the
// server the honest run and two attacks uploaded to — the demo runs once for both issues' tests.
describe('custody demo: the dashboard on the demo data', () => {
  it('finds the demo artifact, the failed rebuild rule of the compromised build, and which artifacts contain lodash', { timeout: 120_000 }, async (t) => {
    if (!haveComponents(t, ...COMPONENTS, CHROMIUM)) return;
    const { r: h } = await honestRun();
    assert.equal(h.status, 0, `the honest run failed: ${h.stderr}`);
    for (const name of UPLOADED_ATTACKS) {
      const r = await attackRun(name);
      assert.equal(r.status, 1, r.stderr);
      assert.ok((JSON.parse(r.stdout) as Summary).uploaded !== undefined, `${name} uploaded its evidence`);
    }
    const signed = JSON.parse(readFileSync(join(base, 'policies', 'release.policy.json'), 'utf8')) as { payload: string };
    const policy = JSON.parse(Buffer.from(signed.payload, 'base64').toString('utf8')) as Record<string, unknown>;
    const state = JSON.parse(readFileSync(join(base, 'state.json'), 'utf8')) as { digest: string };
    await verdictsOnDemo(server!.h, policy, state.digest);
    await dashboardOnDemo({ url: server!.url, token: server!.h.tokens.admin, policy, honestDigest: state.digest });
  });
});

interface VerdictAnswer {
  passed: boolean;
  issues: { code: string; severity: string; step?: string; rule?: string }[];
  evidence: { attestations: number; consumers: number; truncated: boolean };
}

/**
 * The public verdict API on the demo's data agrees with `custody verify --policy`: the honest
 * package passes the release policy — its lint, secret-scan and dependency-review links, which
 * produce nothing on the package's path, are found through the material index (before it, they
 * were ATTESTATION_MISSING) — and the compromised build's package still fails on the rebuild rule.
 */
async function verdictsOnDemo(h: Harness, policy: Record<string, unknown>, honestDigest: string): Promise<void> {
  const verdict = async (digest: string): Promise<VerdictAnswer> => {
    const res = await h.inject({ method: 'POST', url: `/v1/artifacts/sha256:${digest}/verdict`, token: h.tokens.reader, payload: { policy } });
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as VerdictAnswer;
  };
  const honest = await verdict(honestDigest);
  const errors = honest.issues.filter((i) => i.severity === 'error');
  assert.deepEqual(errors, [], 'the honest package passes on the server as with custody verify');
  assert.equal(honest.passed, true);
  assert.ok(honest.evidence.consumers >= 3 && !honest.evidence.truncated, JSON.stringify(honest.evidence));
  const listed = await h.inject({ method: 'GET', url: '/v1/artifacts?q=greeter-1.0.0.tgz', token: h.tokens.reader });
  const others = (JSON.parse(listed.body) as { items: { digest: { sha256?: string } }[] }).items.map((i) => i.digest.sha256).filter((d): d is string => d !== undefined && d !== honestDigest);
  assert.ok(others.length >= 1, 'the attacks uploaded packages of the same name');
  const attacked = await Promise.all(others.map(verdict));
  assert.ok(
    attacked.some((v) => v.issues.some((i) => i.severity === 'error' && i.step === 'rebuild' && i.code === 'RULE_FAILED')),
    'the compromised build fails on the rebuild rule',
  );
}
