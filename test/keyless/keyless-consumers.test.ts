// The consumers of keyless attestations, on real servers with the in-process CA over 127.0.0.1:
// the signing service's policy check (identity functionaries verified against signing.trustedRoot,
// else the server's own CA; refusals audited with the rule and the reason, nothing signed or
// logged), `custody rebuild --keyless` (a VSA bundle that verifies with the rebuilder's identity),
// and `custody repo add` / `custody fetch` with --trusted-root or the repository's own
// trusted_root.json target.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IN_TOTO_PAYLOAD_TYPE, generateKeyPair, isCustodyError, signEnvelope } from '../../src/core/index.ts';
import { runBuildStep } from '../../src/build/index.ts';
import { FileKeyBackend, Pkcs11KeyBackend } from '../../src/keys/index.ts';
import { evaluatePolicy, parsePolicyDocument } from '../../src/policy/index.ts';
import { keylessPolicyVerifier, parseSigningConfig, verifyKeylessDsse, type KeylessDsseBundle, type SigningConfig } from '../../src/server/index.ts';
import { CUSTODY_BIN, assertOneLineError, tempDir, type CliResult } from '../support/cli.ts';
import { haveComponents } from '../support/components.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';
import { SOFTHSM_LIBRARY, USER_PIN, softToken } from '../signing/softhsm.ts';
import { key as repoKey } from '../tuf/repo-kit.ts';
import { startCaHarness, type CaHarness } from './ca-harness.ts';

/** The CLI, asynchronously: the in-process servers must keep answering meanwhile. */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CUSTODY_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const TEST_RESULT = 'https://example.com/test-result/v1';
const ISSUER = 'http://127.0.0.1:8420'; // both CA harnesses' workload issuer
const PASSPHRASE = 'keyless-consumers-passphrase';

/** A signing/admission policy naming the identity (JSON: the signing service reads JSON policies). */
function policyJson(subject: string): string {
  return JSON.stringify({
    _type: 'https://custody.dev/policy/v1',
    name: 'keyless-release',
    expires: '2099-01-01T00:00:00Z',
    functionaries: { tester: { keyless: { issuer: ISSUER, subject } } },
    requirements: [{ name: 'tests', predicateTypes: [TEST_RESULT], functionaries: ['tester'], rules: ['predicate.passed == true'] }],
  });
}

interface Refusal {
  code: string;
  message: string;
  reasons?: string[];
}

