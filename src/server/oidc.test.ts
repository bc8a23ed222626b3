import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { startHarness, type Harness } from '../../test/support/server-harness.ts';

interface Json {
  [k: string]: unknown;
}
const json = (body: string): Json => JSON.parse(body) as Json;

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'custody';

describe('server OIDC bearer tokens', () => {
  let jwksServer: Server;
  let jwksFetches = 0;
  let signingKey: CryptoKey;
  let otherKey: CryptoKey;
  let h: Harness;

  before(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    const publicKey = pair.publicKey;
    ({ privateKey: otherKey } = await generateKeyPair('ES256'));
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    // A JWKS endpoint on loopback, standing in for the identity provider.
    jwksServer = createServer((req, res) => {
      if (req.url !== '/jwks') {
        res.writeHead(404).end();
        return;
      }
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const port = (jwksServer.address() as AddressInfo).port;
    h = await startHarness({
      configure: (c) => {
        c.auth.oidc = [
          {
            issuer: ISSUER,
            audiences: [AUDIENCE],
            jwksUri: `http://127.0.0.1:${port}/jwks`,
            algorithms: ['ES256'],
            grants: [
              { claims: { repository: 'example/app', ref: 'refs/heads/main' }, role: 'attester', namespaces: ['app'] },
              { claims: { repository: 'example/app' }, role: 'reader', namespaces: ['app'] },
            ],
          },
        ];
      },
    });
  });
  after(async () => {
    await h.close();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  async function jwt(
    claims: Record<string, unknown> = {},
    options: { key?: CryptoKey; issuer?: string; audience?: string; expires?: string | number; kid?: string } = {},
  ): Promise<string> {
    return new SignJWT({ repository: 'example/app', ref: 'refs/heads/main', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'k1' })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject('repo:example/app:ref:refs/heads/main')
      .setIssuedAt()
      .setExpirationTime(options.expires ?? '5m')
      .sign(options.key ?? signingKey);
  }

  const list = (token: string, ns = 'app') => h.inject({ method: 'GET', url: `/v1/attestations?namespace=${ns}`, token });
  const upload = (token: string) =>
    h.inject({ method: 'POST', url: '/v1/attestations?namespace=app', headers: { 'content-type': 'application/json' }, payload: '{}', token });

  describe('when the JWT is valid', () => {
    it('grants the role and namespaces of the first matching grant', async () => {
      const main = await jwt();
      assert.equal((await list(main)).statusCode, 200);
      assert.equal((await upload(main)).statusCode, 400, 'attester may write (the empty document is then refused as input)');
      assert.equal((await list(main, 'other')).statusCode, 403);
      const branch = await jwt({ ref: 'refs/heads/feature' });
      assert.equal((await list(branch)).statusCode, 200);
      assert.equal((await upload(branch)).statusCode, 403, 'reader grant only');
      const entry = (await h.store.readAudit((await h.store.auditHead()).seq - 1, 1))[0]!;
      assert.equal(entry.actor, `oidc:${ISSUER}#repo:example/app:ref:refs/heads/main`);
    });

    it('fetches the JWKS once and answers later tokens from the cache', async () => {
      const before = jwksFetches;
      for (let i = 0; i < 5; i++) assert.equal((await list(await jwt())).statusCode, 200);
      assert.ok(jwksFetches - before <= 1, `fetched ${jwksFetches - before} times`);
    });
  });

  describe('when the JWT is not acceptable', () => {
    const none = (): string => {
      const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: ISSUER, aud: AUDIENCE, sub: 's', exp: now + 300, repository: 'example/app', ref: 'refs/heads/main' })}.`;
    };
    const cases: [string, () => Promise<string>, number, string][] = [
      ['from an unknown issuer', () => jwt({}, { issuer: 'https://evil.test' }), 401, 'ISSUER_UNKNOWN'],
      ['for another audience', () => jwt({}, { audience: 'someone-else' }), 401, 'JWT_INVALID'],
      ['expired', () => jwt({}, { expires: Math.floor(Date.now() / 1000) - 3600 }), 401, 'JWT_INVALID'],
      ['signed by a key the issuer does not publish', () => jwt({}, { key: otherKey }), 401, 'JWT_INVALID'],
      ['with alg none', () => Promise.resolve(none()), 401, 'JWT_INVALID'],
      ['not a JWT at all', () => Promise.resolve('garbage.token'), 401, 'JWT_INVALID'],
      ['valid but matching no grant', () => jwt({ repository: 'example/other' }), 403, 'FORBIDDEN'],
    ];
    for (const [name, make, status, code] of cases) {
      it(`refuses a JWT ${name} (${status} ${code}), audited`, async () => {
        const before = (await h.store.auditHead()).seq;
        const res = await list(await make());
        assert.equal(res.statusCode, status, res.body);
        assert.equal(json(res.body)['code'], code);
        const entry = (await h.store.readAudit(before, 10))[0]!;
        assert.equal(entry.outcome, 'denied');
        assert.equal(entry.status, status);
        assert.equal(entry.detail['code'], code);
      });
    }
  });
});
