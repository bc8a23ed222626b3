import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, generateKeyPair } from '../../core/index.ts';
import { canonicalJsonFast } from './canonical-fast.ts';
import { linkToJson, parseLink } from './link.ts';
import { addSignature, checkSignature, parseSignedLink, signableBytes, signedToJson } from './metablock.ts';

/** The outcome of a canonical encoder: its bytes, or the code of its error. */
function outcome(encode: (v: unknown) => Uint8Array, value: unknown): string {
  try {
    return Buffer.from(encode(value)).toString('hex');
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? String(e)}`;
  }
}

// Keys and strings that hit every place JSON.stringify and encode_canonical differ: quotes,
// backslashes, control characters, lone and paired surrogates, U+E000–U+FFFF against astral
// code points (UTF-16 order is not code point order there), integer-like keys (which objects
// enumerate first), "__proto__".
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '"', '\\', '\n', '\u0001', '\u007f', 'é', '\ue000', '\uffff', '😀', '\ud800', '\udc00', '/', '1') }),
  fc.constantFrom('10', '9', '0', '-1', '__proto__', 'toJSON', ''),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.constantFrom(1.5, -0, 2 ** 53, Number.MAX_SAFE_INTEGER, true, false, null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('canonicalJsonFast', () => {
  it('gives exactly the bytes (or the error) of canonicalJson, on any JSON value', () => {
    fc.assert(
      fc.property(json, (value) => {
        assert.equal(outcome(canonicalJsonFast, value), outcome(canonicalJson, value));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees on values JSON.parse made, including sorted and unsorted keys', () => {
    fc.assert(
      fc.property(json, (value) => {
        const parsed = JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
        assert.equal(outcome(canonicalJsonFast, parsed), outcome(canonicalJson, parsed));
      }),
      { numRuns: 1000 },
    );
  });

  it('orders integer-like keys as strings, not in JavaScript enumeration order', () => {
    const value = JSON.parse('{"9": 1, "10": 2, "a": 3}') as unknown;
    assert.equal(Buffer.from(canonicalJsonFast(value)).toString(), '{"10":2,"9":1,"a":3}');
  });

  it('orders keys by code point where UTF-16 order differs', () => {
    // Both insertion orders: '😀' (U+1F600) sorts after U+FFFF, though its first UTF-16 unit does not.
    assert.equal(Buffer.from(canonicalJsonFast({ '\uffff': 1, '😀': 2 })).toString(), '{"\uffff":1,"😀":2}');
    assert.equal(Buffer.from(canonicalJsonFast({ '😀': 2, '\uffff': 1 })).toString(), '{"\uffff":1,"😀":2}');
  });

  it('writes control characters raw and escapes only quote and backslash, as securesystemslib', () => {
    assert.equal(Buffer.from(canonicalJsonFast({ a: 'x\n"\\' })).toString(), '{"a":"x\n\\"\\\\"}');
  });
});

describe('link signable bytes (shared artifact maps)', () => {
  const artifact = fc.record({ sha256: fc.stringMatching(/^[0-9a-f]{1,8}$/) });
  const segment = fc.string({ unit: fc.constantFrom('a', 'z', '0', '9', 'é', '😀', '\ue000', '_', '-'), minLength: 1, maxLength: 4 });
  const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
  const linkJson = fc.record({
    _type: fc.constant('link'),
    name: text,
    materials: fc.dictionary(path, artifact, { maxKeys: 6 }),
    products: fc.dictionary(path, fc.oneof(artifact, fc.record({ sha512: fc.constant('ab'), sha256: fc.constant('cd') })), { maxKeys: 6 }),
    byproducts: fc.dictionary(text, json, { maxKeys: 3 }),
    command: fc.array(text, { maxLength: 3 }),
    environment: fc.dictionary(text, json, { maxKeys: 3 }),
  });

  it('are the canonical JSON of the re-serialized link, whatever the key order of the input', () => {
    fc.assert(
      fc.property(linkJson, fc.boolean(), (json, roundTrip) => {
        const input = roundTrip ? (JSON.parse(JSON.stringify(json)) as unknown) : json;
        const metadata = parseSignedLink({ signed: input, signatures: [] });
        assert.equal(outcome(() => signableBytes(metadata), null), outcome(canonicalJson, linkToJson(parseLink(input))));
        assert.equal(outcome(() => signableBytes(metadata), null), outcome(canonicalJson, signedToJson(metadata)));
      }),
      { numRuns: 500 },
    );
  });

  it('verify a signature made over the reference form', async () => {
    const key = generateKeyPair('ed25519');
    const signed = JSON.parse('{"_type":"link","name":"s","materials":{"b":{"sha256":"01"},"a":{"sha256":"02"}},"products":{"10":{"sha256":"aa"},"9":{"sha256":"bb"}}}') as unknown;
    const metadata = await addSignature(parseSignedLink({ signed, signatures: [] }), key.signer());
    const reparsed = parseSignedLink(JSON.parse(JSON.stringify({ signed, signatures: metadata.signatures })));
    assert.equal(checkSignature(reparsed, key.publicKey.keyid, key.publicKey), 'valid');
    // Canonical JSON sorts both maps: the bytes are the reference's, not the file's order.
    assert.match(Buffer.from(signableBytes(reparsed)).toString(), /"materials":\{"a":\{"sha256":"02"\},"b":/);
  });
});