describe('keyless attestations as evidence: signing service, rebuild, repo add, fetch', () => {
  const dir = tempDir('custody-keyless-consumers-');
  const p = (...parts: string[]) => join(dir.path, ...parts);
  let own: CaHarness; // CA + signing service, signing.trustedRoot absent: its own CA
  let other: CaHarness; // another CA + signing service with signing.trustedRoot = own's root
  let plain: Harness; // no CA, no signing.trustedRoot
  const urls = new Map<Harness, string>();
  const urlOf = (h: Harness): string => urls.get(h) ?? (h as CaHarness).url;
  async function listen(h: Harness): Promise<Harness> {
    urls.set(h, await h.app.listen({ host: '127.0.0.1', port: 0 }));
    return h;
  }
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  function signing(trustedRoot?: string): SigningConfig {
    return {
      enabled: true,
      backend: { kind: 'file', dir: p('keys'), passphraseEnv: 'CUSTODY_KEYLESS_CONSUMERS_PASSPHRASE' },
      keys: [
        { name: 'release', policy: p('tests.json'), policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, modes: ['verify-then-sign'] },
        { name: 'deploy-only', policy: p('deploy.json'), policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, modes: ['verify-then-sign'] },
      ],
      grants: [{ principals: ['token:*'], keys: ['release', 'deploy-only'], artifacts: ['*'] }],
      jobIntervalMs: 60_000,
      verifyTimeoutMs: 3_600_000,
      maxAttestations: 100,
      ...(trustedRoot === undefined ? {} : { trustedRoot }),
    };
  }

  async function attest(h: CaHarness, subject: string, out: string): Promise<void> {
    mkdirSync(join(out, '..'), { recursive: true });
    const r = await run(['attest', '--subject', subject, '--type', TEST_RESULT, '--predicate', p('result.json'), '--keyless', '--step', 'test', '--server', h.url, '--out', out], {
      CUSTODY_TOKEN: h.tokens.attester,
    });
    assert.equal(r.status, 0, r.stderr);
  }

  async function push(h: Harness, file: string): Promise<void> {
    const r = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/json' }, payload: readFileSync(file) });
    assert.ok(r.statusCode < 300, r.body);
  }

  /** POST /v1/sign over real HTTP on 127.0.0.1. */
  async function sign(h: Harness, keyRef: string, file: string): Promise<{ statusCode: number; body: string; json: <T>() => T }> {
    const response = await fetch(`${urlOf(h)}/v1/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.tokens.signer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ digest: sha(file), keyRef, artifactName: file.split('/').pop()! }),
    });
    const body = await response.text();
    return { statusCode: response.status, body, json: <T>() => JSON.parse(body) as T };
  }

  async function checkpointSize(h: Harness): Promise<number> {
    const r = await h.inject({ method: 'GET', url: '/log/checkpoint' });
    return r.statusCode === 200 ? Number(r.body.split('\n')[1]) : 0;
  }

  async function signAudits(h: Harness, outcome: string): Promise<Record<string, unknown>[]> {
    const body = (await h.inject({ method: 'GET', url: '/v1/audit?limit=1000', token: h.tokens.admin })).json<{ entries?: Record<string, unknown>[]; items?: Record<string, unknown>[] }>();
    return (body.entries ?? body.items ?? []).filter((e) => e['action'] === 'signing.sign' && e['outcome'] === outcome);
  }

  /** A refused sign request: 422 POLICY_FAILED, audited with the reasons, nothing signed or logged. */
  async function refused(h: Harness, keyRef: string, file: string): Promise<string[]> {
    const size = await checkpointSize(h);
    const allowed = (await signAudits(h, 'allowed')).length;
    const denied = (await signAudits(h, 'denied')).length;
    const r = await sign(h, keyRef, file);
    assert.equal(r.statusCode, 422, r.body);
    const body = r.json<Refusal>();
    assert.equal(body.code, 'POLICY_FAILED');
    assert.equal(await checkpointSize(h), size, 'nothing logged');
    assert.equal((await signAudits(h, 'allowed')).length, allowed, 'nothing signed');
    const audits = await signAudits(h, 'denied');
    assert.equal(audits.length, denied + 1, 'the refusal is audited');
    const detail = audits.at(-1)!['detail'] as { code?: string; reasons?: string[] } | undefined;
    assert.equal(detail?.code, 'POLICY_FAILED');
    assert.deepEqual(detail?.reasons, body.reasons);
    return body.reasons ?? [];
  }

  before(async () => {
    writeFileSync(p('app.tgz'), 'the release');
    writeFileSync(p('app2.tgz'), 'a release attested under another CA');
    writeFileSync(p('result.json'), JSON.stringify({ passed: true }));
    writeFileSync(p('tests.json'), policyJson('/.*\\/steps\\/test/'));
    writeFileSync(p('deploy.json'), policyJson('/.*\\/steps\\/deploy/'));
    process.env['CUSTODY_KEYLESS_CONSUMERS_PASSPHRASE'] = PASSPHRASE;
    const keys = new FileKeyBackend({ dir: p('keys'), passphrase: PASSPHRASE, scrypt: { N: 1024, r: 8, p: 1 } });
    await keys.create({ name: 'release', type: 'ecdsa-p256' });
    await keys.create({ name: 'deploy-only', type: 'ecdsa-p256' });
    await keys.close();
    own = await startCaHarness({ configure: (c) => (c.signing = signing()) });
    writeFileSync(p('root-own.json'), await (await fetch(`${own.url}/v1/ca/trusted-root`)).text());
    other = await startCaHarness({ configure: (c) => (c.signing = signing(p('root-own.json'))) });
    writeFileSync(p('root-other.json'), await (await fetch(`${other.url}/v1/ca/trusted-root`)).text());
    plain = await listen(await startHarness({ configure: (c) => (c.signing = signing()) }));
    await attest(own, p('app.tgz'), p('att-own', 'tests.sigstore'));
    await attest(other, p('app2.tgz'), p('att-other', 'tests.sigstore'));
  });
  after(async () => {
    await own.stop();
    await other.stop();
    await plain.close();
    dir[Symbol.dispose]();
  });

  describe('the signing service (verify-then-sign)', () => {
    it('signs when a stored keyless attestation by the named identity satisfies the policy (own CA by default)', async () => {
      await push(own, p('att-own', 'tests.sigstore'));
      const r = await sign(own, 'release', p('app.tgz'));
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json<{ policy: { passed: boolean; attestations: number }; logIndex?: number }>();
      assert.deepEqual(body.policy, { passed: true, attestations: 1 });
      assert.equal(typeof body.logIndex, 'number');
    });

    it('refuses another identity: POLICY_FAILED naming the requirement and the identity mismatch', async () => {
      const reasons = await refused(own, 'deploy-only', p('app.tgz'));
      assert.ok(
        reasons.some((r) => /^ATTESTATION_MISSING: \[tests\] .*functionary 'tester': subject '.*\/steps\/test' does not match '.*steps.*deploy/.test(r)),
        reasons.join('\n'),
      );
      // `custody sign --server` says so in one line, exit 1.
      const cli = await run(['sign', p('app.tgz'), '--server', own.url, '--key-ref', 'deploy-only', '--out', p('refused.sigstore.json')], { CUSTODY_TOKEN: own.tokens.signer });
      assert.equal(cli.status, 1, cli.stderr);
      assert.match(assertOneLineError(cli), /422 POLICY_FAILED: .*\(ATTESTATION_MISSING: \[tests\] .*does not match.*\[POLICY_FAILED\]$/);
      assert.equal(existsSync(p('refused.sigstore.json')), false);
    });

    it('refuses a certificate from another CA claiming the identity (CERTIFICATE_UNTRUSTED)', async () => {
      await push(own, p('att-other', 'tests.sigstore'));
      const reasons = await refused(own, 'release', p('app2.tgz'));
      assert.ok(reasons.some((r) => /^CERTIFICATE_UNTRUSTED: .*claiming functionary 'tester'.*not issued by a trusted certificate authority/.test(r)), reasons.join('\n'));
      assert.ok(reasons.some((r) => r.startsWith('ATTESTATION_MISSING: [tests]')), reasons.join('\n'));
    });

    it('signing.trustedRoot takes precedence over the server\'s own CA', async () => {
      await push(other, p('att-own', 'tests.sigstore'));
      const r = await sign(other, 'release', p('app.tgz'));
      assert.equal(r.statusCode, 200, r.body);
      await push(other, p('att-other', 'tests.sigstore'));
      const reasons = await refused(other, 'release', p('app2.tgz'));
      assert.ok(reasons.some((x) => x.startsWith('CERTIFICATE_UNTRUSTED: ')), reasons.join('\n'));
    });

    it('refuses when no trusted root is available (no CA, no signing.trustedRoot): KEYLESS_UNVERIFIED', async () => {
      await push(plain, p('att-own', 'tests.sigstore'));
      const reasons = await refused(plain, 'release', p('app.tgz'));
      assert.ok(reasons.some((r) => /^KEYLESS_UNVERIFIED: .*no trusted root.*signing\.trustedRoot/.test(r)), reasons.join('\n'));
      assert.ok(reasons.some((r) => r.startsWith('ATTESTATION_MISSING: [tests]')), reasons.join('\n'));
    });

    it('a PKCS#11 key in SoftHSM2 signs on keyless evidence verified against signing.trustedRoot (no CA in that server)', async (t) => {
      const label = softToken(t, 'keyless-consumers');
      if (label === undefined) return;
      const setup = new Pkcs11KeyBackend({ library: SOFTHSM_LIBRARY, tokenLabel: label, pin: USER_PIN });
      await setup.create({ name: 'release', type: 'ecdsa-p256' });
      await setup.close();
      process.env['CUSTODY_KEYLESS_CONSUMERS_PIN'] = USER_PIN;
      const hsm = await listen(
        await startHarness({
          configure: (c) => (c.signing = { ...signing(p('root-own.json')), keys: signing().keys.slice(0, 1), backend: { kind: 'pkcs11', library: SOFTHSM_LIBRARY, tokenLabel: label, pinEnv: 'CUSTODY_KEYLESS_CONSUMERS_PIN', sessions: 2 } }),
        }),
      );
      try {
        await push(hsm, p('att-own', 'tests.sigstore'));
        const r = await sign(hsm, 'release', p('app.tgz'));
        assert.equal(r.statusCode, 200, r.body);
        await push(hsm, p('att-other', 'tests.sigstore'));
        const reasons = await refused(hsm, 'release', p('app2.tgz'));
        assert.ok(reasons.some((x) => x.startsWith('CERTIFICATE_UNTRUSTED: ')), reasons.join('\n'));
      } finally {
        await hsm.close();
      }
    });

    it('signing.trustedRoot: resolved against the config file; an unreadable file stops the server (FILE_UNREADABLE)', async () => {
      const parsed = parseSigningConfig({ trustedRoot: 'trust/root.json' }, (x) => join('/etc/custody', x), '/var/lib/custody');
      assert.equal(parsed.trustedRoot, '/etc/custody/trust/root.json');
      await assert.rejects(
        startHarness({ configure: (c) => (c.signing = signing(p('missing-root.json'))) }),
        (e: unknown) => isCustodyError(e) && e.code === 'FILE_UNREADABLE',
      );
    });
  });

  it('custody rebuild --keyless: the VSA is a keyless bundle that verifies with the rebuilder identity', async (t) => {
    if (!haveComponents(t, 'bwrap', 'git')) return;
    const repo = p('repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'in.txt'), 'input\n');
    const env = { ...process.env, GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' };
    for (const args of [['init', '-q'], ['add', '-A'], ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'x']]) execFileSync('git', args, { cwd: repo, env });
    const built = await runBuildStep({ name: 'build', dir: repo, materials: ['in.txt'], products: ['out'], command: ['sh', '-c', 'cp in.txt out/a.txt'], env: {}, tools: [], hermetic: true, passThrough: false });
    const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(built.provenance)), [generateKeyPair('ed25519').signer()]);
    writeFileSync(p('build.provenance.json'), JSON.stringify(envelope));

    const both = await run(['rebuild', '--provenance', p('build.provenance.json'), '--source', repo, '--keyless', '--key', p('x.key'), '--server', own.url]);
    assert.equal(both.status, 2);
    assert.match(assertOneLineError(both), /\[USAGE\]$/);

    const r = await run(['rebuild', '--provenance', p('build.provenance.json'), '--source', repo, '--keyless', '--server', own.url, '--out', p('rebuild'), '--json'], { CUSTODY_TOKEN: own.tokens.attester });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { result: string; vsa: string; identity: string };
    assert.equal(out.result, 'PASSED');
    assert.equal(out.vsa, p('rebuild', 'rebuild.vsa.sigstore'));
    assert.match(out.identity, /\/steps\/rebuild$/);
    const root = JSON.parse(readFileSync(p('root-own.json'), 'utf8')) as unknown;
    const bundle = JSON.parse(readFileSync(out.vsa, 'utf8')) as KeylessDsseBundle;
    const v = verifyKeylessDsse({ bundle, trustedRoot: root });
    assert.equal(v.identity, out.identity);
    assert.equal(v.issuer, ISSUER);
    assert.throws(() => verifyKeylessDsse({ bundle, trustedRoot: JSON.parse(readFileSync(p('root-other.json'), 'utf8')) }), (e: unknown) => isCustodyError(e) && e.code === 'CERTIFICATE_UNTRUSTED');

    // A policy naming the rebuilder identity accepts the VSA; one naming another step does not.
    const policy = (subject: string) =>
      parsePolicyDocument({
        _type: 'https://custody.dev/policy/v1',
        expires: '2099-01-01T00:00:00Z',
        functionaries: { rebuilder: { keyless: { issuer: ISSUER, subject } } },
        requirements: [{ name: 'rebuild', predicateTypes: ['https://slsa.dev/verification_summary/v1'], functionaries: ['rebuilder'], rules: ['predicate.verificationResult == "PASSED"'] }],
      });
    const subject = built.provenance!.subject.find((s) => s.name === 'out/a.txt')!;
    const input = [{ envelope: bundle.dsseEnvelope as never, source: out.vsa, verificationMaterial: bundle }];
    const trust = { allowUnsignedPolicy: true, keyless: keylessPolicyVerifier(root) };
    const pass = evaluatePolicy({ document: policy('/.*\\/steps\\/rebuild/') }, input, trust, { artifactDigest: subject.digest!, now: new Date() });
    assert.equal(pass.passed, true, JSON.stringify(pass.issues));
    const fail = evaluatePolicy({ document: policy('/.*\\/steps\\/test/') }, input, trust, { artifactDigest: subject.digest!, now: new Date() });
    assert.equal(fail.passed, false);

    // custody rebuilder --keyless: the queued job's VSA is pushed as a keyless bundle.
    const pushed = await own.inject({ method: 'POST', url: '/v1/attestations', token: own.tokens.attester, payload: envelope });
    assert.equal(pushed.statusCode, 201, pushed.body);
    const queued = await own.inject({ method: 'POST', url: '/v1/rebuilds', token: own.tokens.attester, payload: { provenanceId: pushed.json<{ id: string }>().id, wanted: 1 } });
    assert.equal(queued.statusCode, 201, queued.body);
    const served = await run(['rebuilder', '--server', own.url, '--keyless', '--once', '--json'], { CUSTODY_TOKEN: await own.token('attester', ['*']) });
    assert.equal(served.status, 0, served.stderr);
    const [job] = (JSON.parse(served.stdout) as { jobs: { result: string; vsaId: string }[] }).jobs;
    assert.equal(job?.result, 'PASSED');
    const stored = JSON.parse((await own.inject({ method: 'GET', url: `/v1/attestations/${job.vsaId}`, token: own.tokens.reader })).body) as KeylessDsseBundle;
    assert.match(verifyKeylessDsse({ bundle: stored, trustedRoot: root }).identity, /\/steps\/rebuild$/);
  });

  it('custody repo add and custody fetch: --trusted-root, the repository\'s trusted_root.json, and refusals', async () => {
    for (const name of ['root1', 'targets1', 'online']) writeFileSync(p(`${name}.key`), repoKey(name).toPkcs8Pem());
    const tuf = p('tuf');
    let r = await run(['repo', 'init', '--dir', tuf, '--root-key', p('root1.key'), '--targets-key', p('targets1.key'), '--online-key', p('online.key')]);
    assert.equal(r.status, 0, r.stderr);
    const policy = ['--policy', p('tests.json'), '--allow-unsigned-policy'];
    const add = (...extra: string[]) => run(['repo', 'add', p('app.tgz'), '--as', 'apps/app.tgz', '--attestations', p('att-own'), ...policy, '--dir', tuf, '--sign-key', p('targets1.key'), ...extra]);

    // Admission: another CA's trusted root, or none, refuses (exit 1) with the keyless reason.
    const [wrongRoot, noRoot, missingRoot] = await Promise.all([add('--trusted-root', p('root-other.json')), add(), add('--trusted-root', p('missing.json'))]);
    assert.equal(wrongRoot.status, 1, wrongRoot.stderr);
    assert.match(assertOneLineError(wrongRoot), /CERTIFICATE_UNTRUSTED.*not issued by a trusted certificate authority.*\[ADMISSION_DENIED\]$/);
    assert.equal(noRoot.status, 1, noRoot.stderr);
    assert.match(assertOneLineError(noRoot), /ATTESTATION_MISSING.*KEYLESS_UNVERIFIED: .*no trusted root \(--trusted-root\).*\[ADMISSION_DENIED\]$/);
    assert.equal(missingRoot.status, 2);
    assert.match(assertOneLineError(missingRoot), /\[FILE_UNREADABLE\]$/);
    r = await add('--trusted-root', p('root-own.json'), '--publish');
    assert.equal(r.status, 0, r.stderr);

    const fetchApp = (out: string, ...extra: string[]) => run(['fetch', 'apps/app.tgz', '--repo', tuf, '--root', join(tuf, 'metadata', '1.root.json'), '--out', p(out), '--json', ...extra]);
    const [f1, f2, f3, f4] = await Promise.all([
      fetchApp('f1.tgz', ...policy, '--trusted-root', p('root-own.json')),
      fetchApp('f2.tgz', ...policy, '--trusted-root', p('root-other.json')),
      fetchApp('f3.tgz', ...policy),
      fetchApp('f4.tgz', '--trusted-root', p('root-own.json')),
    ]);
    assert.equal(f1.status, 0, f1.stderr);
    assert.equal((JSON.parse(f1.stdout) as { trustedRoot: string }).trustedRoot, p('root-own.json'));
    assert.equal(readFileSync(p('f1.tgz'), 'utf8'), 'the release');
    assert.equal(f2.status, 1);
    assert.match(assertOneLineError(f2), /CERTIFICATE_UNTRUSTED.*\[POLICY_FAILED\]$/);
    assert.equal(f3.status, 1);
    assert.match(assertOneLineError(f3), /KEYLESS_UNVERIFIED.*\[POLICY_FAILED\]$/);
    assert.equal(f4.status, 2);
    assert.match(assertOneLineError(f4), /\[USAGE\]$/);
    assert.equal(existsSync(p('f2.tgz')) || existsSync(p('f3.tgz')), false, 'nothing written when refused');

    // The repository publishes the trusted root as target trusted_root.json (as custody serve does):
    // fetch uses it when no --trusted-root is given, and --trusted-root still takes precedence.
    r = await run(['repo', 'add', p('root-own.json'), '--as', 'trusted_root.json', '--dir', tuf, '--sign-key', p('targets1.key'), '--publish']);
    assert.equal(r.status, 0, r.stderr);
    const [f5, f6] = await Promise.all([fetchApp('f5.tgz', ...policy), fetchApp('f6.tgz', ...policy, '--trusted-root', p('root-other.json'))]);
    assert.equal(f5.status, 0, f5.stderr);
    assert.equal((JSON.parse(f5.stdout) as { trustedRoot: string }).trustedRoot, 'TUF target trusted_root.json');
    assert.equal(f6.status, 1);
    assert.match(assertOneLineError(f6), /CERTIFICATE_UNTRUSTED.*\[POLICY_FAILED\]$/);
  });
});
