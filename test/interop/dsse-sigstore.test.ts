// Interop with sigstore-js, both ways: DSSE envelopes signed here verify with @sigstore/verify (as a
// key-based v0.3 bundle), and envelopes built by @sigstore/sign's DSSEBundleBuilder verify here.
// Tampered envelopes fail on both sides.
import { createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON, bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer as SigstoreSigner } from '@sigstore/sign';
import { Verifier, VerificationError as SigstoreVerificationError, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import {
  IN_TOTO_PAYLOAD_TYPE,
  VerificationError,
  encodeBase64,
  generateKeyPair,
  makeStatement,
  parseEnvelope,
  parseStatement,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
  type KeyType,
  type PrivateKey,
} from '../../src/core/index.ts';

const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
// A trusted root with no CAs, logs or timestamp authorities: trust comes only from the key below.
const EMPTY_ROOT: Parameters<typeof toTrustMaterial>[0] = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

// sigstore-js handles P-256 and Ed25519 DSSE; it verifies every ECDSA key with SHA-256, so P-384
// DSSE does not verify there (INTEROP.md).
const TYPES: KeyType[] = ['ecdsa-p256', 'ed25519'];

const statementBytes = new TextEncoder().encode(
  JSON.stringify(
    makeStatement([{ name: 'a.txt', digest: { sha256: 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf' } }], 'https://slsa.dev/provenance/v1', {
      buildDefinition: { buildType: 'https://custody.dev/test/v1' },
    }),
  ),
);

/** A key-based v0.3 bundle around a DSSE envelope: verificationMaterial.publicKey.hint names the key. */
function toBundle(envelope: Envelope, hint: string): SerializedBundle {
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: { publicKey: { hint }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: envelope,
  } as unknown as SerializedBundle;
}

/** @sigstore/verify with only the given keys trusted, by hint, and no log or timestamp required. */
function sigstoreVerify(bundleJson: unknown, trusted: Record<string, KeyObject>): KeyObject {
  const keyFinder = (hint: string) => {
    const publicKey = trusted[hint];
    if (publicKey === undefined) throw new SigstoreVerificationError({ code: 'PUBLIC_KEY_ERROR', message: `no key ${hint}` });
    return { publicKey, validFor: () => true };
  };
  const verifier = new Verifier(toTrustMaterial(EMPTY_ROOT, keyFinder), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  return verifier.verify(toSignedEntity(bundleFromJSON(bundleJson))).key;
}

function expectSigstoreError(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof SigstoreVerificationError && e.code === code);
}

function expectCustodyError(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof VerificationError && e.code === code);
}

/** A sigstore-js Signer over a node private key: sigstore computes the PAE, node signs it. */
function sigstoreSigner(key: PrivateKey, hint: string): SigstoreSigner {
  return {
    sign: (data: Buffer) =>
      Promise.resolve({
        signature: key.type === 'ed25519' ? cryptoSign(null, data, key.keyObject) : cryptoSign('sha256', data, key.keyObject),
        key: { $case: 'publicKey' as const, publicKey: key.publicKey.pem, hint },
      }),
  };
}

/** The dsseEnvelope of a bundle built by sigstore-js, in its JSON form. */
async function sigstoreEnvelope(key: PrivateKey, payload: Uint8Array, payloadType: string): Promise<{ bundle: unknown; envelope: Envelope }> {
  const builder = new DSSEBundleBuilder({ signer: sigstoreSigner(key, key.publicKey.keyid), witnesses: [] });
  const bundle = bundleToJSON(await builder.create({ data: Buffer.from(payload), type: payloadType }));
  return { bundle, envelope: bundle.dsseEnvelope as unknown as Envelope };
}

describe('DSSE interop with sigstore-js', () => {
  for (const type of TYPES) {
    describe(`when custody signs with ${type}`, () => {
      const key = generateKeyPair(type);
      const other = generateKeyPair(type);
      const trusted = { [key.publicKey.keyid]: key.publicKey.keyObject };

      it('@sigstore/verify accepts the envelope in a key-based v0.3 bundle', async () => {
        const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statementBytes, [key.signer()]);
        const verifiedKey = sigstoreVerify(toBundle(envelope, key.publicKey.keyid), trusted);
        assert.equal(verifiedKey.export({ type: 'spki', format: 'pem' }).toString(), key.publicKey.pem);
      });

      it('@sigstore/verify rejects it when the payload or payloadType was tampered with', async () => {
        const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statementBytes, [key.signer()]);
        const payload = Buffer.from(statementBytes);
        payload[payload.length - 3]! ^= 1;
        const tampered = { ...envelope, payload: encodeBase64(payload) };
        expectSigstoreError(() => sigstoreVerify(toBundle(tampered, key.publicKey.keyid), trusted), 'SIGNATURE_ERROR');
        const retyped = { ...envelope, payloadType: 'application/json' };
        expectSigstoreError(() => sigstoreVerify(toBundle(retyped, key.publicKey.keyid), trusted), 'SIGNATURE_ERROR');
      });

      it('@sigstore/verify rejects it under another key', async () => {
        const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statementBytes, [other.signer()]);
        // The bundle claims the trusted key, but the signature is by another one.
        expectSigstoreError(() => sigstoreVerify(toBundle(envelope, key.publicKey.keyid), trusted), 'SIGNATURE_ERROR');
      });
    });

    describe(`when sigstore-js builds the envelope with ${type}`, () => {
      const key = generateKeyPair(type);
      const other = generateKeyPair(type);

      it('sigstore-js verifies its own bundle (the fixture is sound)', async () => {
        const { bundle } = await sigstoreEnvelope(key, statementBytes, IN_TOTO_PAYLOAD_TYPE);
        assert.ok(sigstoreVerify(bundle, { [key.publicKey.keyid]: key.publicKey.keyObject }));
      });

      it('custody verifies the envelope and reads the statement', async () => {
        const { envelope } = await sigstoreEnvelope(key, statementBytes, IN_TOTO_PAYLOAD_TYPE);
        const result = verifyEnvelope(parseEnvelope(envelope), [other.publicKey, key.publicKey], { payloadType: IN_TOTO_PAYLOAD_TYPE });
        assert.deepEqual(result.keyids, [key.publicKey.keyid]);
        assert.deepEqual([...result.payload], [...statementBytes]);
        assert.equal(parseStatement(JSON.parse(Buffer.from(result.payload).toString('utf8'))).predicateType, 'https://slsa.dev/provenance/v1');
      });

      it('custody rejects it when the payload or payloadType was tampered with (SIGNATURE_INVALID)', async () => {
        const { envelope } = await sigstoreEnvelope(key, statementBytes, IN_TOTO_PAYLOAD_TYPE);
        const payload = Buffer.from(parseEnvelope(envelope).payload, 'base64');
        payload[10]! ^= 1;
        expectCustodyError(() => verifyEnvelope(parseEnvelope({ ...envelope, payload: encodeBase64(payload) }), [key.publicKey]), 'SIGNATURE_INVALID');
        expectCustodyError(() => verifyEnvelope(parseEnvelope({ ...envelope, payloadType: 'text/plain' }), [key.publicKey]), 'SIGNATURE_INVALID');
      });

      it('custody rejects it when the signer is not trusted (KEY_UNKNOWN) or the payload type is unexpected', async () => {
        const { envelope } = await sigstoreEnvelope(key, statementBytes, IN_TOTO_PAYLOAD_TYPE);
        expectCustodyError(() => verifyEnvelope(parseEnvelope(envelope), [other.publicKey]), 'KEY_UNKNOWN');
        expectCustodyError(() => verifyEnvelope(parseEnvelope(envelope), [key.publicKey], { payloadType: 'application/vnd.other+json' }), 'PAYLOAD_TYPE_MISMATCH');
      });

      it('both sides agree on an arbitrary payload type and binary payload', async () => {
        const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 151) & 0xff);
        const { bundle, envelope } = await sigstoreEnvelope(key, payload, 'application/vnd.custody.test+octets; v=1');
        assert.ok(sigstoreVerify(bundle, { [key.publicKey.keyid]: key.publicKey.keyObject }));
        assert.deepEqual([...verifyEnvelope(parseEnvelope(envelope), [key.publicKey]).payload], [...payload]);
        const ours = await signEnvelope('application/vnd.custody.test+octets; v=1', payload, [key.signer()]);
        assert.equal(ours.payload, envelope.payload);
        assert.ok(sigstoreVerify(toBundle(ours, key.publicKey.keyid), { [key.publicKey.keyid]: createPublicKey(key.publicKey.pem) }));
      });
    });
  }
});
