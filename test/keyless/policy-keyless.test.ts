// Identities as functionaries: `custody attest --keyless` writes a Sigstore bundle v0.3 with DSSE
// content (certificate, dsse log entry, RFC 3161 time-stamp) that @sigstore/verify accepts given
// custody's trusted root, and that satisfies a policy naming the identity in `custody verify
// --policy --trusted-root`; the same attestation fails (exit 1, naming the step, the functionary
// and the reason) for another subject, another issuer, a certificate from another CA and a
// time-stamp outside the certificate's validity.
import { execFile } from 'node:child_process';
import { createHash, sign as cryptoSign } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError as SigstorePolicyError, Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { PolicyError, decodeBase64, generateKeyPair, isCustodyError, pae } from '../../src/core/index.ts';
import Fastify from 'fastify';
import { gateConfig } from '../../src/cli/gate.ts';
import { loadPolicyFiles } from '../../src/server/policy-files.ts';
import { TufRepository } from '../../src/tuf/index.ts';
import { key as repoKey, makeRepo } from '../tuf/repo-kit.ts';
import { runPolicyVerify, type PolicyVerifyOptions } from '../../src/cli/verify-policy.ts';
import { FULCIO_OID, buildCertificate, decideImage, mapError, tufPlugin, distinguishedName, fetchTimestamp, localSigner, verifyKeylessDsse, type KeylessDsseBundle } from '../../src/server/index.ts';
import { CUSTODY_BIN, assertOneLineError, tempDir, type CliResult } from '../support/cli.ts';
import { startCaHarness, type CaHarness } from './ca-harness.ts';

