// runPolicyVerify (the policy mode of `custody verify`) on real files: a signed policy, an
// attestation directory, a subject, and a signed VSA written out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvelope, parseStatement, verifyEnvelope } from '../../src/core/index.ts';
import { parseVsaV1 } from '../../src/formats/index.ts';
import { runPolicyVerify, type PolicyVerifyOptions } from '../../src/cli/verify-policy.ts';
import { CustodyClient } from '../../src/server/index.ts';
import { assertOneLineError, custody, tempDir } from '../support/cli.ts';
import { startHarness } from '../support/server-harness.ts';
import { ARTIFACT_BYTES, attest, functionary, key, signedPolicy, policyDoc } from './policy-kit.ts';

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const doc = {
  name: 'cli-demo',
  functionaries: { builder: functionary('builder') },
  verifiedLevels: ['SLSA_BUILD_LEVEL_2'],
  steps: [{ name: 'build', predicateTypes: [PROVENANCE], functionaries: ['builder'], rules: ['predicate.runDetails.builder.id == "https://ci.example/builder"'] }],
};
const provenance = (id: string) => ({ buildDefinition: { buildType: 'https://ci.example/v1', externalParameters: {} }, runDetails: { builder: { id } } });

async function captureStdout<T>(fn: (print: (text: string) => void) => Promise<T>): Promise<{ result?: T; error?: unknown; stdout: string }> {
  let stdout = '';
  try {
    const result = await fn((text) => (stdout += text));
    return { result, stdout };
  } catch (error) {
    return { error, stdout };
  }
}

async function setUp(dir: string, builderId: string): Promise<PolicyVerifyOptions> {
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(await signedPolicy(doc)));
  writeFileSync(join(dir, 'owner.pub'), key('owner').publicKey.pem);
  writeFileSync(join(dir, 'vsa.key'), key('verifier').toPkcs8Pem());
  writeFileSync(join(dir, 'app.tgz'), ARTIFACT_BYTES);
  mkdirSync(join(dir, 'atts'));
  const att = await attest(['builder'], PROVENANCE, provenance(builderId));
  writeFileSync(join(dir, 'atts', 'build.json'), JSON.stringify(att.envelope));
  writeFileSync(join(dir, 'atts', 'notes.json'), '{"not": "an envelope"}');
  return {
    policy: join(dir, 'policy.json'),
    policyKey: [join(dir, 'owner.pub')],
    policyThreshold: 1,
    subject: join(dir, 'app.tgz'),
    attestations: join(dir, 'atts'),
    vsaKey: join(dir, 'vsa.key'),
    vsaOut: join(dir, 'app.vsa.json'),
  };
}

function readVsa(path: string) {
  const envelope = parseEnvelope(JSON.parse(readFileSync(path, 'utf8')));
  const verified = verifyEnvelope(envelope, [key('verifier').publicKey]);
  const statement = parseStatement(JSON.parse(Buffer.from(verified.payload).toString('utf8')));
  return { statement, predicate: parseVsaV1(statement.predicate) };
}

