// Property tests for every core parser of untrusted input: on any input, random or a mutation of a
// valid one, each either returns a well-formed result or throws a CustodyError with one of the codes
// that parser documents. Never a TypeError, a RangeError or a raw node:crypto error.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJson } from './canonical-json.ts';
import { parseDigestString } from './digest.ts';
import { decodeBase64, encodeBase64, parseEnvelope, signEnvelope, verifyEnvelope, type Envelope } from './dsse.ts';
import { isCustodyError, type ErrorCode } from './errors.ts';
import {
  KEY_TYPES,
  generateKeyPair,
  loadPrivateKeyPem,
  privateKeyFromSecuresystemslib,
  publicKeyFromPem,
  publicKeyFromSecuresystemslib,
  type PrivateKey,
} from './keys.ts';
import { parseResourceDescriptor, parseStatement } from './statement.ts';

/** Runs fn; a throw must be a CustodyError whose code is one of `codes`. Returns the result or undefined. */
function typedOrResult<T>(fn: () => T, codes: readonly ErrorCode[]): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!isCustodyError(e)) assert.fail(`untyped failure: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.ok(codes.includes(e.code), `unexpected code ${e.code} (${e.message})`);
    return undefined;
  }
}

const RUNS = { numRuns: 300 };
const PEM_CODES: ErrorCode[] = ['PEM_INVALID', 'KEY_UNSUPPORTED', 'KEY_PASSPHRASE_REQUIRED', 'KEY_PASSPHRASE_WRONG'];
const SSLIB_CODES: ErrorCode[] = ['KEY_INVALID', 'KEY_UNSUPPORTED'];

/** Any JSON-ish value, including objects with a null prototype and odd keys such as __proto__. */
const anything = fc.anything({ withNullPrototype: true, withBoxedValues: true, withObjectString: true, maxDepth: 3 });
/** Either a plausible value for a field or anything at all (or the field left out, via requiredKeys: []). */
const either = <T>(plausible: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 1, arbitrary: anything });

type Edit = { kind: 'delete' | 'insert' | 'replace' | 'truncate'; at: number; length: number; text: string };
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('delete', 'insert', 'replace', 'truncate'),
  at: fc.nat(),
  length: fc.integer({ min: 1, max: 40 }),
  text: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('-----', '\n', '=', 'A', '/', '-----END PRIVATE KEY-----', 'Proc-Type: 4,ENCRYPTED\n')),
});

function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.kind === 'delete') out = out.slice(0, at) + out.slice(at + e.length);
    else if (e.kind === 'insert') out = out.slice(0, at) + e.text + out.slice(at);
    else if (e.kind === 'replace') out = out.slice(0, at) + e.text + out.slice(at + e.text.length);
    else out = out.slice(0, at);
  }
  return out;
}

describe('untrusted input', () => {
  const keys = {} as Record<(typeof KEY_TYPES)[number], PrivateKey>;
  let pems: string[];
  let envelope: Envelope;
  before(async () => {
    for (const type of KEY_TYPES) keys[type] = generateKeyPair(type);
    pems = KEY_TYPES.flatMap((type) => [
      keys[type].toPkcs8Pem(),
      keys[type].toPkcs8Pem('pw'),
      keys[type].publicKey.pem,
    ]);
    pems.push(keys.rsa.keyObject.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' }).toString());
    pems.push(keys['ecdsa-p256'].keyObject.export({ type: 'sec1', format: 'pem' }).toString());
    envelope = await signEnvelope('application/vnd.in-toto+json', new TextEncoder().encode('{"a":1}'), [keys.ed25519.signer(), keys['ecdsa-p256'].signer()]);
  });

  describe('when parsing JSON text (parseJson)', () => {
    it('returns a value or throws JSON_INVALID', () => {
      fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.uint8Array()), (input) => void typedOrResult(() => parseJson(input), ['JSON_INVALID'])), RUNS);
    });

    it('survives very deep nesting', () => {
      const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
      typedOrResult(() => parseJson(deep), ['JSON_INVALID']);
    });
  });

  describe('when decoding base64 (decodeBase64)', () => {
    it('returns bytes or throws ENVELOPE_INVALID, and accepts only the two alphabets', () => {
      const b64ish = fc.string({ unit: fc.constantFrom(...'ABCab01+/-_=  \n.'.split('')), maxLength: 24 });
      fc.assert(
        fc.property(fc.oneof(b64ish, fc.string({ unit: 'binary' })), (text) => {
          const bytes = typedOrResult(() => decodeBase64(text, 'x'), ['ENVELOPE_INVALID']);
          if (bytes !== undefined) {
            assert.match(text, /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}$/);
            // 4 characters carry 3 bytes; unused low bits of the last character are ignored.
            assert.equal(bytes.length, Math.floor((text.replace(/=+$/, '').length * 3) / 4));
            assert.deepEqual([...decodeBase64(encodeBase64(bytes), 'x')], [...bytes]);
          }
        }),
        RUNS,
      );
    });

    it('does not hang on a long run of padding followed by other characters', { timeout: 30_000 }, () => {
      // Regression: stripping /=+$/ before checking the alphabet was quadratic (1 MB took minutes).
      typedOrResult(() => decodeBase64(`${'='.repeat(1 << 20)}A`, 'x'), ['ENVELOPE_INVALID']);
      typedOrResult(() => parseEnvelope({ payload: `${'='.repeat(1 << 20)}A`, payloadType: 't', signatures: [{ sig: 'AAAA' }] }), ['ENVELOPE_INVALID']);
    });
  });

  describe('when parsing DSSE envelopes (parseEnvelope, then verifyEnvelope)', () => {
    const signature = fc.record(
      { keyid: either(fc.string()), sig: either(fc.base64String({ maxLength: 12 })) },
      { requiredKeys: [] },
    );
    const envelopeLike = fc.record(
      {
        payload: either(fc.base64String({ maxLength: 40 })),
        payloadType: either(fc.string()),
        signatures: either(fc.array(either(signature), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    );

    it('returns an envelope or throws ENVELOPE_INVALID, and verification fails only with a verification code', () => {
      fc.assert(
        fc.property(fc.oneof(envelopeLike, anything), (json) => {
          const parsed = typedOrResult(() => parseEnvelope(json), ['ENVELOPE_INVALID']);
          if (parsed === undefined) return;
          assert.equal(typeof parsed.payload, 'string');
          assert.ok(parsed.payloadType.length > 0 && parsed.signatures.length > 0);
          typedOrResult(() => verifyEnvelope(parsed, [keys.ed25519.publicKey]), ['SIGNATURE_INVALID', 'KEY_UNKNOWN', 'THRESHOLD_NOT_MET']);
        }),
        RUNS,
      );
    });

    it('never verifies a mutation of a signed envelope that changes what was signed', () => {
      const trusted = [keys.ed25519.publicKey, keys['ecdsa-p256'].publicKey];
      fc.assert(
        fc.property(fc.constantFrom('payload', 'payloadType', 'sig0', 'sig1'), fc.array(edit, { minLength: 1, maxLength: 3 }), (field, edits) => {
          const json = structuredClone(envelope);
          if (field === 'payload') json.payload = applyEdits(json.payload, edits);
          else if (field === 'payloadType') json.payloadType = applyEdits(json.payloadType, edits);
          else json.signatures[field === 'sig0' ? 0 : 1]!.sig = applyEdits(json.signatures[field === 'sig0' ? 0 : 1]!.sig, edits);
          const parsed = typedOrResult(() => parseEnvelope(json), ['ENVELOPE_INVALID']);
          if (parsed === undefined) return;
          const result = typedOrResult(() => verifyEnvelope(parsed, trusted, { threshold: 2 }), ['SIGNATURE_INVALID', 'KEY_UNKNOWN', 'THRESHOLD_NOT_MET']);
          if (result !== undefined) {
            // Only an edit that leaves the decoded bytes unchanged may still verify.
            assert.deepEqual([...decodeBase64(parsed.payload, 'p')], [...decodeBase64(envelope.payload, 'p')]);
            assert.equal(parsed.payloadType, envelope.payloadType);
          }
        }),
        RUNS,
      );
    });
  });

  describe('when parsing statements and resource descriptors', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
    const algorithm = fc.constantFrom('sha256', 'sha512', 'gitCommit', 'md5', 'custom', '__proto__', 'constructor', 'toString', '');
    const digest = fc.dictionary(algorithm, either(fc.oneof(hex, fc.stringMatching(/^[0-9a-f]{0,8}$/))), { maxKeys: 3 });
    const descriptor = fc.record(
      {
        name: either(fc.string()),
        uri: either(fc.webUrl()),
        digest: either(digest),
        content: either(fc.base64String()),
        downloadLocation: either(fc.webUrl()),
        mediaType: either(fc.string()),
        annotations: either(fc.dictionary(fc.string(), fc.jsonValue())),
      },
      { requiredKeys: [] },
    );
    const statement = fc.record(
      {
        _type: either(fc.constantFrom('https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v2')),
        subject: either(fc.array(either(descriptor), { maxLength: 3 })),
        predicateType: either(fc.webUrl()),
        predicate: either(fc.dictionary(fc.string(), fc.jsonValue())),
      },
      { requiredKeys: [] },
    );

    it('parseResourceDescriptor returns a descriptor naming something, or throws STATEMENT_INVALID', () => {
      fc.assert(
        fc.property(fc.oneof(descriptor, anything), (json) => {
          const rd = typedOrResult(() => parseResourceDescriptor(json), ['STATEMENT_INVALID']);
          if (rd !== undefined) assert.ok(rd.name || rd.uri || Object.keys(rd.digest ?? {}).length > 0);
        }),
        RUNS,
      );
    });

    it('parseStatement returns a statement with digested subjects, or throws STATEMENT_INVALID', () => {
      fc.assert(
        fc.property(fc.oneof(statement, anything), (json) => {
          const st = typedOrResult(() => parseStatement(json), ['STATEMENT_INVALID']);
          if (st === undefined) return;
          assert.ok(st.subject.length > 0 && st.subject.every((s) => Object.keys(s.digest ?? {}).length > 0));
          assert.ok(typeof st.predicateType === 'string' && st.predicateType !== '');
          assert.ok(typeof st.predicate === 'object' && st.predicate !== null);
        }),
        RUNS,
      );
    });
  });

  describe('when reading keys', () => {
    it('publicKeyFromPem and loadPrivateKeyPem fail only with key codes on arbitrary text', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string().map((s) => `-----BEGIN PUBLIC KEY-----\n${s}\n-----END PUBLIC KEY-----\n`), fc.string().map((s) => `-----BEGIN PRIVATE KEY-----\n${s}\n-----END PRIVATE KEY-----\n`)), (text) => {
          typedOrResult(() => publicKeyFromPem(text), PEM_CODES);
          typedOrResult(() => loadPrivateKeyPem(text), PEM_CODES);
        }),
        RUNS,
      );
    });

    it('publicKeyFromPem and loadPrivateKeyPem fail only with key codes on mutated valid PEM, with or without a passphrase', () => {
      fc.assert(
        fc.property(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.option(fc.constantFrom('pw', 'wrong', '')), (which, edits, passphrase) => {
          const text = applyEdits(pems[which % pems.length]!, edits);
          const key = typedOrResult(() => publicKeyFromPem(text), PEM_CODES);
          if (key !== undefined) assert.match(key.keyid, /^[0-9a-f]{64}$/);
          typedOrResult(() => loadPrivateKeyPem(text, passphrase ?? undefined), PEM_CODES);
        }),
        RUNS,
      );
    });

    it('does not hang on many unterminated BEGIN lines', { timeout: 30_000 }, () => {
      // Regression: the PEM block regex (lazy body + back-reference) was quadratic: 1.4 MB took ~9 s.
      const text = '-----BEGIN PUBLIC KEY-----\nAAAA\n'.repeat(200_000);
      typedOrResult(() => publicKeyFromPem(text), PEM_CODES);
      typedOrResult(() => loadPrivateKeyPem(text), PEM_CODES);
    });

    it('publicKeyFromSecuresystemslib and privateKeyFromSecuresystemslib fail only with KEY_INVALID or KEY_UNSUPPORTED', () => {
      const valid = () => fc.constantFrom(...KEY_TYPES.map((t) => keys[t].toSecuresystemslib()));
      const mutated = fc
        .tuple(
          valid(),
          fc.constantFrom('keytype', 'scheme', 'keyid', 'keyid_hash_algorithms', 'keyval', 'keyval.public', 'keyval.private'),
          fc.oneof(anything, fc.constantFrom('ecdsa', 'rsa', 'ed25519', 'ecdsa-sha2-nistp384', 'toString', 'constructor', '__proto__')),
          fc.array(edit, { maxLength: 2 }),
        )
        .map(([key, field, value, edits]) => {
          const json = structuredClone(key) as unknown as Record<string, unknown> & { keyval: Record<string, unknown> };
          const [outer, inner] = field.split('.') as [string, string | undefined];
          if (inner === undefined) json[outer] = value;
          else if (typeof json.keyval[inner] === 'string' && edits.length > 0) json.keyval[inner] = applyEdits(json.keyval[inner], edits);
          else json.keyval[inner] = value;
          return json;
        });
      fc.assert(
        fc.property(fc.oneof(mutated, anything), (json) => {
          const pub = typedOrResult(() => publicKeyFromSecuresystemslib(json), SSLIB_CODES);
          if (pub !== undefined) assert.match(pub.keyid, /^[0-9a-f]{64}$/);
          typedOrResult(() => privateKeyFromSecuresystemslib(json), SSLIB_CODES);
        }),
        RUNS,
      );
    });
  });

  describe('when parsing digest strings (parseDigestString)', () => {
    it('returns a digest or throws INPUT_INVALID', () => {
      fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string().map((s) => `sha512:${s}`)), (text) => void typedOrResult(() => parseDigestString(text), ['INPUT_INVALID'])), RUNS);
    });
  });
});
