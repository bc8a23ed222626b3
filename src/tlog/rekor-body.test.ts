import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import { dsseBody, entryKindVersion, hashedRekordBody } from './rekor-body.ts';
import { generateNoteKey } from './note-keys.ts';
import { logIdentity, sigstoreTrustedRoot } from './sigstore-entry.ts';
import { noteKeyId } from './note-keys.ts';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const verifier = { publicKeyDer: Uint8Array.of(1, 2, 3), keyDetails: 'PKIX_ECDSA_P256_SHA_256' };

describe('Rekor v2 entry bodies', () => {
  it('writes hashedrekord v0.0.2 as JCS (sorted keys, no spaces), base64 bytes', () => {
    const body = hashedRekordBody({ digest: new Uint8Array(32).fill(0xab), signature: Uint8Array.of(9, 9), verifier });
    assert.equal(
      text(body),
      '{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="},' +
        '"signature":{"content":"CQk=","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"AQID"}}}}}}',
    );
    assert.deepEqual(entryKindVersion(body), { kind: 'hashedrekord', version: '0.0.2' });
  });

  it('writes dsse v0.0.2 with the payload SHA-256 and every signature', () => {
    const body = JSON.parse(text(dsseBody({ payload: new TextEncoder().encode('hello'), signatures: [{ signature: Uint8Array.of(1), verifier }] }))) as {
      spec: { dsseV002: { payloadHash: { digest: string }; signatures: unknown[] } };
    };
    assert.equal(Buffer.from(body.spec.dsseV002.payloadHash.digest, 'base64').toString('hex'), '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    assert.equal(body.spec.dsseV002.signatures.length, 1);
  });

  it('refuses a digest that is not SHA-256 and a DSSE entry without signatures (INPUT_INVALID)', () => {
    const isInvalid = (e: unknown) => e instanceof InputError && e.code === 'INPUT_INVALID';
    assert.throws(() => hashedRekordBody({ digest: new Uint8Array(20), signature: Uint8Array.of(1), verifier }), isInvalid);
    assert.throws(() => dsseBody({ payload: new Uint8Array(1), signatures: [] }), isInvalid);
  });

  it('names any other bytes an opaque custody entry and never throws on them', () => {
    assert.deepEqual(entryKindVersion(new TextEncoder().encode('{"kind":1}')), { kind: 'custody-entry', version: '0.0.1' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const kv = entryKindVersion(bytes);
        assert.equal(typeof kv.kind, 'string');
      }),
    );
  });
});

describe('the log in a Sigstore trusted root', () => {
  const { verifierKey } = generateNoteKey('custody.example/log');
  const id = logIdentity(verifierKey);

  it('derives the checkpoint key ID whose first 4 bytes are the note key ID', () => {
    assert.equal(id.checkpointKeyId.length, 32);
    assert.equal(Buffer.from(id.checkpointKeyId).readUInt32BE(0), noteKeyId('custody.example/log', 1, id.publicKey));
  });

  it('names the log with a base URL containing its origin, and refuses one that does not', () => {
    const root = sigstoreTrustedRoot(id, { baseUrl: 'https://custody.example/log' }) as { tlogs: { baseUrl: string; checkpointKeyId: { keyId: string } }[] };
    assert.equal(root.tlogs[0]!.checkpointKeyId.keyId, Buffer.from(id.checkpointKeyId).toString('base64'));
    assert.throws(
      () => sigstoreTrustedRoot(id, { baseUrl: 'https://elsewhere.example' }),
      (e: unknown) => e instanceof InputError && e.code === 'INPUT_INVALID',
    );
  });
});
