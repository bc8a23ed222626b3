import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError, canonicalJsonString, generateKeyPair, type KeyType } from '../../core/index.ts';
import { makeLink } from './link.ts';
import {
  addSignature,
  checkSignature,
  metadataToJson,
  parseSignedLayout,
  parseSignedLink,
  parseSignedMetadata,
  signableBytes,
  type SignedLink,
} from './metablock.ts';

const link: SignedLink = {
  type: 'link',
  signed: makeLink({ name: 'build', products: { 'a.out': { sha256: 'ab'.repeat(32) } }, command: ['cc'] }),
  signatures: [],
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    return e.code;
  }
}

describe('signatures on v0.9 metadata', () => {
  for (const type of ['ed25519', 'ecdsa-p256'] as KeyType[]) {
    it(`signs and verifies a link with ${type} over canonical JSON of the reference fields`, async () => {
      const key = generateKeyPair(type);
      const signed = await addSignature(link, key.signer());
      assert.equal(signed.signatures[0]?.keyid, key.publicKey.keyid);
      assert.match(signed.signatures[0]?.sig ?? '', /^[0-9a-f]+$/);
      assert.equal(
        new TextDecoder().decode(signableBytes(signed)),
        canonicalJsonString({ _type: 'link', name: 'build', materials: {}, products: { 'a.out': { sha256: 'ab'.repeat(32) } }, byproducts: {}, command: ['cc'], environment: {} }),
      );
      assert.equal(checkSignature(signed, key.publicKey.keyid, key.publicKey), 'valid');
      // Survives a round trip through JSON.
      const reparsed = parseSignedMetadata(JSON.parse(JSON.stringify(metadataToJson(signed))));
      assert.equal(checkSignature(reparsed, key.publicKey.keyid, key.publicKey), 'valid');
    });
  }

  it('reports a tampered link as invalid and an unsigned one as missing', async () => {
    const key = generateKeyPair('ed25519');
    const signed = await addSignature(link, key.signer());
    const tampered: SignedLink = { ...signed, signed: { ...signed.signed, command: ['cc', '-O2'] } };
    assert.equal(checkSignature(tampered, key.publicKey.keyid, key.publicKey), 'invalid');
    assert.equal(checkSignature(link, key.publicKey.keyid, key.publicKey), 'missing');
  });

  it('checks only the first signature carrying the key id (Metablock.verify_signature)', async () => {
    const key = generateKeyPair('ed25519');
    const good = await addSignature(link, key.signer());
    const bad = { keyid: key.publicKey.keyid, sig: '00'.repeat(64) };
    assert.equal(checkSignature({ ...good, signatures: [bad, ...good.signatures] }, key.publicKey.keyid, key.publicKey), 'invalid');
    assert.equal(checkSignature({ ...good, signatures: [...good.signatures, bad] }, key.publicKey.keyid, key.publicKey), 'valid');
  });

  it('treats unknown fields in the file as not signed (the reference re-serializes without them)', async () => {
    const key = generateKeyPair('ed25519');
    // A signature over a document with an extra field does not verify once the field is dropped.
    const extra = { ...metadataToJson(link), signed: { ...metadataToJson(link)['signed'] as object, extra: 1 } };
    const data = new TextEncoder().encode(canonicalJsonString(extra.signed));
    const sig = Buffer.from(await key.signer().sign(data)).toString('hex');
    const parsed = parseSignedLink({ ...extra, signatures: [{ keyid: key.publicKey.keyid, sig }] });
    assert.equal(checkSignature(parsed, key.publicKey.keyid, key.publicKey), 'invalid');
  });
});

describe('parsing the signable wrapper', () => {
  it('tells links from layouts by signed._type', () => {
    assert.equal(parseSignedMetadata(metadataToJson(link)).type, 'link');
    const layoutJson = { signatures: [], signed: { _type: 'layout', steps: [], inspect: [], keys: {}, expires: '2030-01-01T00:00:00Z', readme: '' } };
    assert.equal(parseSignedMetadata(layoutJson).type, 'layout');
    assert.equal(code(() => parseSignedMetadata({ signed: { _type: 'other' } })), 'INPUT_INVALID');
  });

  it('defaults absent signatures to none, as Metablock.load', () => {
    assert.deepEqual(parseSignedLink({ signed: metadataToJson(link)['signed'] }).signatures, []);
  });

  it('rejects malformed signatures', () => {
    const signed = metadataToJson(link)['signed'];
    for (const signatures of [{}, [1], [{ keyid: 'zz', sig: 'ab' }], [{ keyid: 'ab', sig: 'abc' }], [{ keyid: 'ab' }], [{ keyid: 'ab', other_headers: 'ab', signature: 'ab' }]]) {
      assert.equal(code(() => parseSignedLink({ signed, signatures })), 'LINK_INVALID', JSON.stringify(signatures));
    }
    assert.equal(code(() => parseSignedLayout({ signed: {}, signatures: 'x' })), 'LAYOUT_INVALID');
  });

  it('never crashes on random input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ signed: fc.jsonValue(), signatures: fc.jsonValue() })), (json) => {
        try {
          parseSignedMetadata(json);
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
