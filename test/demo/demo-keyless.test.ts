// Issue 13, "the end-to-end demo can run every step keyless": `custody demo --keyless` runs the
// CI steps (checkout, lint, secret scan, dependency review, SBOM) with ID tokens minted per step by
// the demo server's workload issuer and certificates from its CA; the policies name identities;
// post-build verification passes --trusted-root. One attack replays against the kept keyless run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYLESS_ISSUER, buildPolicy } from '../../src/cli/demo-policies.ts';
import { CUSTODY_BIN, assertOneLineError, custody, tempDir, type CliResult } from '../support/cli.ts';
import { haveComponents } from '../support/components.ts';

interface Summary {
  result: string;
  caught?: { stage: string; rule: string; artifact: string; asExpected: boolean };
  steps: { id: string; status: string; evidence: { what: string; where?: string }[] }[];
}

const COMPONENTS = ['git', 'ssh-keygen', 'bwrap', 'npm', '/usr/bin/node'];

function demo(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CUSTODY_BIN, 'demo', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const dir = tempDir('custody-demo-keyless-');
const base = join(dir.path, 'honest');
let honest: Promise<CliResult> | undefined;
const honestRun = (): Promise<CliResult> => (honest ??= demo(['--keyless', '--keep', base, '--json']));

before(() => {
  if (COMPONENTS.every((c) => !c.includes('/') || existsSync(c))) void honestRun();
});

after(() => dir[Symbol.dispose]());

describe('custody demo --keyless', () => {
  it('runs every stage; the CI steps sign with certificates for their step identity', async (t) => {
    if (!haveComponents(t, ...COMPONENTS)) return;
    const r = await honestRun();
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as Summary;
    assert.equal(summary.result, 'passed');
    assert.deepEqual(
      summary.steps.map((s) => [s.id, s.status]),
      ['commit', 'source', 'trigger', 'pre-build', 'build', 'post-build', 'rebuild', 'sign', 'publish', 'fetch', 'consumer-scan', 'deploy'].map((id) => [id, 'ok']),
    );
    // Each keyless step's evidence is a Sigstore bundle: certificate (no key), log entry, time-stamp.
    for (const name of ['checkout', 'lint', 'secret-scan', 'dependency-review']) {
      const bundle = JSON.parse(readFileSync(join(base, 'attestations', `${name}.keyless.sigstore`), 'utf8')) as {
        mediaType: string;
        dsseEnvelope: { payload: string };
        verificationMaterial: { certificate?: unknown; publicKey?: unknown; tlogEntries: unknown[]; timestampVerificationData: { rfc3161Timestamps: unknown[] } };
      };
      assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      assert.ok(bundle.verificationMaterial.certificate !== undefined && bundle.verificationMaterial.publicKey === undefined, `${name}: certificate, not a key`);
      assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
      assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as { predicate: { name: string } };
      assert.equal(statement.predicate.name, name);
    }
    assert.ok(existsSync(join(base, 'attestations', 'sbom.cdx.att.sigstore')));
    assert.equal(existsSync(join(base, 'attestations', 'sbom.cdx.att.json')), false);
    // The owner-signed build policy names identities, not keys, for those steps.
    const envelope = JSON.parse(readFileSync(join(base, 'policies', 'build.policy.json'), 'utf8')) as { payload: string };
    const policy = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { functionaries: Record<string, { keyless?: { issuer: string; subject: string }; publicKey?: string }> };
    for (const role of ['ci-checkout', 'ci-lint', 'ci-secret-scan', 'ci-dependency-review', 'ci-sbom']) {
      assert.equal(policy.functionaries[role]?.keyless?.issuer, KEYLESS_ISSUER, role);
      assert.equal(policy.functionaries[role]?.publicKey, undefined, role);
    }
  });

  it('the identities count only under the CA trusted root and for the step the policy names', async (t) => {
    if (!haveComponents(t, ...COMPONENTS)) return;
    assert.equal((await honestRun()).status, 0);
    const args = ['verify', '--policy', join(base, 'policies', 'build.policy.json'), '--policy-key', join(base, 'keys', 'owner.pub'), '--subject', join(base, 'ci', 'out', 'greeter-1.0.0.tgz'), '--attestations', join(base, 'attestations'), '--json'];
    const codes = (r: CliResult): string[] => (JSON.parse(r.stdout) as { issues: { code: string; step?: string }[] }).issues.map((i) => `${i.code}${i.step === undefined ? '' : ` ${i.step}`}`);
    const trusted = custody([...args, '--trusted-root', join(base, 'release', 'ca.trusted_root.json')]);
    assert.equal(trusted.status, 0, trusted.stdout + trusted.stderr);
    // Without the trusted root the certificates cannot be checked: no keyless step counts.
    const untrusted = custody(args);
    assert.equal(untrusted.status, 1);
    assert.ok(codes(untrusted).includes('KEYLESS_UNVERIFIED'), codes(untrusted).join(', '));
    assert.ok(codes(untrusted).includes('ATTESTATION_MISSING lint'), codes(untrusted).join(', '));
    // A policy that wants lint signed by the checkout step's identity: the lint link does not count.
    const doc = buildPolicy(join(base, 'keys'), '2036-01-01T00:00:00Z', true) as { functionaries: Record<string, unknown> };
    doc.functionaries['ci-lint'] = doc.functionaries['ci-checkout'];
    const other = join(dir.path, 'other-identity.policy.json');
    writeFileSync(other, JSON.stringify(doc));
    const wrong = custody(['verify', '--policy', other, '--allow-unsigned-policy', ...args.slice(5), '--trusted-root', join(base, 'release', 'ca.trusted_root.json')]);
    assert.equal(wrong.status, 1);
    assert.deepEqual(codes(wrong).filter((c) => c.startsWith('ATTESTATION_MISSING')), ['ATTESTATION_MISSING lint'], codes(wrong).join(', '));
  });

  it('refuses --keyless --from a run kept without --keyless, in one line, exit 2', (t) => {
    if (!haveComponents(t, ...COMPONENTS)) return;
    const kept = join(dir.path, 'kept-with-keys');
    mkdirSync(kept);
    writeFileSync(join(kept, 'state.json'), JSON.stringify({ backend: 'file' }));
    const r = custody(['demo', '--keyless', '--attack', 'artifact-swapped', '--from', kept]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(assertOneLineError(r), /--keyless: .* was not kept from a --keyless run \[USAGE\]/);
  });

  it('a tampered work tree is caught at post-build against the keyless checkout link', async (t) => {
    if (!haveComponents(t, ...COMPONENTS)) return;
    assert.equal((await honestRun()).status, 0);
    const r = await demo(['--keyless', '--attack', 'source-tampered', '--from', base, '--json']);
    assert.equal(r.status, 1, r.stderr);
    const summary = JSON.parse(r.stdout) as Summary;
    assert.equal(summary.result, 'caught');
    assert.deepEqual([summary.caught?.stage, summary.caught?.rule, summary.caught?.artifact, summary.caught?.asExpected], ['post-build', 'ARTIFACT_RULE_FAILED', 'src/index.ts', true]);
  });
});
