import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InputError, digestBytes, encodeBase64, generateKeyPair, isCustodyError } from '../core/index.ts';
import { LINK_V03, SLSA_V1, makeEnvelope, makeLink, sha256Of, wrapInBundle } from '../../test/support/attestations.ts';
import { prepareAttestation } from './ingest.ts';

const key = generateKeyPair('ed25519');
const other = generateKeyPair('ecdsa-p256');
const trustedKeys = [key.publicKey];

const inputError = (code: string) => (e: unknown) => e instanceof InputError && e.code === code;

describe('prepareAttestation', () => {
  describe('when given a DSSE envelope signed by a trusted key', () => {
    it('keeps the bytes, ids them by sha256 and records the verified key', async () => {
      const bytes = await makeEnvelope({ subjects: ['app'], keys: [key] });
      const r = prepareAttestation(bytes, { trustedKeys });
      assert.equal(r.id, digestBytes(bytes));
      assert.deepEqual(Buffer.from(r.bytes), bytes);
      assert.equal(r.mediaType, 'application/vnd.dsse.envelope.v1+json');
      assert.deepEqual(r.verification, { status: 'verified', keyids: [key.publicKey.keyid] });
      assert.deepEqual(r.claimedKeyids, [key.publicKey.keyid]);
      assert.deepEqual(r.subjects, [{ name: 'app', digest: { sha256: sha256Of('app') } }]);
    });
  });

  describe('when no trusted key signed', () => {
    it('records the envelope as unverified with the reason', async () => {
      const r = prepareAttestation(await makeEnvelope({ subjects: ['app'], keys: [other] }), { trustedKeys });
      assert.deepEqual(r.verification, { status: 'unverified', keyids: [], code: 'KEY_UNKNOWN' });
      const none = prepareAttestation(await makeEnvelope({ subjects: ['app'], keys: [key] }), { trustedKeys: [] });
      assert.equal(none.verification.status, 'unverified');
    });
  });

  describe('when given a Sigstore bundle v0.3 holding an envelope', () => {
    it('verifies the envelope inside and keeps the bundle bytes', async () => {
      const bundle = wrapInBundle(await makeEnvelope({ subjects: ['app'], keys: [key] }));
      const r = prepareAttestation(bundle, { trustedKeys });
      assert.equal(r.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
      assert.equal(r.verification.status, 'verified');
      assert.equal(r.id, digestBytes(bundle));
    });

    it('refuses other bundle versions and message-signature bundles', () => {
      const old = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1', dsseEnvelope: {} }));
      assert.throws(() => prepareAttestation(old, { trustedKeys }), inputError('ENVELOPE_INVALID'));
      const blob = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', messageSignature: {} }));
      assert.throws(() => prepareAttestation(blob, { trustedKeys }), inputError('ENVELOPE_INVALID'));
    });
  });

  describe('when the predicate names materials', () => {
    it('takes a link v0.3 step name and materials', async () => {
      const r = prepareAttestation(await makeLink('compile', ['main.c'], ['app'], [key]), { trustedKeys });
      assert.equal(r.predicateType, LINK_V03);
      assert.equal(r.step, 'compile');
      assert.deepEqual(r.materials, [{ name: 'main.c', digest: { sha256: sha256Of('main.c') } }]);
    });

    it('takes SLSA provenance v1 resolved dependencies, skipping those without a digest', async () => {
      const bytes = await makeEnvelope({
        subjects: ['app'],
        predicateType: SLSA_V1,
        predicate: {
          buildDefinition: {
            buildType: 'https://example.com/build/v1',
            resolvedDependencies: [{ uri: 'git+https://example.com/repo', digest: { gitCommit: 'A'.repeat(40) } }, { uri: 'no-digest' }, 'junk'],
          },
        },
      });
      const r = prepareAttestation(bytes, { trustedKeys });
      assert.deepEqual(r.materials, [{ uri: 'git+https://example.com/repo', digest: { gitCommit: 'a'.repeat(40) } }]);
      assert.equal(r.step, undefined);
    });
  });

  describe('when the input is malformed', () => {
    it('rejects with a typed input error', async () => {
      assert.throws(() => prepareAttestation(Buffer.from('{'), { trustedKeys }), inputError('JSON_INVALID'));
      assert.throws(() => prepareAttestation(Buffer.from('[]'), { trustedKeys }), inputError('ENVELOPE_INVALID'));
      const envelope = JSON.parse((await makeEnvelope({ subjects: ['app'], keys: [key] })).toString()) as Record<string, unknown>;
      const wrongType = Buffer.from(JSON.stringify({ ...envelope, payloadType: 'text/plain' }));
      assert.throws(() => prepareAttestation(wrongType, { trustedKeys }), inputError('ENVELOPE_INVALID'));
      const notStatement = Buffer.from(JSON.stringify({ ...envelope, payload: encodeBase64(Buffer.from('{"a":1}')) }));
      assert.throws(() => prepareAttestation(notStatement, { trustedKeys }), inputError('STATEMENT_INVALID'));
    });

    it('never throws anything but a custody error on arbitrary bytes or mutated envelopes', async () => {
      const good = JSON.parse((await makeEnvelope({ subjects: ['app'], keys: [key] })).toString()) as Record<string, unknown>;
      const mutated = fc.record({
        payload: fc.oneof(fc.constant(good['payload']), fc.string(), fc.base64String(), fc.jsonValue()),
        payloadType: fc.oneof(fc.constant(good['payloadType']), fc.string(), fc.jsonValue()),
        signatures: fc.oneof(fc.constant(good['signatures']), fc.jsonValue(), fc.array(fc.record({ keyid: fc.jsonValue(), sig: fc.oneof(fc.base64String(), fc.jsonValue()) }))),
      });
      const inputs = fc.oneof(
        fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
        fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
        mutated.map((v) => Buffer.from(JSON.stringify(v))),
      );
      fc.assert(
        fc.property(inputs, (bytes) => {
          try {
            const r = prepareAttestation(bytes, { trustedKeys });
            assert.equal(r.id, digestBytes(bytes));
          } catch (e) {
            assert.ok(isCustodyError(e), `unexpected ${String(e)}`);
          }
        }),
        { numRuns: 500 },
      );
    });
  });
});
