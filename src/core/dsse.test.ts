// Tests for dsse.ts: the spec's PAE vector and signature, signing and threshold verification over
// distinct keys, every failure's error code, base64 handling and strict envelope parsing.
import { createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  IN_TOTO_PAYLOAD_TYPE,
  MAX_SIGNATURES,
  decodeBase64,
  encodeBase64,
  pae,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
} from './dsse.ts';
import { CustodyError, InputError, VerificationError } from './errors.ts';
import { KEY_TYPES, generateKeyPair, publicKeyFromPem, type PrivateKey, type PublicKey, type Signer } from './keys.ts';

interface SpecVector {
  payloadType: string;
  body: string;
  pae: string;
  key: { x: string; y: string; d: string; spkiPem: string };
  envelope: Envelope;
}
const spec = JSON.parse(readFileSync(new URL('./fixtures/dsse-spec-vector.json', import.meta.url), 'utf8')) as SpecVector;

const encoder = new TextEncoder();
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

function expectError(fn: () => unknown, type: typeof InputError | typeof VerificationError, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

/** The spec's P-256 key from its decimal coordinates, as node JWK. */
function specJwk(withPrivate: boolean): Record<string, string> {
  const b64 = (decimal: string): string => Buffer.from(BigInt(decimal).toString(16).padStart(64, '0'), 'hex').toString('base64url');
  const jwk: Record<string, string> = { kty: 'EC', crv: 'P-256', x: b64(spec.key.x), y: b64(spec.key.y) };
  if (withPrivate) jwk['d'] = b64(spec.key.d);
  return jwk;
}

/** Parses a PAE back into its type and body, checking every separator and length (DSSE protocol.md). */
function parsePae(bytes: Uint8Array): { type: Uint8Array; body: Uint8Array } {
  const buf = Buffer.from(bytes);
  let at = 0;
  const expect = (s: string): void => {
    assert.equal(buf.subarray(at, at + s.length).toString('latin1'), s);
    at += s.length;
  };
  const length = (): number => {
    const m = /^(0|[1-9][0-9]*) /.exec(buf.subarray(at, at + 21).toString('latin1'));
    assert.ok(m, 'decimal length followed by a space');
    at += m[0].length;
    return Number(m[1]);
  };
  expect('DSSEv1 ');
  const typeLength = length();
  const type = buf.subarray(at, at + typeLength);
  at += typeLength;
  expect(' ');
  const bodyLength = length();
  const body = buf.subarray(at, at + bodyLength);
  at += bodyLength;
  assert.equal(at, buf.length, 'nothing after the body');
  return { type, body };
}

function envelopeJson(envelope: Envelope): unknown {
  return JSON.parse(JSON.stringify(envelope)) as unknown;
}

describe('dsse', () => {
  let a: PrivateKey;
  let b: PrivateKey;
  let c: PrivateKey;
  const statement = encoder.encode('{"_type":"https://in-toto.io/Statement/v1"}');
  before(() => {
    a = generateKeyPair('ed25519');
    b = generateKeyPair('ecdsa-p256');
    c = generateKeyPair('ed25519');
  });

  describe('when encoding PAE', () => {
    it('reproduces the spec test vector byte for byte', () => {
      const out = pae(spec.payloadType, encoder.encode(spec.body));
      assert.equal(text(out), spec.pae);
      assert.equal(text(out), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    });

    it('counts lengths in UTF-8 bytes, not characters', () => {
      assert.deepEqual([...pae('é', encoder.encode('😀'))], [...encoder.encode('DSSEv1 2 é 4 😀')]);
      assert.equal(text(pae('', new Uint8Array())), 'DSSEv1 0  0 ');
    });

    it('parses back into exactly the type and body it was given (any type, any bytes)', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 200 }), (type, body) => {
          const parsed = parsePae(pae(type, body));
          assert.deepEqual([...parsed.type], [...encoder.encode(type)]);
          assert.deepEqual([...parsed.body], [...body]);
        }),
      );
    });

    it('is injective: different (type, body) pairs never share a PAE', () => {
      fc.assert(
        fc.property(fc.string(), fc.uint8Array({ maxLength: 20 }), fc.string(), fc.uint8Array({ maxLength: 20 }), (t1, b1, t2, b2) => {
          fc.pre(t1 !== t2 || Buffer.compare(b1, b2) !== 0);
          assert.notDeepEqual([...pae(t1, b1)], [...pae(t2, b2)]);
        }),
      );
    });
  });

  describe('when verifying the spec test vector', () => {
    let specKey: PublicKey;
    before(() => {
      const pem = createPublicKey({ key: specJwk(false), format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      assert.equal(pem, spec.key.spkiPem);
      specKey = publicKeyFromPem(pem);
    });

    it('accepts its raw r‖s signature with ecdsaEncoding ieee-p1363', () => {
      const result = verifyEnvelope(parseEnvelope(spec.envelope), [specKey], { ecdsaEncoding: 'ieee-p1363' });
      assert.equal(result.payloadType, spec.payloadType);
      assert.equal(Buffer.from(result.payload).toString('utf8'), spec.body);
      assert.deepEqual(result.keyids, [specKey.keyid]);
    });

    it('rejects the same signature under the default DER encoding', () => {
      expectError(() => verifyEnvelope(parseEnvelope(spec.envelope), [specKey]), VerificationError, 'SIGNATURE_INVALID');
    });

    it('accepts a fresh r‖s signature by the spec key over the spec PAE', () => {
      const key = createPrivateKey({ key: specJwk(true), format: 'jwk' });
      const sig = cryptoSign('sha256', encoder.encode(spec.pae), { key, dsaEncoding: 'ieee-p1363' });
      const envelope = { ...spec.envelope, signatures: [{ keyid: '', sig: encodeBase64(sig) }] };
      assert.ok(verifyEnvelope(envelope, [specKey], { ecdsaEncoding: 'ieee-p1363' }));
    });
  });

  describe('when signing', () => {
    it('writes standard base64, one signature per signer with its key id, and verifies for every key type', async () => {
      for (const type of KEY_TYPES) {
        const key = type === 'ed25519' ? a : type === 'ecdsa-p256' ? b : generateKeyPair(type);
        const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [key.signer()]);
        assert.equal(envelope.payloadType, IN_TOTO_PAYLOAD_TYPE);
        assert.equal(envelope.payload, Buffer.from(statement).toString('base64'));
        assert.equal(envelope.signatures.length, 1);
        assert.equal(envelope.signatures[0]!.keyid, key.publicKey.keyid);
        assert.match(envelope.signatures[0]!.sig, /^[A-Za-z0-9+/]+={0,2}$/);
        const result = verifyEnvelope(parseEnvelope(envelopeJson(envelope)), [key.publicKey]);
        assert.deepEqual([...result.payload], [...statement]);
        assert.deepEqual(result.keyids, [key.publicKey.keyid]);
      }
    });

    it('round-trips any payload type and payload, and fails for any flipped payload bit', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'binary', minLength: 1 }), fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), async (type, payload, bit) => {
          const envelope = await signEnvelope(type, payload, [a.signer()]);
          assert.deepEqual([...verifyEnvelope(envelope, [a.publicKey]).payload], [...payload]);
          const tampered = Uint8Array.from(payload);
          tampered[(bit >> 3) % tampered.length]! ^= 1 << (bit & 7);
          const forged = { ...envelope, payload: encodeBase64(tampered) };
          expectError(() => verifyEnvelope(forged, [a.publicKey]), VerificationError, 'SIGNATURE_INVALID');
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('when counting signatures toward a threshold', () => {
    it('accepts when enough distinct trusted keys signed, and lists their key ids sorted', async () => {
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [a.signer(), b.signer()]);
      const result = verifyEnvelope(envelope, [a.publicKey, b.publicKey, c.publicKey], { threshold: 2 });
      assert.deepEqual(result.keyids, [a.publicKey.keyid, b.publicKey.keyid].sort());
    });

    it('counts the same key signing twice once (THRESHOLD_NOT_MET)', async () => {
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [a.signer(), a.signer()]);
      assert.equal(envelope.signatures.length, 2);
      expectError(() => verifyEnvelope(envelope, [a.publicKey, b.publicKey], { threshold: 2 }), VerificationError, 'THRESHOLD_NOT_MET');
    });

    it('counts a key listed twice among the trusted keys once', async () => {
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [a.signer(), a.signer()]);
      expectError(() => verifyEnvelope(envelope, [a.publicKey, a.publicKey], { threshold: 2 }), VerificationError, 'THRESHOLD_NOT_MET');
    });

    it('does not count a second signature that relabels the same key under another key id', async () => {
      const relabelled: Signer = { ...a.signer(), keyid: b.publicKey.keyid };
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [a.signer(), relabelled]);
      expectError(() => verifyEnvelope(envelope, [a.publicKey, b.publicKey], { threshold: 2 }), VerificationError, 'THRESHOLD_NOT_MET');
    });

    it('reports too few trusted signers as THRESHOLD_NOT_MET when at least one verified', async () => {
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [a.signer(), c.signer()]);
      expectError(() => verifyEnvelope(envelope, [a.publicKey, b.publicKey], { threshold: 2 }), VerificationError, 'THRESHOLD_NOT_MET');
    });

    it('ignores the key id hint: a signature verifies under the key that made it', async () => {
      const lying: Signer = { ...a.signer(), keyid: 'not-a-key-id' };
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [lying]);
      assert.deepEqual(verifyEnvelope(envelope, [b.publicKey, a.publicKey]).keyids, [a.publicKey.keyid]);
    });

    it('refuses a threshold that is not a positive integer (USAGE)', async () => {
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [a.signer()]);
      for (const threshold of [0, -1, 1.5, Number.NaN]) {
        expectError(() => verifyEnvelope(envelope, [a.publicKey], { threshold }), InputError, 'USAGE');
      }
    });
  });

  describe('when an envelope does not verify', () => {
    let envelope: Envelope;
    before(async () => {
      envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [a.signer()]);
    });

    it('reports a signer whose key id is not trusted as KEY_UNKNOWN', async () => {
      const byC = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [c.signer()]);
      expectError(() => verifyEnvelope(byC, [a.publicKey, b.publicKey]), VerificationError, 'KEY_UNKNOWN');
    });

    it('reports a signature by another key under a trusted key id as SIGNATURE_INVALID', async () => {
      const impostor: Signer = { ...c.signer(), keyid: a.publicKey.keyid };
      const forged = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [impostor]);
      expectError(() => verifyEnvelope(forged, [a.publicKey]), VerificationError, 'SIGNATURE_INVALID');
    });

    it('reports a tampered payload as SIGNATURE_INVALID', () => {
      const tampered = { ...envelope, payload: encodeBase64(encoder.encode('{"_type":"https://in-toto.io/Statement/v2"}')) };
      expectError(() => verifyEnvelope(tampered, [a.publicKey]), VerificationError, 'SIGNATURE_INVALID');
    });

    it('reports a changed payloadType as SIGNATURE_INVALID (PAE binds the type)', () => {
      const retyped = { ...envelope, payloadType: 'application/json' };
      expectError(() => verifyEnvelope(retyped, [a.publicKey]), VerificationError, 'SIGNATURE_INVALID');
    });

    it('reports a payloadType other than the expected one as PAYLOAD_TYPE_MISMATCH', () => {
      expectError(() => verifyEnvelope(envelope, [a.publicKey], { payloadType: 'application/vnd.other+json' }), VerificationError, 'PAYLOAD_TYPE_MISMATCH');
      assert.ok(verifyEnvelope(envelope, [a.publicKey], { payloadType: IN_TOTO_PAYLOAD_TYPE }));
    });

    it('fails with an exit code 1 error, never exit 2, for every broken-evidence case', async () => {
      const byC = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [c.signer()]);
      for (const fn of [() => verifyEnvelope(byC, [a.publicKey]), () => verifyEnvelope({ ...envelope, payloadType: 'x' }, [a.publicKey])]) {
        assert.throws(fn, (e: unknown) => e instanceof CustodyError && e.exitCode === 1);
      }
    });
  });

  describe('when decoding base64', () => {
    it('accepts standard and URL-safe base64, padded or not', () => {
      const bytes = Uint8Array.from([0xfb, 0xff, 0xbf, 0x00, 0x10]);
      const standard = encodeBase64(bytes);
      assert.equal(standard, '+/+/ABA=');
      for (const form of [standard, '+/+/ABA', '-_-_ABA=', '-_-_ABA']) assert.deepEqual([...decodeBase64(form, 'x')], [...bytes]);
      assert.deepEqual([...decodeBase64('', 'x')], []);
    });

    it('verifies an envelope whose payload and signature were rewritten as URL-safe base64', async () => {
      const payload = Uint8Array.from([0xfb, 0xff, 0xfe, ...statement]);
      const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, [a.signer()]);
      const urlSafe = (s: string): string => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const rewritten = {
        ...envelope,
        payload: urlSafe(envelope.payload),
        signatures: envelope.signatures.map((s) => ({ ...s, sig: urlSafe(s.sig) })),
      };
      assert.notEqual(rewritten.payload, envelope.payload);
      assert.deepEqual([...verifyEnvelope(parseEnvelope(rewritten), [a.publicKey]).payload], [...payload]);
    });

    it('rejects garbage, mixed alphabets, bad padding and whitespace with ENVELOPE_INVALID', () => {
      for (const bad of ['!!!!', 'abc$', 'ab+_', 'A', 'AAAAA', 'AA=', 'A===', 'AA==A', '====', 'AA AA', 'AAAA\n', '=AAA', 'AB=C']) {
        expectError(() => decodeBase64(bad, 'x'), InputError, 'ENVELOPE_INVALID');
        expectError(() => parseEnvelope({ payload: bad, payloadType: 't', signatures: [{ sig: 'AAAA' }] }), InputError, 'ENVELOPE_INVALID');
        expectError(() => parseEnvelope({ payload: 'AAAA', payloadType: 't', signatures: [{ sig: bad }] }), InputError, 'ENVELOPE_INVALID');
      }
    });

    it('decodes what it accepts to the bytes node decodes, and encodes standard base64 that decodes back', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          const encoded = encodeBase64(bytes);
          assert.deepEqual([...decodeBase64(encoded, 'x')], [...bytes]);
          assert.deepEqual([...decodeBase64(Buffer.from(bytes).toString('base64url'), 'x')], [...bytes]);
        }),
      );
    });
  });

  describe('when parsing an envelope', () => {
    const good = { payload: 'aGVsbG8=', payloadType: 'text/plain', signatures: [{ keyid: 'k', sig: 'AAAA' }] };

    it('keeps payload, payloadType and signatures, defaulting a missing or null keyid to empty', () => {
      assert.deepEqual(parseEnvelope(good), good);
      assert.deepEqual(parseEnvelope({ ...good, signatures: [{ sig: 'AAAA' }, { sig: 'BBBB', keyid: null }] }).signatures, [
        { keyid: '', sig: 'AAAA' },
        { keyid: '', sig: 'BBBB' },
      ]);
    });

    it('rejects every malformed shape with ENVELOPE_INVALID', () => {
      const bad: unknown[] = [
        null,
        [],
        'envelope',
        {},
        { ...good, payload: undefined },
        { ...good, payload: 42 },
        { ...good, payloadType: '' },
        { ...good, payloadType: ['t'] },
        { ...good, signatures: undefined },
        { ...good, signatures: [] },
        { ...good, signatures: {} },
        { ...good, signatures: ['AAAA'] },
        { ...good, signatures: [null] },
        { ...good, signatures: [{ keyid: 'k' }] },
        { ...good, signatures: [{ keyid: 'k', sig: '' }] },
        { ...good, signatures: [{ keyid: 'k', sig: 7 }] },
        { ...good, signatures: [{ keyid: 7, sig: 'AAAA' }] },
        { ...good, signatures: [{ keyid: 'k', sig: 'AAAA' }, { keyid: 'k', sig: '*' }] },
      ];
      for (const json of bad) expectError(() => parseEnvelope(json), InputError, 'ENVELOPE_INVALID');
    });
  });
});

describe('parseEnvelope limits', () => {
  it('refuses an envelope with more than MAX_SIGNATURES signatures', () => {
    const many = Array.from({ length: MAX_SIGNATURES + 1 }, () => ({ keyid: '', sig: 'AAAA' }));
    assert.throws(() => parseEnvelope({ payload: 'aGk=', payloadType: 't', signatures: many }), (e: unknown) => (e as { code?: string }).code === 'ENVELOPE_INVALID');
    assert.equal(parseEnvelope({ payload: 'aGk=', payloadType: 't', signatures: many.slice(1) }).signatures.length, MAX_SIGNATURES);
  });
});
