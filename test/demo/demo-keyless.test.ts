// Issue 13, "the end-to-end demo can run every step keyless": `custody demo --keyless` signs every
// attesting step (source VSA, checkout, lint, secret scan, dependency review, build link and
// provenance, SBOM, vulnerability scan, rebuild VSA, the post-build and the consumer's VSAs, the
// consumer's scan) with an ID token minted for that step by the demo server's workload issuer and a
// certificate from its CA; the build, release and deploy policies name identities only; every
// verifier (post-build, signing service, repository admission, consumer, deploy gate) checks them
// against the CA's trusted root. Two attacks replay against the one kept keyless run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyKeylessDsse } from '../../src/server/index.ts';
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
const attacks = new Map<string, Promise<CliResult>>();
/** The attacks replay from the kept honest run, side by side (started once, awaited by whoever needs them). */
async function attackRun(name: string): Promise<CliResult> {
  await honestRun();
  for (const n of ['compromised-build', 'impersonated-builder']) if (!attacks.has(n)) attacks.set(n, demo(['--keyless', '--attack', n, '--from', base, '--json']));
  return attacks.get(name)!;
}

/** Every attesting step's bundle and the step its certificate names. */
function keylessEvidence(): [string, string][] {
  const deploy = readdirSync(join(base, 'deploy')).find((d) => d.startsWith('sha256-')) ?? 'missing';
  return [
    ['attestations/source.vsa.sigstore', 'source-verify'],
    ['attestations/checkout.keyless.sigstore', 'checkout'],
    ['attestations/lint.keyless.sigstore', 'lint'],
    ['attestations/secret-scan.keyless.sigstore', 'secret-scan'],
    ['attestations/dependency-review.keyless.sigstore', 'dependency-review'],
    ['attestations/build.keyless.sigstore', 'build'],
    ['attestations/build.keyless.provenance.sigstore', 'build'],
    ['attestations/sbom.cdx.att.sigstore', 'sbom'],
    ['attestations/vulns.att.sigstore', 'vuln-scan'],
    ['attestations/rebuild.vsa.sigstore', 'rebuild'],
    ['release/build-check.vsa.sigstore', 'build-check'],
    [`deploy/${deploy}/consumer-scan.att.sigstore`, 'consumer-scan'],
    [`deploy/${deploy}/release.vsa.sigstore`, 'consumer-verify'],
  ];
}

before(() => {
  if (COMPONENTS.every((c) => !c.includes('/') || existsSync(c))) void honestRun();
});

after(() => dir[Symbol.dispose]());

describe('custody demo --keyless', () => {
  it('runs every stage; every attesting step signs with a certificate for its own step identity', async (t) => {
    if (!haveComponents(t, ...COMPONENTS)) return;
    const r = await honestRun();
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as Summary & { keyless?: boolean };
    assert.equal(summary.result, 'passed');
    assert.equal(summary.keyless, true);
    assert.deepEqual(
      summary.steps.map((s) => [s.id, s.status]),
      ['commit', 'source', 'trigger', 'pre-build', 'build', 'post-build', 'rebuild', 'sign', 'publish', 'fetch', 'consumer-scan', 'deploy'].map((id) => [id, 'ok']),
    );
    // Every attesting step's evidence is a Sigstore bundle (certificate, no key; log entry; time-stamp)
    // that verifies under the CA's trusted root and names that step's workload identity.
    const root = JSON.parse(readFileSync(join(base, 'release', 'ca.trusted_root.json'), 'utf8')) as unknown;
    for (const [file, step] of keylessEvidence()) {
      const bundle = JSON.parse(readFileSync(join(base, file), 'utf8')) as {
        mediaType: string;
        dsseEnvelope: { payload: string };
        verificationMaterial: { certificate?: unknown; publicKey?: unknown; tlogEntries: unknown[]; timestampVerificationData: { rfc3161Timestamps: unknown[] } };
      };
      assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json', file);
      assert.ok(bundle.verificationMaterial.certificate !== undefined && bundle.verificationMaterial.publicKey === undefined, `${file}: certificate, not a key`);
      assert.equal(bundle.verificationMaterial.tlogEntries.length, 1, file);
      assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1, file);
      const v = verifyKeylessDsse({ bundle, trustedRoot: root });
      assert.equal(v.identity.replace(/^.*\/steps\//, ''), step, file);
      assert.equal(v.issuer, KEYLESS_ISSUER, file);
    }
    // Nothing in the pipeline's evidence is signed with a key any more.
    assert.deepEqual(readdirSync(join(base, 'attestations')).filter((f) => !f.endsWith('.sigstore')), []);
    // The owner-signed policies name identities, not keys, for every functionary.
    for (const name of ['build', 'release', 'deploy']) {
      const envelope = JSON.parse(readFileSync(join(base, 'policies', `${name}.policy.json`), 'utf8')) as { payload: string };
      const policy = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { functionaries: Record<string, { keyless?: { issuer: string; subject: string }; publicKey?: string }> };
      assert.ok(Object.keys(policy.functionaries).length > 0, name);
      for (const [role, f] of Object.entries(policy.functionaries)) {
        assert.equal(f.keyless?.issuer, KEYLESS_ISSUER, `${name}: ${role}`);
        assert.equal(f.publicKey, undefined, `${name}: ${role}`);
      }
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
    // The release policy (identities only, no VSA shortcut) holds for the evidence the consumer fetched through TUF.
    const release = ['verify', '--policy', join(base, 'policies', 'release.policy.json'), '--policy-key', join(base, 'keys', 'owner.pub'), '--subject', join(base, 'consumer', 'greeter-1.0.0.tgz'), '--attestations', join(base, 'consumer', 'evidence'), '--json'];
    const released = custody([...release, '--trusted-root', join(base, 'release', 'ca.trusted_root.json')]);
    assert.equal(released.status, 0, released.stdout + released.stderr);
    const unverified = custody(release);
    assert.equal(unverified.status, 1);
    for (const step of ['source', 'checkout', 'build', 'sbom', 'vulnerability-scan', 'rebuild']) assert.ok(codes(unverified).includes(`ATTESTATION_MISSING ${step}`), `${step}: ${codes(unverified).join(', ')}`);
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

  it('a compromised build machine re-signing other bytes with the build identity is caught by the rebuild', async (t) => {
    if (!haveComponents(t, ...COMPONENTS)) return;
    assert.equal((await honestRun()).status, 0);
    const r = await attackRun('compromised-build');
    assert.equal(r.status, 1, r.stderr);
    const summary = JSON.parse(r.stdout) as Summary;
    assert.equal(summary.result, 'caught');
    assert.deepEqual([summary.caught?.stage, summary.caught?.rule, summary.caught?.asExpected], ['rebuild', 'DIGEST_MISMATCH', true]);
  });

  it("a provenance signed keyless by another step's workload identity (lint) does not count for the builder", async (t) => {
    if (!haveComponents(t, ...COMPONENTS)) return;
    assert.equal((await honestRun()).status, 0);
    const r = await attackRun('impersonated-builder');
    assert.equal(r.status, 1, r.stderr);
    const summary = JSON.parse(r.stdout) as Summary & { caught?: { reason: string } };
    assert.equal(summary.result, 'caught');
    assert.deepEqual([summary.caught?.stage, summary.caught?.rule, summary.caught?.asExpected], ['post-build', 'ATTESTATION_MISSING', true]);
    assert.match(summary.caught?.reason ?? '', /\[build\] .*certificate identity \S+\/steps\/lint .*is not functionary 'builder'/);
  });
});
