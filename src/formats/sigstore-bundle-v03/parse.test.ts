// The strict bundle parser: round trip of what the builders make, every problem reported, and
// untrusted input never crashes it (fast-check).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../../core/index.ts';
import { buildDsseBundle, buildMessageSignatureBundle } from './build.ts';
import { parseSigstoreBundleV03 } from './parse.ts';

const entry = {
  logIndex: '3',
  logId: { keyId: Buffer.alloc(32, 1).toString('base64') },
  kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
  integratedTime: '0',
  canonicalizedBody: Buffer.from('{}').toString('base64'),
  inclusionProof: { logIndex: '3', rootHash: Buffer.alloc(32, 2).toString('base64'), treeSize: '4', hashes: [Buffer.alloc(32, 3).toString('base64')], checkpoint: { envelope: 'o\n4\nx\n\n— o sig\n' } },
};

const message = buildMessageSignatureBundle({ digest: Buffer.alloc(32, 9), hash: 'sha256', signature: Buffer.from('sig'), hint: 'k', tlogEntries: [entry] });
const dsse = buildDsseBundle({ envelope: { payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [{ keyid: 'k', sig: 'c2ln' }] }, hint: 'k' });

function code(e: unknown): string | undefined {
  return e instanceof InputError ? e.code : undefined;
}

describe('parseSigstoreBundleV03', () => {
  describe('when the bundle is what the builders make', () => {
    it('parses it back unchanged (messageSignature and DSSE)', () => {
      assert.deepEqual(parseSigstoreBundleV03(JSON.parse(JSON.stringify(message))), message);
      assert.deepEqual(parseSigstoreBundleV03(JSON.parse(JSON.stringify(dsse))), dsse);
    });
  });

  describe('when the bundle breaks a v0.3 rule', () => {
    const cases: [string, (b: Record<string, unknown>) => void, RegExp][] = [
      ['an older media type', (b) => (b['mediaType'] = 'application/vnd.dev.sigstore.bundle+json;version=0.2'), /mediaType/],
      ['both contents', (b) => (b['dsseEnvelope'] = dsse.dsseEnvelope), /exactly one/],
      ['an unknown member', (b) => (b['x509CertificateChain'] = {}), /unknown member/],
      ['a log entry without inclusion proof', (b) => delete (b['verificationMaterial'] as { tlogEntries: Record<string, unknown>[] }).tlogEntries[0]!['inclusionProof'], /inclusionProof/],
      ['a digest of the wrong length', (b) => ((b['messageSignature'] as { messageDigest: { digest: string } }).messageDigest.digest = 'AAAA'), /wrong length/],
      ['a non-numeric log index', (b) => ((b['verificationMaterial'] as { tlogEntries: Record<string, unknown>[] }).tlogEntries[0]!['logIndex'] = '-1'), /logIndex/],
    ];
    for (const [what, change, pattern] of cases) {
      it(`refuses ${what} with BUNDLE_INVALID`, () => {
        const b = JSON.parse(JSON.stringify(message)) as Record<string, unknown>;
        change(b);
        assert.throws(() => parseSigstoreBundleV03(b), (e) => code(e) === 'BUNDLE_INVALID' && pattern.test((e as Error).message));
      });
    }

    it('lists every problem at once', () => {
      const b = JSON.parse(JSON.stringify(message)) as Record<string, unknown>;
      b['mediaType'] = 'x';
      (b['verificationMaterial'] as { publicKey: { hint: string } }).publicKey.hint = '';
      assert.throws(() => parseSigstoreBundleV03(b), (e) => code(e) === 'BUNDLE_INVALID' && /mediaType/.test((e as Error).message) && /hint/.test((e as Error).message));
    });
  });

  describe('when the input is arbitrary JSON', () => {
    it('either parses or throws BUNDLE_INVALID, never anything else', () => {
      const mutated = fc.tuple(fc.constantFrom(message, dsse), fc.array(fc.tuple(fc.constantFrom('mediaType', 'verificationMaterial', 'messageSignature', 'dsseEnvelope'), fc.jsonValue()), { maxLength: 3 }));
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), mutated.map(([base, changes]) => ({ ...JSON.parse(JSON.stringify(base)), ...Object.fromEntries(changes) }) as unknown)), (input) => {
          try {
            parseSigstoreBundleV03(input);
          } catch (e) {
            if (code(e) !== 'BUNDLE_INVALID') throw e;
          }
        }),
        { numRuns: 500 },
      );
    });
  });
});
