// The must-show of keyless signing: a bundle made by custody's keyless client (workload ID token →
// certificate → signature → log entry → RFC 3161 time-stamp) verifies with @sigstore/verify given
// custody's trusted root, with the default log and time-stamp thresholds (no certificate
// transparency: ctlogThreshold 0) and the certificate identity checked; a policy naming another
// subject fails, and so do a certificate from another CA and a time-stamp after the certificate
// expired. custody's own verifier agrees on every case, with precise codes.
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError as SigstorePolicyError, Verifier, VerificationError as SigstoreVerificationError, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { PolicyError, VerificationError, generateKeyPair, isCustodyError } from '../../src/core/index.ts';
import {
  buildCertificate,
  certificateIdentity,
  distinguishedName,
  fetchTimestamp,
  keylessSignDigest,
  mintIdentityToken,
  verifyKeylessBundle,
  type KeylessBundle,
} from '../../src/server/index.ts';
import { localSigner } from '../../src/server/index.ts';
import { startCaHarness, type CaHarness } from './ca-harness.ts';

const artifact = Buffer.from('release artifact bytes\n');
const digest = createHash('sha256').update(artifact).digest();

function sigstoreVerifier(rootJson: unknown): Verifier {
  // Default tlogThreshold (1) and timestampThreshold (1); no CT log in a private deployment.
  return new Verifier(toTrustMaterial(TrustedRoot.fromJSON(rootJson)), { ctlogThreshold: 0 });
}

