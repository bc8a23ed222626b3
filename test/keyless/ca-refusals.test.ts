// The certificate authority (Fulcio v2 POST /api/v2/signingCert) and the workload-identity issuer:
// a good request gets a ≤10-minute leaf with the identity in the SAN, the Sigstore issuer and CI
// extensions, chained to the intermediate and logged; every bad one is refused with its own code.
import { X509Certificate, sign as cryptoSign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SignJWT, createLocalJWKSet, exportJWK, jwtVerify } from 'jose';
import { generateKeyPair, type PrivateKey } from '../../src/core/index.ts';
import { FULCIO_OID, GITHUB_ACTIONS_PRESET, certificateLogEntry, extensionValue, pemCertificates } from '../../src/server/index.ts';
import { leafHash } from '../../src/tlog/index.ts';
import { startCaHarness, type CaHarness } from './ca-harness.ts';

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

interface CertAnswer {
  statusCode: number;
  body: { code?: string; logIndex?: number; signedCertificateEmbeddedSct?: { chain: { certificates: string[] } } };
}

describe('keyless certificate authority', () => {
  let h: CaHarness;
  let jwks: Server;
  let ghKey: PrivateKey;
  const GH_ISSUER = 'https://token.actions.example';
  before(async () => {
    // An external OIDC provider (GitHub Actions-shaped claims) serving its JWKS on loopback.
    ghKey = generateKeyPair('ecdsa-p256');
    const jwk = { ...(await exportJWK(ghKey.publicKey.keyObject)), kid: 'gh1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const port = (jwks.address() as { port: number }).port;
    h = await startCaHarness({
      issuers: [{ issuer: GH_ISSUER, audiences: ['sigstore'], jwksUri: `http://127.0.0.1:${port}/jwks`, algorithms: ['ES256'], ...GITHUB_ACTIONS_PRESET }],
    });
  });
  after(async () => {
    await h.stop();
    jwks.close();
  });

  async function mint(body: Record<string, unknown>, token = h.tokens.signer): Promise<{ statusCode: number; json: { token?: string; subject?: string; code?: string } }> {
    const res = await h.inject({ method: 'POST', url: '/v1/identity/token', token, payload: body });
    return { statusCode: res.statusCode, json: res.json() };
  }

  async function requestCert(idToken: string, key: PrivateKey, challenge?: string, proofKey: PrivateKey = key): Promise<CertAnswer> {
    const sub = challenge ?? (JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
    const proof = cryptoSign('sha256', Buffer.from(sub), proofKey.keyObject).toString('base64');
    const res = await h.inject({
      method: 'POST',
      url: '/api/v2/signingCert',
      payload: { credentials: { oidcIdentityToken: idToken }, publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: key.publicKey.pem }, proofOfPossession: proof } },
    });
    return { statusCode: res.statusCode, body: res.json() };
  }

  it('issues a leaf: identity in a critical SAN, issuer extension, ≤10 minutes, chained, logged', async () => {
    const m = await mint({ step: 'build', ttlSeconds: 300, run: 'r1' });
    assert.equal(m.statusCode, 200);
    const key = generateKeyPair('ecdsa-p256');
    const res = await requestCert(m.json.token!, key);
    assert.equal(res.statusCode, 200, JSON.stringify(res.body));
    const [leafDer, interDer, rootDer] = pemCertificates(res.body.signedCertificateEmbeddedSct!.chain.certificates.join('\n'));
    const leaf = new X509Certificate(leafDer!);
    const inter = new X509Certificate(interDer!);
    const root = new X509Certificate(rootDer!);
    assert.equal(leaf.subjectAltName, `URI:${m.json.subject}`);
    assert.ok(leaf.subject === undefined || leaf.subject === '', 'the leaf has no subject (Fulcio style)');
    assert.ok(leaf.checkIssued(inter) && leaf.verify(inter.publicKey) && inter.verify(root.publicKey) && root.verify(root.publicKey));
    assert.ok(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom) <= 600_000);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.3']);
    assert.ok(leaf.publicKey.equals(key.publicKey.keyObject));
    // Issuer V2 is a DER UTF8String; V1 the raw string.
    assert.deepEqual([...extensionValue(leafDer!, FULCIO_OID.issuerV2)!.subarray(0, 2)], [0x0c, h.issuer.length]);
    assert.equal(extensionValue(leafDer!, FULCIO_OID.issuerV1)!.toString(), h.issuer);
    assert.equal(extensionValue(leafDer!, FULCIO_OID.runInvocationUri)!.subarray(2).toString(), `${h.issuer}/runs/r1`);
    // The certificate is in the transparency log at the answered index.
    const leafHex = Buffer.from(leafHash(certificateLogEntry(leafDer!, m.json.subject!, h.issuer))).toString('hex');
    const found = await h.inject({ method: 'GET', url: `/v1/log/leaves/${leafHex}` });
    assert.equal(found.statusCode, 200);
    assert.equal(found.json<{ index: number }>().index, res.body.logIndex);
  });

  it('maps an external issuer’s claims to the SAN and the CI extensions (GitHub Actions preset)', async () => {
    const now = Math.floor(h.clock.now.getTime() / 1000);
    const claims = {
      server_url: 'https://github.example',
      job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
      repository: 'acme/app',
      sha: 'a'.repeat(40),
      ref: 'refs/heads/main',
      event_name: 'push',
      run_id: '7',
      run_attempt: '1',
    };
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'gh1' }).setIssuer(GH_ISSUER).setSubject('repo:acme/app:ref:refs/heads/main').setAudience('sigstore').setIssuedAt(now).setExpirationTime(now + 300).sign(ghKey.keyObject);
    const res = await requestCert(token, generateKeyPair('ecdsa-p256'));
    assert.equal(res.statusCode, 200, JSON.stringify(res.body));
    const [leafDer] = pemCertificates(res.body.signedCertificateEmbeddedSct!.chain.certificates[0]!);
    assert.equal(new X509Certificate(leafDer!).subjectAltName, `URI:https://github.example/${claims.job_workflow_ref}`);
    const text = (oid: string) => extensionValue(leafDer!, oid)?.subarray(2).toString();
    assert.equal(text(FULCIO_OID.sourceRepositoryUri), 'https://github.example/acme/app');
    assert.equal(text(FULCIO_OID.sourceRepositoryDigest), claims.sha);
    assert.equal(text(FULCIO_OID.buildTrigger), 'push');
    assert.equal(text(FULCIO_OID.runInvocationUri), 'https://github.example/acme/app/actions/runs/7/attempts/1');
    // Claims the token lacks give no extension.
    assert.equal(extensionValue(leafDer!, FULCIO_OID.sourceRepositoryOwnerIdentifier), undefined);
  });

  it('refuses an expired ID token (TOKEN_EXPIRED)', async () => {
    const m = await mint({ step: 'build', ttlSeconds: 60 });
    const saved = h.clock.now;
    h.clock.now = new Date(saved.getTime() + 5 * 60_000);
    try {
      const res = await requestCert(m.json.token!, generateKeyPair('ecdsa-p256'));
      assert.equal(res.statusCode, 401);
      assert.equal(res.body.code, 'TOKEN_EXPIRED');
    } finally {
      h.clock.now = saved;
    }
  });

  it('refuses a token for another audience (AUDIENCE_MISMATCH)', async () => {
    const m = await mint({ step: 'build', ttlSeconds: 60, audience: 'some-other-service' });
    const res = await requestCert(m.json.token!, generateKeyPair('ecdsa-p256'));
    assert.equal(res.statusCode, 401);
    assert.equal(res.body.code, 'AUDIENCE_MISMATCH');
  });

  it('refuses an unknown issuer (ISSUER_UNKNOWN) and a known issuer name signed by another key (JWT_INVALID)', async () => {
    const evil = generateKeyPair('ecdsa-p256');
    const now = Math.floor(h.clock.now.getTime() / 1000);
    const forge = (iss: string) => new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(iss).setSubject('x').setAudience('sigstore').setIssuedAt(now).setExpirationTime(now + 60).sign(evil.keyObject);
    const unknown = await requestCert(await forge('https://evil.example'), generateKeyPair('ecdsa-p256'));
    assert.equal(unknown.statusCode, 401);
    assert.equal(unknown.body.code, 'ISSUER_UNKNOWN');
    const forged = await requestCert(await forge(h.issuer), generateKeyPair('ecdsa-p256'));
    assert.equal(forged.statusCode, 401);
    assert.equal(forged.body.code, 'JWT_INVALID');
  });

  it("refuses an unsigned token (alg: none → ALGORITHM_REFUSED), and a token that is not a JWT", async () => {
    const now = Math.floor(h.clock.now.getTime() / 1000);
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: h.issuer, sub: 'x', aud: 'sigstore', iat: now, exp: now + 60 })}.`;
    const res = await requestCert(none, generateKeyPair('ecdsa-p256'), 'x');
    assert.equal(res.statusCode, 401);
    assert.equal(res.body.code, 'ALGORITHM_REFUSED');
    const junk = await requestCert('not.a.jwt', generateKeyPair('ecdsa-p256'), 'x');
    assert.equal(junk.body.code, 'JWT_INVALID');
  });

  it('refuses a failed proof of possession (PROOF_OF_POSSESSION_FAILED): wrong challenge, or another key', async () => {
    const m = await mint({ step: 'build', ttlSeconds: 60 });
    const key = generateKeyPair('ecdsa-p256');
    const wrongText = await requestCert(m.json.token!, key, 'something else');
    assert.equal(wrongText.statusCode, 400);
    assert.equal(wrongText.body.code, 'PROOF_OF_POSSESSION_FAILED');
    const wrongKey = await requestCert(m.json.token!, key, undefined, generateKeyPair('ecdsa-p256'));
    assert.equal(wrongKey.body.code, 'PROOF_OF_POSSESSION_FAILED');
  });

  it('refuses malformed requests with 4xx: no key request, a CSR, a non-key', async () => {
    const m = await mint({ step: 'build', ttlSeconds: 60 });
    const noKey = await h.inject({ method: 'POST', url: '/api/v2/signingCert', payload: { credentials: { oidcIdentityToken: m.json.token } } });
    assert.equal(noKey.statusCode, 400);
    const csr = await h.inject({ method: 'POST', url: '/api/v2/signingCert', payload: { credentials: { oidcIdentityToken: m.json.token }, certificateSigningRequest: 'x' } });
    assert.equal(csr.statusCode, 400);
    const bad = await h.inject({
      method: 'POST',
      url: '/api/v2/signingCert',
      payload: { credentials: { oidcIdentityToken: m.json.token }, publicKeyRequest: { publicKey: { content: 'not a key' }, proofOfPossession: 'AA==' } },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ code: string }>().code, 'KEY_INVALID');
  });

  it('mints only for authorized principals, within the TTL limit; discovery and JWKS verify the token', async () => {
    assert.equal((await h.inject({ method: 'POST', url: '/v1/identity/token', payload: { step: 'build' } })).statusCode, 401);
    const reader = await mint({ step: 'build' }, h.tokens.reader);
    assert.equal(reader.statusCode, 403);
    assert.equal((await mint({ step: 'build', ttlSeconds: 10 * 3600 })).statusCode, 400);
    assert.equal((await mint({ step: '../etc' })).statusCode, 400);
    const m = await mint({ step: 'test', ttlSeconds: 120 });
    const discovery = (await h.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json<{ issuer: string; jwks_uri: string }>();
    assert.equal(discovery.issuer, h.issuer);
    const keys = (await h.inject({ method: 'GET', url: new URL(discovery.jwks_uri).pathname })).json<{ keys: never[] }>();
    const { payload } = await jwtVerify(m.json.token!, createLocalJWKSet(keys), { issuer: h.issuer, audience: 'sigstore', currentDate: h.clock.now });
    assert.equal(payload.sub, m.json.subject);
    assert.equal(payload['custody_step'], 'test');
    assert.ok(payload.exp! - payload.iat! === 120);
  });

  it('answers arbitrary bodies on every keyless route with 4xx, never 5xx', async () => {
    const m = await mint({ step: 'fuzz', ttlSeconds: 300 });
    const text = fc.oneof(fc.string({ maxLength: 80 }), fc.base64String({ maxLength: 120 }), fc.constant(m.json.token!));
    const bodies = fc.oneof(
      fc.record({ credentials: fc.record({ oidcIdentityToken: text }), publicKeyRequest: fc.record({ publicKey: fc.record({ algorithm: fc.string({ maxLength: 10 }), content: text }), proofOfPossession: text }) }).map((p) => ['/api/v2/signingCert', p] as const),
      fc.record({ hashedRekordRequestV002: fc.record({ digest: text, signature: fc.record({ content: text, verifier: fc.record({ x509Certificate: fc.record({ rawBytes: text }), keyDetails: fc.string({ maxLength: 30 }) }) }) }) }).map((p) => ['/api/v2/log/entries', p] as const),
      fc.record({ artifactHash: fc.oneof(text, fc.constant(Buffer.alloc(32, 1).toString('base64'))), hashAlgorithm: fc.constantFrom('sha256', 'sha1', 'x'), nonce: fc.oneof(fc.integer(), fc.double(), fc.string()) }).map((p) => ['/api/v1/timestamp', p] as const),
      fc.jsonValue({ maxDepth: 3 }).map((p) => ['/api/v2/signingCert', p] as const),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async ([url, payload]) => {
        const res = await h.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
        assert.ok(res.statusCode >= 200 && res.statusCode < 500, `${url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      }),
      { numRuns: 120 },
    );
  });

  it('serves a signing config naming the CA, the issuer, the log and the TSA', async () => {
    const cfg = (await h.inject({ method: 'GET', url: '/v1/ca/signing-config' })).json<Record<string, { url: string }[]>>();
    assert.equal(cfg['caUrls']![0]!.url, h.issuer);
    assert.equal(cfg['oidcUrls']![0]!.url, h.issuer);
    assert.equal(cfg['tsaUrls']![0]!.url, `${h.issuer}/api/v1/timestamp`);
    assert.equal(cfg['rekorTlogUrls']!.length, 1);
  });
});
