// POST /v1/sign end to end on the in-process server (SQLite store, file log, encrypted file keys):
// the policy check before signing, authorization refusals (audited, nothing signed or logged),
// bundles that verify with @sigstore/verify (public key; and custody's trusted root with a log
// threshold of 1) and with custody, tampering detected by both, sign-then-verify revocation, and
// no secrets in the logs.
import { createHash, createPublicKey } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, VerificationError as SigstoreVerificationError, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { VerificationError, generateKeyPair, type PublicKey } from '../../src/core/index.ts';
import { FileKeyBackend } from '../../src/keys/index.ts';
import { parseRevocationList, trustedLogsFromRoot, verifyBundle } from '../../src/server/index.ts';
import { SLSA_V1, makeEnvelope } from '../support/attestations.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';

const PASSPHRASE = 'signing-test-passphrase-7f3a';
const VSA = 'https://slsa.dev/verification_summary/v1';
const builder = generateKeyPair('ed25519');
const rebuilder = generateKeyPair('ed25519');

const artifact = Buffer.from('app-1.0.tgz bytes');
const artifactSha = createHash('sha256').update(artifact).digest('hex');
const nightly = Buffer.from('nightly build, not reproducible');
const nightlySha = createHash('sha256').update(nightly).digest('hex');
const unattested = Buffer.from('never built by CI');
const badBuild = Buffer.from('built by someone else');

function provenance(buildType: string): Record<string, unknown> {
  return { buildDefinition: { buildType, externalParameters: {} }, runDetails: { builder: { id: 'https://ci.example/builder' } } };
}

function policyFile(dir: string, name: string, step: Record<string, unknown>, functionaries: Record<string, { publicKey: string }>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ _type: 'https://custody.dev/policy/v1', expires: '2030-01-01T00:00:00Z', functionaries, steps: [step] }));
  return path;
}

const EMPTY_ROOT = { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] };

function sigstoreVerify(bundleJson: unknown, key: PublicKey, data: Buffer, root: unknown = EMPTY_ROOT, tlogThreshold = 0): void {
  const keys = (hint: string) => {
    if (hint !== key.keyid) throw new SigstoreVerificationError({ code: 'PUBLIC_KEY_ERROR', message: `no key ${hint}` });
    return { publicKey: createPublicKey(key.pem), validFor: () => true };
  };
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root), keys), { tlogThreshold, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundleFromJSON(bundleJson), data));
}

function withoutLog(bundle: unknown): unknown {
  const copy = structuredClone(bundle) as { verificationMaterial: { tlogEntries: unknown[] } };
  copy.verificationMaterial.tlogEntries = [];
  return copy;
}

