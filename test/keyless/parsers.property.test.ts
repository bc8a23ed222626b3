// Property tests for every parser of untrusted input in keyless signing: time-stamp requests,
// ID tokens, Fulcio request bodies, keyless bundles and the `ca:` config section. Whatever the
// bytes, the answer is a value or a typed refusal (custody error or ApiError), never a crash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateKeyPair, isCustodyError } from '../../src/core/index.ts';
import {
  ApiError,
  buildCertificate,
  createIdentityTokenVerifier,
  createTimestampAuthority,
  createWorkloadIssuer,
  distinguishedName,
  fillTemplate,
  localSigner,
  parseCaConfig,
  parseTimestampRequest,
  timestampRequest,
  verifyKeylessBundle,
} from '../../src/server/index.ts';

const typed = (e: unknown): boolean => isCustodyError(e) || e instanceof ApiError;

describe('keyless parsers under arbitrary input', () => {
  it('parseTimestampRequest: a request or INPUT_INVALID; a real request round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseTimestampRequest(bytes);
        } catch (e) {
          assert.ok(isCustodyError(e) && e.code === 'INPUT_INVALID', String(e));
        }
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 1, maxLength: 16 }), (digest, nonce) => {
        const req = parseTimestampRequest(timestampRequest(digest, { nonce }));
        assert.deepEqual(new Uint8Array(req.messageImprint.hashedMessage.buffer), digest);
      }),
      { numRuns: 50 },
    );
  });

  it('the TSA answers mutated requests with a response or a typed refusal', async () => {
    const key = generateKeyPair('ecdsa-p256');
    const name = distinguishedName('t', 't');
    const now = new Date();
    const cert = await buildCertificate(
      { subject: name, issuer: name, notBefore: now, notAfter: new Date(now.getTime() + 3600_000), spkiDer: key.publicKey.keyObject.export({ type: 'spki', format: 'der' }), eku: 'timeStamping' },
      localSigner(key),
    );
    const tsa = createTimestampAuthority({ certificate: cert, signer: localSigner(key), now: () => new Date() });
    const good = timestampRequest(Buffer.alloc(32, 1));
    await fc.assert(
      fc.asyncProperty(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), async (at, value) => {
        const mutated = Buffer.from(good);
        mutated[at] = value;
        try {
          const reply = await tsa.timestamp(mutated);
          assert.ok(reply.length > 0);
        } catch (e) {
          assert.ok(typed(e), String(e));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('ID token verification refuses arbitrary strings and mangled tokens with ApiError 401/400', async () => {
    const key = generateKeyPair('ecdsa-p256');
    const issuer = createWorkloadIssuer({ issuer: 'http://127.0.0.1:1', key, audience: 'sigstore', maxTtlSeconds: 600, now: () => new Date() });
    const verifier = createIdentityTokenVerifier([{ cfg: issuer.caIssuer(), jwks: await issuer.jwks() }]);
    const token = (await issuer.mint({ actor: 'token:a', namespace: 'default', step: 'build', ttlSeconds: 60 })).token;
    assert.ok((await verifier.verify(token)).challenges.length > 0);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.nat(token.length - 1).chain((i) => fc.constant(`${token.slice(0, i)}A${token.slice(i + 1)}`))), async (t) => {
        try {
          await verifier.verify(t);
        } catch (e) {
          assert.ok(e instanceof ApiError && (e.status === 401 || e.status === 400), String(e));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('verifyKeylessBundle refuses arbitrary JSON with a custody error', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 3 }), (bundle, root) => {
        try {
          verifyKeylessBundle({ bundle, artifact: Buffer.from('x'), trustedRoot: root, identities: [] });
          assert.fail('an arbitrary value verified');
        } catch (e) {
          assert.ok(isCustodyError(e), String(e));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('parseCaConfig: a config or INPUT_INVALID; validity above 10 minutes and alg none are refused', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (doc) => {
        try {
          parseCaConfig(doc, (p) => p, '/data');
        } catch (e) {
          assert.ok(isCustodyError(e) && e.code === 'INPUT_INVALID', String(e));
        }
      }),
      { numRuns: 300 },
    );
    assert.throws(() => parseCaConfig({ certValiditySeconds: 601 }, (p) => p, '/d'), /at most 600/);
    assert.throws(() => parseCaConfig({ issuers: [{ issuer: 'https://i', audiences: ['a'], jwksUri: 'https://i/k', algorithms: ['none'] }] }, (p) => p, '/d'), /never accepted/);
    assert.throws(() => parseCaConfig({ issuers: [{ issuer: 'https://i', audiences: ['a'], jwksUri: 'http://example.com/k' }] }, (p) => p, '/d'), /https/);
  });

  it('fillTemplate fills every placeholder from the claims or gives undefined', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), fc.string({ maxLength: 10 })), fc.stringMatching(/^[a-z_]{1,8}$/), (claims, name) => {
        const out = fillTemplate(`x/{${name}}/y`, claims);
        assert.equal(out, name in claims ? `x/${claims[name]!}/y` : undefined);
      }),
    );
  });
});