describe('keyless signing interop with @sigstore/verify', () => {
  let h: CaHarness;
  let root: unknown;
  let bundle: KeylessBundle;
  let identity: string;
  before(async () => {
    h = await startCaHarness();
    root = await (await fetch(`${h.url}/v1/ca/trusted-root`)).json();
    const minted = await mintIdentityToken(h.url, h.tokens.signer, { step: 'build', ttlSeconds: 600, run: 'run-42' });
    const signed = await keylessSignDigest(h.url, minted.token, digest);
    bundle = signed.bundle;
    identity = signed.identity;
    assert.equal(identity, minted.subject);
    assert.equal(signed.issuer, h.issuer);
  });
  after(async () => h.stop());

  it('@sigstore/verify accepts the bundle with default thresholds and the identity policy', () => {
    const signer = sigstoreVerifier(root).verify(toSignedEntity(bundleFromJSON(bundle), artifact), {
      subjectAlternativeName: `^${identity.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`,
      extensions: { issuer: h.issuer },
    });
    assert.equal(signer.identity?.subjectAlternativeName, identity);
    assert.equal(signer.identity?.extensions?.issuer, h.issuer);
  });

  it('custody verifies the same bundle: identity, issuer, signing time inside the validity, log index', () => {
    const v = verifyKeylessBundle({ bundle, artifact, trustedRoot: root, identities: [{ subject: identity, issuer: h.issuer }] });
    assert.equal(v.identity, identity);
    assert.ok(Date.parse(v.signedAt) >= Date.parse(v.certificate.notBefore) && Date.parse(v.signedAt) <= Date.parse(v.certificate.notAfter));
    assert.equal(v.logIndexes.length, 1);
    assert.ok(Date.parse(v.certificate.notAfter) - Date.parse(v.certificate.notBefore) <= 600_000);
  });

  it('a policy for another subject fails on both sides (UNTRUSTED_SIGNER_ERROR / IDENTITY_MISMATCH)', () => {
    const other = identity.replace('/steps/build', '/steps/deploy');
    assert.throws(
      () => sigstoreVerifier(root).verify(toSignedEntity(bundleFromJSON(bundle), artifact), { subjectAlternativeName: `^${other}$`, extensions: { issuer: h.issuer } }),
      (e: unknown) => e instanceof SigstorePolicyError && e.code === 'UNTRUSTED_SIGNER_ERROR',
    );
    assert.throws(
      () => sigstoreVerifier(root).verify(toSignedEntity(bundleFromJSON(bundle), artifact), { subjectAlternativeName: identity, extensions: { issuer: 'https://token.actions.githubusercontent.com' } }),
      (e: unknown) => e instanceof SigstorePolicyError && e.code === 'UNTRUSTED_SIGNER_ERROR',
    );
    assert.throws(
      () => verifyKeylessBundle({ bundle, artifact, trustedRoot: root, identities: [{ subject: other, issuer: h.issuer }] }),
      (e: unknown) => e instanceof PolicyError && e.code === 'IDENTITY_MISMATCH',
    );
    // A pattern is anchored: it must match the whole identity.
    assert.doesNotThrow(() => verifyKeylessBundle({ bundle, artifact, trustedRoot: root, identities: [{ subject: '/.*\\/steps\\/build/', issuer: h.issuer }] }));
    assert.throws(
      () => verifyKeylessBundle({ bundle, artifact, trustedRoot: root, identities: [{ subject: '/steps/', issuer: h.issuer }] }),
      (e: unknown) => e instanceof PolicyError && e.code === 'IDENTITY_MISMATCH',
    );
  });

  it('a tampered artifact fails on both sides', () => {
    const tampered = Buffer.from('release artifact bytes!\n');
    assert.throws(() => sigstoreVerifier(root).verify(toSignedEntity(bundleFromJSON(bundle), tampered)), (e: unknown) => e instanceof SigstoreVerificationError);
    assert.throws(() => verifyKeylessBundle({ bundle, artifact: tampered, trustedRoot: root, identities: [] }), (e: unknown) => e instanceof VerificationError && e.code === 'DIGEST_MISMATCH');
  });

  it('a certificate from another CA is refused (CERTIFICATE_ERROR / CERTIFICATE_UNTRUSTED)', async () => {
    // Another CA issues a leaf for the same identity and key type; the signature is by its key.
    const otherRoot = generateKeyPair('ecdsa-p256');
    const name = distinguishedName('custody-test', 'custody-test keyless intermediate');
    const leafKey = generateKeyPair('ecdsa-p256');
    const now = new Date();
    const leaf = await buildCertificate(
      { subject: distinguishedName('x', 'x'), issuer: name, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 600_000), spkiDer: leafKey.publicKey.keyObject.export({ type: 'spki', format: 'der' }), eku: 'codeSigning', san: { uri: identity } },
      localSigner(otherRoot),
    );
    const forged = structuredClone(bundle);
    forged.verificationMaterial.certificate.rawBytes = leaf.toString('base64');
    assert.equal(certificateIdentity(leaf).identity, identity);
    assert.throws(() => sigstoreVerifier(root).verify(toSignedEntity(bundleFromJSON(forged), artifact)), (e: unknown) => e instanceof SigstoreVerificationError && e.code === 'CERTIFICATE_ERROR');
    assert.throws(() => verifyKeylessBundle({ bundle: forged, artifact, trustedRoot: root, identities: [] }), (e: unknown) => e instanceof VerificationError && e.code === 'CERTIFICATE_UNTRUSTED');
  });

  it('a signature time-stamped after the certificate expired is refused (CERTIFICATE_EXPIRED)', async () => {
    const late = structuredClone(bundle);
    const signature = Buffer.from(bundle.messageSignature.signature, 'base64');
    const saved = h.clock.now;
    h.clock.now = new Date(Date.now() + 11 * 60_000);
    try {
      late.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [{ signedTimestamp: (await fetchTimestamp(h.url, signature)).toString('base64') }];
    } finally {
      h.clock.now = saved;
    }
    assert.throws(() => sigstoreVerifier(root).verify(toSignedEntity(bundleFromJSON(late), artifact)), (e: unknown) => e instanceof SigstoreVerificationError && e.code === 'CERTIFICATE_ERROR');
    assert.throws(() => verifyKeylessBundle({ bundle: late, artifact, trustedRoot: root, identities: [] }), (e: unknown) => e instanceof VerificationError && e.code === 'CERTIFICATE_EXPIRED');
  });

  it('a bundle or trusted root with any one value replaced verifies or fails with a custody error, never a crash', () => {
    const paths = (v: unknown, at: string[] = []): string[][] =>
      typeof v === 'object' && v !== null ? [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))] : [at];
    const set = (root: unknown, path: string[], value: unknown): unknown => {
      if (path.length === 0) return value;
      const copy = structuredClone(root) as Record<string, unknown>;
      let cur = copy;
      for (const k of path.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
      cur[path.at(-1)!] = value;
      return copy;
    };
    const bundlePaths = paths(bundle);
    const rootPaths = paths(root);
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.jsonValue({ maxDepth: 2 }), (inBundle, i, value) => {
        const b = inBundle ? set(bundle, bundlePaths[i % bundlePaths.length]!, value) : bundle;
        const r = inBundle ? root : set(root, rootPaths[i % rootPaths.length]!, value);
        try {
          verifyKeylessBundle({ bundle: b, artifact, trustedRoot: r, identities: [{ subject: identity, issuer: h.issuer }] });
        } catch (e) {
          assert.ok(isCustodyError(e), String(e));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('without a time-stamp the default threshold is not met on both sides', () => {
    const bare = structuredClone(bundle);
    bare.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [];
    assert.throws(() => sigstoreVerifier(root).verify(toSignedEntity(bundleFromJSON(bare), artifact)), (e: unknown) => e instanceof SigstoreVerificationError);
    assert.throws(() => verifyKeylessBundle({ bundle: bare, artifact, trustedRoot: root, identities: [] }), (e: unknown) => e instanceof VerificationError && e.code === 'THRESHOLD_NOT_MET');
  });
});