describe('runPolicyVerify', () => {
  it('passes, prints a per-step report, skips non-envelopes and writes a signed VSA', async () => {
    using dir = tempDir();
    const options = await setUp(dir.path, 'https://ci.example/builder');
    const { result, error, stdout } = await captureStdout((p) => runPolicyVerify(options, p));
    assert.equal(error, undefined);
    assert.equal(result?.verdict.passed, true);
    assert.deepEqual(result?.skipped.map((s) => s.split(' ')[0]), ['notes.json']);
    assert.match(stdout, /✔ step build: 1\/1 signer\(s\) \[build\.json\]/);
    assert.match(stdout, /PASSED\n$/);
    const { statement, predicate } = readVsa(options.vsaOut!);
    assert.equal(statement.subject[0]?.name, 'app.tgz');
    assert.equal(predicate.verificationResult, 'PASSED');
    assert.deepEqual(predicate.verifiedLevels, ['SLSA_BUILD_LEVEL_2']);
    assert.deepEqual(predicate.inputAttestations?.map((a) => a.uri), ['build.json']);
  });

  it('fails with POLICY_FAILED, lists the failures in --json and still writes a FAILED VSA', async () => {
    using dir = tempDir();
    const options = { ...(await setUp(dir.path, 'https://evil.example')), json: true };
    const { error, stdout } = await captureStdout((p) => runPolicyVerify(options, p));
    assert.equal((error as { code?: string }).code, 'POLICY_FAILED');
    const report = JSON.parse(stdout) as { passed: boolean; issues: { code: string }[] };
    assert.equal(report.passed, false);
    assert.deepEqual(report.issues.map((i) => i.code).sort(), ['ARTIFACT_NOT_SUBJECT', 'RULE_FAILED', 'THRESHOLD_NOT_MET']);
    assert.equal(readVsa(options.vsaOut!).predicate.verificationResult, 'FAILED');
  });

  it('refuses an unsigned policy unless --allow-unsigned-policy, and a signed one without owner keys', async () => {
    using dir = tempDir();
    const options = await setUp(dir.path, 'https://ci.example/builder');
    writeFileSync(join(dir.path, 'policy.yaml'), JSON.stringify(policyDoc(doc)));
    const { vsaKey: _k, vsaOut: _o, ...rest } = options;
    const unsigned: PolicyVerifyOptions = { ...rest, policy: join(dir.path, 'policy.yaml') };
    const refused = await captureStdout((p) => runPolicyVerify(unsigned, p));
    assert.equal((refused.error as { code?: string }).code, 'USAGE');
    const allowed = await captureStdout((p) => runPolicyVerify({ ...unsigned, allowUnsignedPolicy: true }, p));
    assert.equal(allowed.result?.verdict.passed, true);
    const noOwners = await captureStdout((p) => runPolicyVerify({ ...options, policyKey: [] }, p));
    assert.equal((noOwners.error as { code?: string }).code, 'USAGE');
  });

  it('runs as `custody verify --policy` with exit codes 0, 1 and 2', async () => {
    using dir = tempDir();
    const options = await setUp(dir.path, 'https://ci.example/builder');
    const args = ['verify', '--policy', options.policy, '--policy-key', options.policyKey![0]!, '--subject', options.subject, '--attestations', options.attestations!];
    const ok = custody(args);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /PASSED/);
    writeFileSync(join(dir.path, 'atts', 'build.json'), JSON.stringify((await attest(['builder'], PROVENANCE, provenance('https://evil.example'))).envelope));
    const failed = custody([...args, '--json']);
    assert.equal(failed.status, 1);
    assert.equal((JSON.parse(failed.stdout) as { passed: boolean }).passed, false);
    assert.match(assertOneLineError(failed), /POLICY_FAILED/);
    const usage = custody(['verify', '--policy', options.policy, '--subject', options.subject]);
    assert.equal(usage.status, 2);
    assertOneLineError(usage);
  });
});

describe('runPolicyVerify --server', () => {
  it('fetches the artifact\'s attestations from a custody server and reaches the same verdicts', async () => {
    using dir = tempDir();
    const harness = await startHarness();
    try {
      const url = await harness.app.listen({ host: '127.0.0.1', port: 0 });
      const good = await setUp(dir.path, 'https://ci.example/builder');
      const bad = await attest(['builder'], PROVENANCE, provenance('https://evil.example/builder'));
      const writer = new CustodyClient({ server: url, token: harness.tokens.admin });
      await writer.push([readFileSync(join(dir.path, 'atts', 'build.json'))]);
      const { attestations: _dir, vsaKey: _key, vsaOut: _out, ...rest } = good;
      const reader: PolicyVerifyOptions = { ...rest, server: url };
      process.env['CUSTODY_TOKEN'] = harness.tokens.reader;
      const passed = await captureStdout((p) => runPolicyVerify(reader, p));
      assert.equal(passed.error, undefined, String(passed.error));
      assert.equal(passed.result?.verdict.passed, true);
      // An attestation from the wrong builder joins the store: the step now has a failing rule.
      await writer.push([new TextEncoder().encode(JSON.stringify(bad.envelope))]);
      const failed = await captureStdout((p) => runPolicyVerify(reader, p));
      assert.equal((failed.error as { code?: string } | undefined)?.code, 'POLICY_FAILED');
      assert.match(failed.stdout, /RULE_FAILED \[build \/ rule 1\]/);
    } finally {
      delete process.env['CUSTODY_TOKEN'];
      await harness.close();
    }
  });
});