/** The CLI, asynchronously: the in-process server must keep answering meanwhile. */
function run(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CUSTODY_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', ...(cwd === undefined ? {} : { cwd }) }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const TEST_RESULT = 'https://example.com/test-result/v1';

function policyYaml(issuer: string, subject: string): string {
  return [
    '_type: https://custody.dev/policy/v1',
    'name: keyless',
    'expires: "2099-01-01T00:00:00Z"',
    'functionaries:',
    '  tester:',
    '    keyless:',
    `      issuer: ${JSON.stringify(issuer)}`,
    `      subject: ${JSON.stringify(subject)}`,
    'requirements:',
    '  - name: tests',
    `    predicateTypes: [${TEST_RESULT}]`,
    '    functionaries: [tester]',
    '    rules: ["predicate.passed == true"]',
    '',
  ].join('\n');
}

describe('keyless attestations and identity functionaries', () => {
  let h: CaHarness;
  let dir: ReturnType<typeof tempDir>;
  let root: unknown;
  let bundle: KeylessDsseBundle;
  let subject: string;
  const p = (...parts: string[]) => join(dir.path, ...parts);

  before(async () => {
    h = await startCaHarness();
    dir = tempDir();
    root = await (await fetch(`${h.url}/v1/ca/trusted-root`)).json();
    writeFileSync(p('root.json'), JSON.stringify(root));
    writeFileSync(p('app.tgz'), 'the release');
    writeFileSync(p('result.json'), JSON.stringify({ passed: true }));
    mkdirSync(p('att'));
    const r = await run(
      ['attest', '--subject', p('app.tgz'), '--type', TEST_RESULT, '--predicate', p('result.json'), '--keyless', '--step', 'test', '--server', h.url, '--out', p('att', 'tests.sigstore'), '--json'],
      { CUSTODY_TOKEN: h.tokens.attester, CUSTODY_RUN_ID: 'run-7' },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { identity: string; issuer: string; logIndex: number };
    subject = out.identity;
    assert.match(subject, /\/steps\/test$/);
    assert.equal(out.issuer, h.issuer);
    bundle = JSON.parse(readFileSync(p('att', 'tests.sigstore'), 'utf8')) as KeylessDsseBundle;
  });
  after(async () => {
    await h.stop();
    dir[Symbol.dispose]();
  });

  /** Evaluates a policy over an attestation directory in-process; the verdict, or the failure's issues. */
  async function verify(policyText: string, att = p('att'), extra: { trustedRoot?: string | undefined } = {}) {
    const file = p(`policy-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, policyText);
    const trustedRoot = 'trustedRoot' in extra ? extra.trustedRoot : p('root.json');
    const options: PolicyVerifyOptions = { policy: file, allowUnsignedPolicy: true, subject: p('app.tgz'), attestations: att, json: true, ...(trustedRoot === undefined ? {} : { trustedRoot }) };
    let printed = '';
    try {
      await runPolicyVerify(options, (t) => {
        printed = t;
      });
      return { passed: true, verdict: JSON.parse(printed) as { issues: { code: string; severity: string; step?: string; reason: string }[] } };
    } catch (e) {
      assert.ok(e instanceof PolicyError && e.code === 'POLICY_FAILED', String(e));
      return { passed: false, verdict: JSON.parse(printed) as { issues: { code: string; severity: string; step?: string; reason: string }[] } };
    }
  }
  type Issue = { code: string; severity: string; step?: string; reason: string };
  const errors = (v: { issues: Issue[] }): Issue[] => v.issues.filter((i) => i.severity === 'error');

  it('the bundle has DSSE content and verifies with @sigstore/verify given custody\'s trusted root and the identity policy', () => {
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)), { ctlogThreshold: 0 });
    const signer = verifier.verify(toSignedEntity(bundleFromJSON(bundle)), { subjectAlternativeName: subject, extensions: { issuer: h.issuer } });
    assert.equal(signer.identity?.subjectAlternativeName, subject);
    assert.throws(
      () => verifier.verify(toSignedEntity(bundleFromJSON(bundle)), { subjectAlternativeName: subject.replace('/steps/test', '/steps/other'), extensions: { issuer: h.issuer } }),
      (e: unknown) => e instanceof SigstorePolicyError && e.code === 'UNTRUSTED_SIGNER_ERROR',
    );
    const v = verifyKeylessDsse({ bundle, trustedRoot: root });
    assert.equal(v.identity, subject);
    assert.equal(v.logIndexes.length, 1);
  });

  it('custody verify --policy passes with a policy naming the identity (exact, and as a pattern), exit 0', async () => {
    writeFileSync(p('exact.yaml'), policyYaml(h.issuer, subject));
    const r = await run(['verify', '--policy', p('exact.yaml'), '--allow-unsigned-policy', '--subject', p('app.tgz'), '--attestations', p('att'), '--trusted-root', p('root.json')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASSED/);
    const pattern = await verify(policyYaml(h.issuer, '/.*\\/steps\\/test/'));
    assert.equal(pattern.passed, true, JSON.stringify(pattern.verdict.issues));
  });

  it('another subject fails: exit 1, the requirement and the functionary named with the reason', async () => {
    const other = subject.replace('/steps/test', '/steps/deploy');
    writeFileSync(p('other.yaml'), policyYaml(h.issuer, other));
    const r = await run(['verify', '--policy', p('other.yaml'), '--allow-unsigned-policy', '--subject', p('app.tgz'), '--attestations', p('att'), '--trusted-root', p('root.json')]);
    assert.equal(r.status, 1);
    assert.match(assertOneLineError(r), /\[POLICY_FAILED\]$/);
    assert.match(r.stdout, /error ATTESTATION_MISSING \[tests\].*functionary 'tester': subject '.*\/steps\/test' does not match '.*\/steps\/deploy'/);
  });

  it('the deploy gate (custody gate serve --trusted-root) admits the image with the keyless attestation, and denies it for another identity', async () => {
    const hex = createHash('sha256').update(readFileSync(p('app.tgz'))).digest('hex');
    mkdirSync(p('gate', `sha256-${hex}`), { recursive: true });
    writeFileSync(p('gate', `sha256-${hex}`, 'tests.sigstore'), readFileSync(p('att', 'tests.sigstore')));
    writeFileSync(p('gate-ok.yaml'), policyYaml(h.issuer, subject));
    writeFileSync(p('gate-other.yaml'), policyYaml(h.issuer, subject.replace('/steps/test', '/steps/deploy')));
    const config = (policy: string) => gateConfig({ policy: [p(policy)], allowUnsignedPolicy: true, trustedRoot: p('root.json'), attestations: p('gate') });
    const ok = await decideImage(`registry.example/app@sha256:${hex}`, config('gate-ok.yaml'));
    assert.deepEqual(ok, { image: `registry.example/app@sha256:${hex}`, allowed: true, reasons: [] });
    const denied = await decideImage(`registry.example/app@sha256:${hex}`, config('gate-other.yaml'));
    assert.equal(denied.allowed, false);
    assert.match(denied.reasons.join('\n'), /gate-other\.yaml: \[tests\] ATTESTATION_MISSING: .*functionary 'tester': subject/);
  });

  it('repo add admission (tuf.admission with trustedRoot) admits a target with the keyless attestation, and refuses another identity', async () => {
    const tuf = p('tuf');
    const repo = await makeRepo(tuf);
    repo.addSigners([repoKey('targets1').signer()]);
    repo.delegate({ role: 'apps', paths: ['apps/*'], keys: [repoKey('online').publicKey], threshold: 1 });
    await repo.save();
    await repo.publish();
    const start = async (policy: string) => {
      writeFileSync(p(policy), policy === 'adm-ok.yaml' ? policyYaml(h.issuer, subject) : policyYaml(h.issuer, subject.replace('/steps/test', '/steps/deploy')));
      const { policies, trust } = loadPolicyFiles({ policies: [p(policy)], policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, trustedRoot: p('root.json') }, 'tuf.admission');
      const app = Fastify({ logger: false });
      app.setErrorHandler((error, _request, reply) => {
        const m = mapError(error);
        return reply.code(m.status).send(m.body);
      });
      await app.register(tufPlugin, {
        tuf: { dir: tuf, open: () => TufRepository.open(tuf, [repoKey('online').signer()]), authorize: () => true, policies, trust, refreshWithin: 3600, refreshEveryMs: 600_000, now: () => new Date() },
      });
      return app;
    };
    const add = (app: Awaited<ReturnType<typeof start>>) =>
      app.inject({ method: 'POST', url: '/tuf/v1/targets', payload: { path: 'apps/app.tgz', content: readFileSync(p('app.tgz')).toString('base64'), attestations: [bundle] } });
    const denying = await start('adm-other.yaml');
    try {
      const res = await add(denying);
      assert.equal(res.statusCode, 422);
      assert.equal(res.json<{ code: string }>().code, 'ADMISSION_DENIED');
      assert.match(res.json<{ message: string }>().message, /\[tests\] ATTESTATION_MISSING/);
    } finally {
      await denying.close();
    }
    const admitting = await start('adm-ok.yaml');
    try {
      const res = await add(admitting);
      assert.equal(res.statusCode, 201, res.body);
    } finally {
      await admitting.close();
    }
  });

  it('another issuer fails, naming the issuer mismatch', async () => {
    const { passed, verdict } = await verify(policyYaml('https://token.actions.githubusercontent.com', subject));
    assert.equal(passed, false);
    const [e] = errors(verdict);
    assert.equal(e?.code, 'ATTESTATION_MISSING');
    assert.equal(e?.step, 'tests');
    assert.match(e?.reason ?? '', /functionary 'tester': issuer 'http:\/\/127\.0\.0\.1:8420' does not match 'https:\/\/token\.actions/);
  });

  it('without --trusted-root the keyless attestation is not evidence (KEYLESS_UNVERIFIED), and the policy fails', async () => {
    const { passed, verdict } = await verify(policyYaml(h.issuer, subject), p('att'), { trustedRoot: undefined });
    assert.equal(passed, false);
    assert.ok(verdict.issues.some((i) => i.code === 'KEYLESS_UNVERIFIED' && i.severity === 'warning'));
    assert.ok(errors(verdict).some((i) => i.code === 'ATTESTATION_MISSING' && i.step === 'tests'));
  });

  it('a certificate from another CA for the same identity fails with CERTIFICATE_UNTRUSTED, naming the functionary', async () => {
    const otherRoot = generateKeyPair('ecdsa-p256');
    const leafKey = generateKeyPair('ecdsa-p256');
    const now = new Date();
    const leaf = await buildCertificate(
      {
        subject: distinguishedName('x', 'x'),
        issuer: distinguishedName('custody-test', 'custody-test keyless intermediate'),
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + 600_000),
        spkiDer: leafKey.publicKey.keyObject.export({ type: 'spki', format: 'der' }),
        eku: 'codeSigning',
        san: { uri: subject },
        extra: [[FULCIO_OID.issuerV1, Buffer.from(h.issuer)]],
      },
      localSigner(otherRoot),
    );
    // Signed by the other CA's leaf key, time-stamped by custody's TSA: only the chain is wrong.
    const env = bundle.dsseEnvelope;
    const sig = cryptoSign('sha256', pae(env.payloadType, decodeBase64(env.payload, 'payload')), leafKey.keyObject);
    const forged = structuredClone(bundle);
    forged.verificationMaterial.certificate.rawBytes = leaf.toString('base64');
    forged.dsseEnvelope.signatures = [{ keyid: '', sig: sig.toString('base64') }];
    forged.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [{ signedTimestamp: (await fetchTimestamp(h.url, sig)).toString('base64') }];
    mkdirSync(p('forged'));
    writeFileSync(p('forged', 'tests.sigstore'), JSON.stringify(forged));
    assert.throws(() => verifyKeylessDsse({ bundle: forged, trustedRoot: root }), (e: unknown) => isCustodyError(e) && e.code === 'CERTIFICATE_UNTRUSTED');
    const { passed, verdict } = await verify(policyYaml(h.issuer, subject), p('forged'));
    assert.equal(passed, false);
    const untrusted = errors(verdict).find((i) => i.code === 'CERTIFICATE_UNTRUSTED');
    assert.match(untrusted?.reason ?? '', /claiming functionary 'tester'.*not issued by a trusted certificate authority/);
    assert.ok(errors(verdict).some((i) => i.code === 'ATTESTATION_MISSING' && i.step === 'tests'));
  });

  it('a time-stamp outside the certificate validity fails with CERTIFICATE_EXPIRED', async () => {
    const late = structuredClone(bundle);
    const sig = Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64');
    const saved = h.clock.now;
    h.clock.now = new Date(Date.now() + 11 * 60_000);
    try {
      late.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [{ signedTimestamp: (await fetchTimestamp(h.url, sig)).toString('base64') }];
    } finally {
      h.clock.now = saved;
    }
    mkdirSync(p('late'));
    writeFileSync(p('late', 'tests.sigstore'), JSON.stringify(late));
    const { passed, verdict } = await verify(policyYaml(h.issuer, subject), p('late'));
    assert.equal(passed, false);
    const expired = errors(verdict).find((i) => i.code === 'CERTIFICATE_EXPIRED');
    assert.match(expired?.reason ?? '', /claiming functionary 'tester'.*outside the certificate's validity/);
  });

  it('custody run --keyless --dsse writes a keyless link bundle that satisfies a step naming the identity', async () => {
    mkdirSync(p('links'));
    const r = await run(['run', '-n', 'package', '--keyless', '--dsse', '--server', h.url, '-p', 'app.tgz', '-d', p('links'), '--no-command', '--json'], { CUSTODY_TOKEN: h.tokens.attester }, dir.path);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { link: string; identity: string };
    assert.equal(out.link, p('links', 'package.keyless.sigstore'));
    assert.match(out.identity, /\/steps\/package$/);
    const linkBundle = JSON.parse(readFileSync(out.link, 'utf8')) as KeylessDsseBundle;
    const sigstore = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)), { ctlogThreshold: 0 });
    assert.equal(sigstore.verify(toSignedEntity(bundleFromJSON(linkBundle)), { subjectAlternativeName: out.identity, extensions: { issuer: h.issuer } }).identity?.subjectAlternativeName, out.identity);
    const policy = [
      '_type: https://custody.dev/policy/v1',
      'expires: "2099-01-01T00:00:00Z"',
      'functionaries:',
      `  packager: { keyless: { issuer: ${JSON.stringify(h.issuer)}, subject: "/.*\\/steps\\/package/" } }`,
      `  other: { keyless: { issuer: ${JSON.stringify(h.issuer)}, subject: "/.*\\/steps\\/build/" } }`,
      'steps:',
      '  - { name: package, predicateTypes: ["https://in-toto.io/attestation/link/v0.3"], functionaries: [packager], expectedProducts: ["ALLOW app.tgz", "DISALLOW *"] }',
      'artifact: { producedBy: [package] }',
      '',
    ].join('\n');
    const pass = await verify(policy, p('links'));
    assert.equal(pass.passed, true, JSON.stringify(pass.verdict.issues));
    const fail = await verify(policy.replace('functionaries: [packager]', 'functionaries: [other]'), p('links'));
    assert.equal(fail.passed, false);
    assert.ok(errors(fail.verdict).some((i) => i.code === 'ATTESTATION_MISSING' && i.step === 'package' && /functionary 'other': subject/.test(i.reason)));
    const noDsse = await run(['run', '-n', 'package', '--keyless', '--server', h.url, '--no-command']);
    assert.equal(noDsse.status, 2);
    assert.match(assertOneLineError(noDsse), /\[USAGE\]$/);
  });

  it('an envelope altered inside the bundle fails (SIGNATURE_INVALID), and so does --keyless with --key', async () => {
    const altered = structuredClone(bundle);
    altered.dsseEnvelope.payload = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: TEST_RESULT, predicate: { passed: true } })).toString('base64');
    assert.throws(() => verifyKeylessDsse({ bundle: altered, trustedRoot: root }), (e: unknown) => isCustodyError(e) && e.code === 'SIGNATURE_INVALID');
    const r = await run(['attest', '--subject', p('app.tgz'), '--type', TEST_RESULT, '--predicate', p('result.json'), '--keyless', '--key', p('x.key')]);
    assert.equal(r.status, 2);
    assert.match(assertOneLineError(r), /\[USAGE\]$/);
  });
});