describe('POST /v1/sign', () => {
  let h: Harness;
  let releaseKey: PublicKey;
  let root: unknown;
  const webhookEvents: Record<string, unknown>[] = [];
  const webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      webhookEvents.push(JSON.parse(body) as Record<string, unknown>);
      res.end('ok');
    });
  });

  before(async () => {
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const port = (webhook.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'custody-sign-'));
    process.env['CUSTODY_TEST_KEY_PASSPHRASE'] = PASSPHRASE;
    const keys = new FileKeyBackend({ dir: join(dir, 'keys'), passphrase: PASSPHRASE });
    releaseKey = (await keys.create({ name: 'release', type: 'ecdsa-p256' })) && (await keys.publicKey('release'));
    await keys.create({ name: 'other', type: 'ecdsa-p256' });
    await keys.create({ name: 'nightly', type: 'ecdsa-p256' });
    await keys.close();
    const build = policyFile(dir, 'build.json', { name: 'build', predicateTypes: [SLSA_V1], functionaries: ['builder'], rules: ['predicate.buildDefinition.buildType == "https://ci.example/release/v1"'] }, { builder: { publicKey: builder.publicKey.pem } });
    const rebuild = policyFile(dir, 'rebuild.json', { name: 'rebuild', predicateTypes: [VSA], functionaries: ['rebuilder'], rules: ['predicate.verificationResult == "PASSED"'] }, { rebuilder: { publicKey: rebuilder.publicKey.pem } });
    h = await startHarness({
      configure: (config) => {
        config.signing = {
          enabled: true,
          backend: { kind: 'file', dir: join(dir, 'keys'), passphraseEnv: 'CUSTODY_TEST_KEY_PASSPHRASE' },
          keys: [
            { name: 'release', policy: build, policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, modes: ['verify-then-sign'] },
            { name: 'other', policy: build, policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, modes: ['verify-then-sign'] },
            { name: 'nightly', policy: build, policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, verifyPolicy: rebuild, modes: ['verify-then-sign', 'sign-then-verify'] },
          ],
          grants: [{ principals: ['token:*'], keys: ['release', 'nightly'], artifacts: ['app-*.tgz', 'nightly-*.tgz'] }],
          webhook: `http://127.0.0.1:${port}/hook`,
          jobIntervalMs: 30,
          verifyTimeoutMs: 3_600_000,
          maxAttestations: 100,
        };
      },
    });
    const upload = async (bytes: Buffer) => {
      const r = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/json' }, payload: bytes });
      assert.equal(r.statusCode < 300, true, r.body);
    };
    for (const [name, bytes] of [['app-1.0.tgz', artifact], ['nightly-2.tgz', nightly]] as const) {
      await upload(await makeEnvelope({ subjects: [{ name, digest: { sha256: createHash('sha256').update(bytes).digest('hex') } }], predicateType: SLSA_V1, predicate: provenance('https://ci.example/release/v1'), keys: [builder] }));
    }
    await upload(await makeEnvelope({ subjects: [{ name: 'app-bad.tgz', digest: { sha256: createHash('sha256').update(badBuild).digest('hex') } }], predicateType: SLSA_V1, predicate: provenance('https://evil.example/v1'), keys: [builder] }));
    // The independent rebuild of the nightly did not reproduce it.
    await upload(
      await makeEnvelope({
        subjects: [{ name: 'nightly-2.tgz', digest: { sha256: nightlySha } }],
        predicateType: VSA,
        predicate: { verifier: { id: 'https://rebuild.example' }, timeVerified: '2026-05-01T00:00:00Z', resourceUri: 'pkg:generic/nightly', policy: { uri: 'https://rebuild.example/p' }, verificationResult: 'FAILED', verifiedLevels: ['SLSA_BUILD_LEVEL_3'] },
        keys: [rebuilder],
      }),
    );
    root = (await h.inject({ method: 'GET', url: '/v1/trusted-root' })).json();
  });

  after(async () => {
    await h.close();
    webhook.close();
  });

  const sign = (token: string, body: Record<string, unknown>) =>
    h.inject({ method: 'POST', url: '/v1/sign', token, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

  async function checkpointSize(): Promise<number> {
    const r = await h.inject({ method: 'GET', url: '/log/checkpoint' });
    return r.statusCode === 200 ? Number(r.body.split('\n')[1]) : 0;
  }

  async function signAudits(outcome: string): Promise<Record<string, unknown>[]> {
    const r = await h.inject({ method: 'GET', url: '/v1/audit?limit=1000', token: h.tokens.admin });
    const body = r.json<{ entries?: Record<string, unknown>[]; items?: Record<string, unknown>[] }>();
    return (body.entries ?? body.items ?? []).filter((e) => String(e['action']).startsWith('signing.') && e['outcome'] === outcome);
  }

  describe('when the caller may sign and the attestations satisfy the policy', () => {
    it('answers with a bundle that verifies with @sigstore/verify and custody, with the log entry', async () => {
      const r = await sign(h.tokens.signer, { digest: `sha256:${artifactSha}`, keyRef: 'release', artifactName: 'app-1.0.tgz' });
      assert.equal(r.statusCode, 200, r.body);
      const { bundle, keyid, logIndex } = r.json<{ bundle: unknown; keyid: string; logIndex: number }>();
      assert.equal(keyid, releaseKey.keyid);
      assert.equal(typeof logIndex, 'number');
      // Public-key trust only (sigstore-js checks every log entry against the root's logs, so the
      // entry is left out here), then with custody's trusted root and a log threshold of 1.
      sigstoreVerify(withoutLog(bundle), releaseKey, artifact);
      sigstoreVerify(bundle, releaseKey, artifact, root, 1);
      const logs = trustedLogsFromRoot(root);
      assert.equal(logs.length, 1);
      const v = verifyBundle({ bundle, artifactSha256: Buffer.from(artifactSha, 'hex'), artifact, keys: [releaseKey], logs });
      assert.deepEqual(v.logIndexes, [logIndex]);

      // Tampered artifact, signature and inclusion proof fail in both verifiers.
      const other = Buffer.from('another artifact');
      assert.throws(() => sigstoreVerify(bundle, releaseKey, other, root, 1), SigstoreVerificationError);
      assert.throws(() => verifyBundle({ bundle, artifactSha256: createHash('sha256').update(other).digest(), artifact: other, keys: [releaseKey], logs }), (e) => e instanceof VerificationError && e.code === 'DIGEST_MISMATCH');
      const b = bundle as { messageSignature: { signature: string }; verificationMaterial: { tlogEntries: { inclusionProof: { hashes: string[]; rootHash: string } }[] } };
      const badSig = structuredClone(b);
      const sigBytes = Buffer.from(b.messageSignature.signature, 'base64');
      sigBytes[sigBytes.length - 1]! ^= 1;
      badSig.messageSignature.signature = sigBytes.toString('base64');
      assert.throws(() => sigstoreVerify(withoutLog(badSig), releaseKey, artifact), SigstoreVerificationError);
      assert.throws(() => sigstoreVerify(badSig, releaseKey, artifact, root, 1), SigstoreVerificationError);
      assert.throws(() => verifyBundle({ bundle: badSig, artifactSha256: Buffer.from(artifactSha, 'hex'), artifact, keys: [releaseKey], logs }), (e) => e instanceof VerificationError && e.code === 'SIGNATURE_INVALID');
      const badProof = structuredClone(b);
      const rootHash = Buffer.from(b.verificationMaterial.tlogEntries[0]!.inclusionProof.rootHash, 'base64');
      rootHash[0]! ^= 1;
      badProof.verificationMaterial.tlogEntries[0]!.inclusionProof.rootHash = rootHash.toString('base64');
      badProof.verificationMaterial.tlogEntries[0]!.inclusionProof.hashes.push(Buffer.alloc(32, 7).toString('base64'));
      assert.throws(() => sigstoreVerify(badProof, releaseKey, artifact, root, 1), SigstoreVerificationError);
      assert.throws(() => verifyBundle({ bundle: badProof, artifactSha256: Buffer.from(artifactSha, 'hex'), artifact, keys: [releaseKey], logs }), (e) => e instanceof VerificationError && e.code === 'PROOF_INVALID');
    });

    it('signs a DSSE statement about the digest when asked', async () => {
      const r = await sign(h.tokens.signer, { digest: artifactSha, keyRef: 'release', artifactName: 'app-1.0.tgz', content: 'statement' });
      assert.equal(r.statusCode, 200, r.body);
      const { bundle } = r.json<{ bundle: unknown }>();
      sigstoreVerify(bundle, releaseKey, artifact, root, 1);
      const v = verifyBundle({ bundle, artifactSha256: Buffer.from(artifactSha, 'hex'), keys: [releaseKey], logs: trustedLogsFromRoot(root) });
      assert.equal(v.content, 'dsseEnvelope');
    });
  });

  describe('when a passing verdict was just given for the digest', () => {
    it('still refuses a request that names an attestation the store lacks (the reused verdict is per attestation set)', async () => {
      const ok = await sign(h.tokens.signer, { digest: artifactSha, keyRef: 'release', artifactName: 'app-1.0.tgz' });
      assert.equal(ok.statusCode, 200, ok.body);
      const r = await sign(h.tokens.signer, { digest: artifactSha, keyRef: 'release', artifactName: 'app-1.0.tgz', attestationIds: ['f'.repeat(64)] });
      assert.equal(r.statusCode, 422, r.body);
      assert.equal(r.json<{ code: string; reason: string }>().code, 'POLICY_FAILED');
      assert.equal(r.json<{ code: string; reason: string }>().reason, 'attestation-missing');
    });
  });

  describe('when the request must be refused', () => {
    const cases: [string, () => string, Record<string, unknown>, number, string][] = [
      ['no signer role', () => h.tokens.attester, { digest: artifactSha, keyRef: 'release', artifactName: 'app-1.0.tgz' }, 403, 'FORBIDDEN'],
      ['a key the caller may not use', () => h.tokens.signer, { digest: artifactSha, keyRef: 'other', artifactName: 'app-1.0.tgz' }, 403, 'ACCESS_DENIED'],
      ['an artifact name outside the patterns', () => h.tokens.signer, { digest: artifactSha, keyRef: 'release', artifactName: 'evil.exe' }, 403, 'ACCESS_DENIED'],
      ['missing attestations', () => h.tokens.signer, { digest: createHash('sha256').update(unattested).digest('hex'), keyRef: 'release', artifactName: 'app-x.tgz' }, 422, 'POLICY_FAILED'],
      ['failing attestations', () => h.tokens.signer, { digest: createHash('sha256').update(badBuild).digest('hex'), keyRef: 'release', artifactName: 'app-bad.tgz' }, 422, 'POLICY_FAILED'],
      ['a mode the key does not allow', () => h.tokens.signer, { digest: artifactSha, keyRef: 'release', artifactName: 'app-1.0.tgz', mode: 'sign-then-verify' }, 403, 'MODE_NOT_ALLOWED'],
    ];
    for (const [what, token, body, status, code] of cases) {
      it(`refuses ${what}: ${status} ${code}, audited, nothing signed or logged`, async () => {
        const size = await checkpointSize();
        const allowed = (await signAudits('allowed')).length;
        const denied = (await signAudits('denied')).length;
        const deniedAll = (await h.inject({ method: 'GET', url: '/v1/audit?limit=1000', token: h.tokens.admin })).json<{ entries?: unknown[]; items?: unknown[] }>();
        const r = await sign(token(), body);
        assert.equal(r.statusCode, status, r.body);
        assert.equal(r.json<{ code: string }>().code, code);
        assert.equal(await checkpointSize(), size, 'nothing logged');
        assert.equal((await signAudits('allowed')).length, allowed, 'nothing signed');
        if (code === 'FORBIDDEN') {
          // Refused by the route's role check: the app audits the denial.
          const after = (await h.inject({ method: 'GET', url: '/v1/audit?limit=1000', token: h.tokens.admin })).json<{ entries?: unknown[]; items?: unknown[] }>();
          assert.equal((after.entries ?? after.items ?? []).length, (deniedAll.entries ?? deniedAll.items ?? []).length + 1);
        } else {
          const d = await signAudits('denied');
          assert.equal(d.length, denied + 1);
          assert.equal((d.at(-1)!['detail'] as { code: string }).code, code);
        }
      });
    }
  });

  describe('when a sign-then-verify job fails', () => {
    it('revokes the signature, alerts, and verification rejects it afterwards with the reason', async () => {
      const nightlyKey = (await h.inject({ method: 'GET', url: '/v1/signing/keys' })).json<{ keys: { name: string; publicKeyPem: string }[] }>().keys.find((k) => k.name === 'nightly')!;
      const { publicKeyFromPem } = await import('../../src/core/index.ts');
      const pub = publicKeyFromPem(nightlyKey.publicKeyPem);
      const r = await sign(h.tokens.signer, { digest: nightlySha, keyRef: 'nightly', artifactName: 'nightly-2.tgz', mode: 'sign-then-verify' });
      assert.equal(r.statusCode, 200, r.body);
      const { bundle, jobId } = r.json<{ bundle: unknown; jobId: string }>();
      // Signed at once: valid until the job decides.
      verifyBundle({ bundle, artifactSha256: Buffer.from(nightlySha, 'hex'), artifact: nightly, keys: [pub], logs: trustedLogsFromRoot(root) });
      let job: { status: string; reason?: string } = { status: 'pending' };
      for (let i = 0; i < 200 && job.status === 'pending'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        job = (await h.inject({ method: 'GET', url: `/v1/signing/jobs/${jobId}`, token: h.tokens.signer })).json();
      }
      assert.equal(job.status, 'failed');
      assert.match(job.reason ?? '', /RULE_FAILED/);
      const revocations = parseRevocationList((await h.inject({ method: 'GET', url: '/v1/revocations' })).json());
      assert.equal(revocations.signatures.length, 1);
      assert.throws(
        () => verifyBundle({ bundle, artifactSha256: Buffer.from(nightlySha, 'hex'), artifact: nightly, keys: [pub], logs: trustedLogsFromRoot(root), revocations }),
        (e) => e instanceof VerificationError && e.code === 'SIGNATURE_REVOKED' && /verification failed/.test(e.message),
      );
      assert.equal((await signAudits('allowed')).some((e) => e['action'] === 'signing.revoke'), true);
      for (let i = 0; i < 100 && webhookEvents.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(webhookEvents[0]?.['event'], 'signature.revoked');
      assert.equal(webhookEvents[0]?.['jobId'], jobId);
    });
  });

  describe('the server logs', () => {
    it('never contain the key passphrase or API tokens', () => {
      const text = h.logs.join('');
      assert.ok(text.length > 0);
      assert.equal(text.includes(PASSPHRASE), false);
      for (const token of Object.values(h.tokens)) assert.equal(text.includes(token), false);
    });
  });
});
