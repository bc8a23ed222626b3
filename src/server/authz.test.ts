import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { digestBytes } from '../core/index.ts';
import { verifyAuditEntries, type Role } from '../store/index.ts';
import { makeEnvelope, sha256Of } from '../../test/support/attestations.ts';
import { startHarness, type Harness } from '../../test/support/server-harness.ts';
import { ROLES, authorize, type Permission } from './authz.ts';

interface Json {
  [k: string]: unknown;
}
const json = (body: string): Json => JSON.parse(body) as Json;

// The policy under test, written out: which roles may do what (docs/server.md has the same table).
const MATRIX: Record<Permission, Role[]> = {
  'attestations.read': ['admin', 'maintainer', 'attester', 'signer', 'reviewer', 'reader'],
  'attestations.write': ['admin', 'maintainer', 'attester'],
  'tokens.manage': ['admin'],
  'audit.read': ['admin'],
  'log.append': ['admin', 'maintainer', 'attester', 'signer'],
  'signing.sign': ['admin', 'signer'],
  // Route-scoped: the TUF route checks the delegated role (tuf.roles), not a namespace.
  'tuf.write': ['admin', 'maintainer', 'signer'],
  'gate.verify': ['admin', 'maintainer', 'attester', 'signer', 'reviewer', 'reader'],
  // Workload ID tokens (keyless signing) for the roles that run pipeline steps.
  'identity.mint': ['admin', 'maintainer', 'attester', 'signer'],
  // The log monitor's status and alarms (public logs: no namespace); not the CI attester role.
  'log.monitor': ['admin', 'maintainer', 'signer', 'reviewer', 'reader'],
};

describe('authorize', () => {
  it('grants exactly the matrix, scoped to namespaces, global permissions only to all-namespace principals', () => {
    for (const role of ROLES) {
      for (const [permission, roles] of Object.entries(MATRIX) as [Permission, Role[]][]) {
        const global = permission === 'tokens.manage' || permission === 'audit.read';
        const all = authorize({ actor: 'x', kind: 'token', role, namespaces: ['*'] }, permission, global ? null : 'a');
        assert.equal(all.allowed, roles.includes(role), `${role} ${permission}`);
        const scoped = authorize({ actor: 'x', kind: 'token', role, namespaces: ['a'] }, permission, global ? null : 'b');
        const routeScoped = permission === 'tuf.write' || permission === 'gate.verify' || permission === 'log.monitor';
        assert.equal(scoped.allowed, routeScoped && roles.includes(role), `${role} ${permission} outside its namespace`);
      }
    }
  });
});

describe('server authorization', () => {
  let h: Harness;
  let docId: string;
  const doc = makeEnvelope({ subjects: ['authz-doc'] });

  before(async () => {
    h = await startHarness();
    const bytes = await doc;
    docId = digestBytes(bytes);
    for (const ns of ['a', 'b']) {
      const res = await h.inject({ method: 'POST', url: `/v1/attestations?namespace=${ns}`, headers: { 'content-type': 'application/json' }, payload: bytes, token: h.tokens.admin });
      assert.equal(res.statusCode, 201);
    }
  });
  after(async () => {
    await h.close();
  });

  async function lastAudit() {
    const head = await h.store.auditHead();
    return (await h.store.readAudit(head.seq - 1, 1))[0]!;
  }

  const routes: { name: string; permission: Permission; request: (ns: string) => Promise<InjectOptions> }[] = [
    {
      name: 'POST /v1/attestations',
      permission: 'attestations.write',
      request: async (ns) => ({ method: 'POST', url: `/v1/attestations?namespace=${ns}`, headers: { 'content-type': 'application/json' }, payload: await doc }),
    },
    { name: 'GET /v1/attestations', permission: 'attestations.read', request: (ns) => Promise.resolve({ method: 'GET', url: `/v1/attestations?namespace=${ns}` }) },
    { name: 'GET /v1/attestations/:id', permission: 'attestations.read', request: (ns) => Promise.resolve({ method: 'GET', url: `/v1/attestations/${docId}?namespace=${ns}` }) },
    {
      name: 'GET /v1/artifacts/:digest/graph',
      permission: 'attestations.read',
      request: (ns) => Promise.resolve({ method: 'GET', url: `/v1/artifacts/sha256:${sha256Of('authz-doc')}/graph?namespace=${ns}` }),
    },
    { name: 'POST /v1/tokens', permission: 'tokens.manage', request: () => Promise.resolve({ method: 'POST', url: '/v1/tokens', payload: { role: 'reader', namespaces: ['a'] } }) },
    { name: 'GET /v1/tokens', permission: 'tokens.manage', request: () => Promise.resolve({ method: 'GET', url: '/v1/tokens' }) },
    {
      name: 'DELETE /v1/tokens/:id',
      permission: 'tokens.manage',
      request: async () => {
        const victim = await h.token('reader', ['a']);
        return { method: 'DELETE', url: `/v1/tokens/${victim.split('_')[1]!}` };
      },
    },
    { name: 'GET /v1/audit', permission: 'audit.read', request: () => Promise.resolve({ method: 'GET', url: '/v1/audit' }) },
    { name: 'GET /v1/audit/verify', permission: 'audit.read', request: () => Promise.resolve({ method: 'GET', url: '/v1/audit/verify' }) },
    { name: 'GET /v1/log/monitor', permission: 'log.monitor', request: () => Promise.resolve({ method: 'GET', url: '/v1/log/monitor' }) },
  ];

  describe('for each role and route', () => {
    for (const role of ROLES) {
      for (const route of routes) {
        const allowed = MATRIX[route.permission].includes(role);
        it(`${allowed ? 'allows' : 'denies'} ${role}: ${route.name}`, async () => {
          const res = await h.inject({ ...(await route.request('a')), token: h.tokens[role] });
          if (allowed) {
            assert.ok(res.statusCode === 200 || res.statusCode === 201, `${res.statusCode} ${res.body}`);
            return;
          }
          assert.equal(res.statusCode, 403, res.body);
          assert.equal(json(res.body)['code'], 'FORBIDDEN');
          const entry = await lastAudit();
          assert.equal(entry.outcome, 'denied');
          assert.equal(entry.status, 403);
          assert.equal(entry.action, route.permission);
          assert.match(entry.actor, /^token:[0-9a-f]{16}$/);
          assert.equal(entry.detail['code'], 'FORBIDDEN');
        });
      }
    }
  });

  describe('when a token is scoped to namespace a', () => {
    it('can neither read nor write namespace b, and each refusal is audited', async () => {
      const scoped = await h.token('attester', ['a']);
      for (const route of routes.filter((r) => r.permission.startsWith('attestations.'))) {
        const ok = await h.inject({ ...(await route.request('a')), token: scoped });
        assert.ok(ok.statusCode < 300, `${route.name} in a: ${ok.statusCode}`);
        const before = (await h.store.auditHead()).seq;
        const res = await h.inject({ ...(await route.request('b')), token: scoped });
        assert.equal(res.statusCode, 403, `${route.name} in b`);
        const entry = await lastAudit();
        assert.equal(entry.seq, before + 1);
        assert.equal(entry.namespace, 'b');
        assert.equal(entry.outcome, 'denied');
      }
    });

    it('cannot widen its scope by repeating the namespace parameter', async () => {
      const scoped = await h.token('reader', ['a']);
      const res = await h.inject({ method: 'GET', url: '/v1/attestations?namespace=a&namespace=b', token: scoped });
      assert.equal(res.statusCode, 403);
      const admin = await h.inject({ method: 'GET', url: '/v1/attestations?namespace=a&namespace=b', token: h.tokens.admin });
      assert.equal(admin.statusCode, 400);
    });

    it('an admin scoped to a namespace cannot manage tokens or read the audit log', async () => {
      const scopedAdmin = await h.token('admin', ['a']);
      assert.equal((await h.inject({ method: 'GET', url: '/v1/tokens', token: scopedAdmin })).statusCode, 403);
      assert.equal((await h.inject({ method: 'GET', url: '/v1/audit', token: scopedAdmin })).statusCode, 403);
      assert.equal((await h.inject({ method: 'GET', url: '/v1/attestations?namespace=a', token: scopedAdmin })).statusCode, 200);
    });
  });

  describe('when credentials are missing or bad', () => {
    const cases: [string, () => Promise<Record<string, string>>, string][] = [
      ['no Authorization header', () => Promise.resolve({}), 'UNAUTHENTICATED'],
      ['a Basic header', () => Promise.resolve({ authorization: 'Basic dXNlcjpwYXNz' }), 'UNAUTHENTICATED'],
      ['a malformed API token', () => Promise.resolve({ authorization: 'Bearer custody_nothex_short' }), 'TOKEN_INVALID'],
      ['an unknown API token', () => Promise.resolve({ authorization: `Bearer custody_${'0'.repeat(16)}_${'A'.repeat(43)}` }), 'TOKEN_INVALID'],
      [
        'the right id with a wrong secret',
        () => Promise.resolve({ authorization: `Bearer ${h.tokens.reader.split('_').slice(0, 2).join('_')}_${'B'.repeat(43)}` }),
        'TOKEN_INVALID',
      ],
      ['a JWT when no issuer is configured', () => Promise.resolve({ authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.' }), 'JWT_INVALID'],
    ];
    for (const [name, headers, code] of cases) {
      it(`refuses ${name} with 401 ${code}, audited`, async () => {
        const before = (await h.store.auditHead()).seq;
        const res = await h.inject({ method: 'GET', url: '/v1/attestations?namespace=a', headers: await headers() });
        assert.equal(res.statusCode, 401);
        assert.equal(json(res.body)['code'], code);
        const entry = await lastAudit();
        assert.equal(entry.seq, before + 1);
        assert.deepEqual([entry.outcome, entry.status, entry.actor, entry.detail['code']], ['denied', 401, 'anonymous', code]);
      });
    }

    it('refuses an expired token', async () => {
      const token = await h.token('reader', ['a'], '1m');
      assert.equal((await h.inject({ method: 'GET', url: '/v1/attestations?namespace=a', token })).statusCode, 200);
      h.clock.now = new Date(Date.now() + 120_000);
      try {
        const res = await h.inject({ method: 'GET', url: '/v1/attestations?namespace=a', token });
        assert.equal(res.statusCode, 401);
        assert.equal(json(res.body)['code'], 'TOKEN_EXPIRED');
        const entry = await lastAudit();
        assert.equal(entry.actor, `token:${token.split('_')[1]!}`);
        assert.equal(entry.outcome, 'denied');
      } finally {
        h.clock.now = new Date();
      }
    });

    it('refuses a revoked token', async () => {
      const token = await h.token('reader', ['a']);
      const id = token.split('_')[1]!;
      assert.equal((await h.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, token: h.tokens.admin })).statusCode, 200);
      const res = await h.inject({ method: 'GET', url: '/v1/attestations?namespace=a', token });
      assert.equal(res.statusCode, 401);
      assert.equal(json(res.body)['code'], 'TOKEN_REVOKED');
      assert.equal((await h.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, token: h.tokens.admin })).statusCode, 404);
    });
  });

  describe('when an admin manages tokens through the API', () => {
    it('shows a new token once, lists tokens without secrets, and the new token works in its scope', async () => {
      const res = await h.inject({ method: 'POST', url: '/v1/tokens', payload: { role: 'attester', namespaces: ['c'], expires: '1d', description: 'ci' }, token: h.tokens.admin });
      assert.equal(res.statusCode, 201);
      const created = json(res.body) as { token: string; record: Json };
      assert.match(created.token, /^custody_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(created.record['namespaces'], ['c']);
      const list = await h.inject({ method: 'GET', url: '/v1/tokens', token: h.tokens.admin });
      assert.ok(!list.body.includes(created.token.slice('custody_'.length + 17)));
      assert.ok(!list.body.includes('secretHash'));
      assert.equal((await h.inject({ method: 'GET', url: '/v1/attestations?namespace=c', token: created.token })).statusCode, 200);
      assert.equal((await h.inject({ method: 'GET', url: '/v1/attestations?namespace=a', token: created.token })).statusCode, 403);
      const entries = await h.store.readAudit(0, 10_000);
      assert.ok(entries.some((e) => e.action === 'tokens.create' && e.target === created.record['id'] && e.actor.startsWith('token:')));
    });

    it('refuses a bad token request with 400', async () => {
      for (const payload of [{ role: 'root' }, { role: 'reader' }, { role: 'reader', namespaces: ['a'], expires: 'soon' }, { role: 'reader', namespaces: ['A B'] }]) {
        const res = await h.inject({ method: 'POST', url: '/v1/tokens', payload, token: h.tokens.admin });
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
      }
    });
  });

  describe('after all of the above', () => {
    it('the audit chain verifies, over the API too', async () => {
      const entries = await h.store.readAudit(0, 100_000);
      assert.ok(entries.length > 50);
      assert.deepEqual(verifyAuditEntries(entries, await h.store.auditHead()), []);
      const res = await h.inject({ method: 'GET', url: '/v1/audit/verify', token: h.tokens.admin });
      const body = json(res.body);
      assert.equal(body['ok'], true);
      assert.ok((body['entries'] as number) >= entries.length);
    });
  });
});
