import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../core/index.ts';
import { parseExpiry } from './api-tokens.ts';
import { defaultConfigText, parseConfig, splitListen } from './config.ts';

const inputError = (e: unknown) => e instanceof InputError;

describe('server config', () => {
  it('parses the commented file custody init writes into the embedded defaults', () => {
    const config = parseConfig(parseYaml(defaultConfigText()), '/etc/custody');
    assert.equal(config.listen, '127.0.0.1:8420');
    assert.equal(config.dataDir, '/etc/custody/server');
    assert.deepEqual(config.store, { driver: 'sqlite' });
    assert.equal(config.attestations.rejectUnverified, false);
    assert.deepEqual(config.auth.oidc, []);
  });

  it('resolves relative paths against the config directory', () => {
    const config = parseConfig({ dataDir: 'data', trustedKeys: ['keys/a.pub', '/abs/b.pub'] }, '/srv/c');
    assert.equal(config.dataDir, '/srv/c/data');
    assert.deepEqual(config.trustedKeys, ['/srv/c/keys/a.pub', '/abs/b.pub']);
  });

  it('refuses unknown keys, bad values and listen addresses, with an input error', () => {
    for (const doc of [
      { lissten: '127.0.0.1:1' },
      { listen: 'nowhere' },
      { listen: '127.0.0.1:70000' },
      { store: { driver: 'mysql' } },
      { limits: { bodyBytes: -1 } },
      { limits: { speed: 1 } },
      { log: { level: 'loud' } },
      { attestations: { rejectUnverified: 'yes' } },
      [],
    ]) {
      assert.throws(() => parseConfig(doc, '/'), inputError, JSON.stringify(doc));
    }
  });

  it('takes the PostgreSQL URL from the file or CUSTODY_DATABASE_URL', () => {
    const config = parseConfig({ store: { driver: 'postgres', url: 'postgres://db/custody' } }, '/');
    assert.deepEqual(config.store, { driver: 'postgres', url: 'postgres://db/custody', maxConnections: 10 });
    const saved = process.env['CUSTODY_DATABASE_URL'];
    try {
      delete process.env['CUSTODY_DATABASE_URL'];
      assert.throws(() => parseConfig({ store: { driver: 'postgres' } }, '/'), inputError);
      process.env['CUSTODY_DATABASE_URL'] = 'postgres://env/custody';
      assert.equal((parseConfig({ store: { driver: 'postgres' } }, '/').store as { url: string }).url, 'postgres://env/custody');
    } finally {
      if (saved === undefined) delete process.env['CUSTODY_DATABASE_URL'];
      else process.env['CUSTODY_DATABASE_URL'] = saved;
    }
  });

  describe('when configuring OIDC issuers', () => {
    const issuer = (extra: Record<string, unknown>) => ({
      auth: { oidc: [{ issuer: 'https://i', audiences: ['custody'], jwksUri: 'https://i/jwks', grants: [{ claims: { sub: 'x' }, role: 'reader', namespaces: ['a'] }], ...extra }] },
    });
    it('accepts https, or http on loopback only', () => {
      assert.equal(parseConfig(issuer({}), '/').auth.oidc[0]?.jwksUri, 'https://i/jwks');
      assert.equal(parseConfig(issuer({ jwksUri: 'http://127.0.0.1:9/jwks' }), '/').auth.oidc.length, 1);
      assert.throws(() => parseConfig(issuer({ jwksUri: 'http://idp.example/jwks' }), '/'), inputError);
    });
    it("never accepts the 'none' algorithm, grants without claims or unknown roles", () => {
      assert.throws(() => parseConfig(issuer({ algorithms: ['RS256', 'none'] }), '/'), inputError);
      assert.throws(() => parseConfig(issuer({ grants: [{ claims: {}, role: 'reader', namespaces: ['a'] }] }), '/'), inputError);
      assert.throws(() => parseConfig(issuer({ grants: [{ claims: { sub: 'x' }, role: 'root', namespaces: ['a'] }] }), '/'), inputError);
    });
  });

  it('splits HOST:PORT, IPv6 included', () => {
    assert.deepEqual(splitListen('127.0.0.1:8420'), { host: '127.0.0.1', port: 8420 });
    assert.deepEqual(splitListen('[::1]:0'), { host: '::1', port: 0 });
  });
});

describe('parseExpiry', () => {
  const now = new Date('2025-01-01T00:00:00.000Z');
  it('reads durations, ISO times and never', () => {
    assert.equal(parseExpiry('30d', now), '2025-01-31T00:00:00.000Z');
    assert.equal(parseExpiry('12h', now), '2025-01-01T12:00:00.000Z');
    assert.equal(parseExpiry('2w', now), '2025-01-15T00:00:00.000Z');
    assert.equal(parseExpiry('2025-06-01T00:00:00Z', now), '2025-06-01T00:00:00.000Z');
    assert.equal(parseExpiry('never', now), null);
  });
  it('refuses anything else, and times in the past', () => {
    for (const text of ['soon', '10y', '-1d', '', '2024-01-01T00:00:00Z']) assert.throws(() => parseExpiry(text, now), (e) => e instanceof InputError && e.code === 'USAGE', text);
  });
});

describe('tuf: and gate: sections', () => {
  const tuf = (extra: Record<string, unknown> = {}) => ({ dir: 'tuf', onlineKeys: [{ file: 'keys/online.key' }, { name: 'tuf-online' }], ...extra });

  it('are absent unless configured; relative paths resolve; defaults fill the rest', () => {
    const none = parseConfig({}, '/srv');
    assert.equal(none.tuf, undefined);
    assert.equal(none.gate, undefined);
    const c = parseConfig(
      {
        tuf: tuf({ expiry: { timestamp: '1d', snapshot: '7d' }, admission: { policies: ['p.json'], policyKeys: ['owner.pub'] }, roles: [{ role: 'apps', namespaces: ['apps'] }, { role: 'web', principals: ['token:ab*'] }] }),
        gate: { policies: ['deploy.json'], allowUnsignedPolicy: true, mode: 'warn', excludeNamespaces: ['kube-system'] },
      },
      '/srv',
    );
    assert.equal(c.tuf?.dir, '/srv/tuf');
    assert.deepEqual(c.tuf?.onlineKeys, [{ file: '/srv/keys/online.key' }, { name: 'tuf-online' }]);
    assert.equal(c.tuf?.keyBackend, 'signing');
    assert.deepEqual(c.tuf?.expiry, { timestamp: 86400, snapshot: 7 * 86400 });
    assert.equal(c.tuf?.refreshWithin, 12 * 3600);
    assert.equal(c.tuf?.refreshEveryMs, 60_000);
    assert.deepEqual(c.tuf?.admission, { policies: ['/srv/p.json'], policyKeys: ['/srv/owner.pub'], policyThreshold: 1, allowUnsignedPolicy: false });
    assert.deepEqual(c.tuf?.roles, [
      { role: 'apps', principals: [], namespaces: ['apps'] },
      { role: 'web', principals: ['token:ab*'], namespaces: [] },
    ]);
    assert.equal(c.gate?.mode, 'warn');
    assert.deepEqual(c.gate?.policies, ['/srv/deploy.json']);
    assert.equal(c.gate?.attestationsNamespace, 'default');
    const hsm = parseConfig({ tuf: tuf({ keyBackend: { kind: 'pkcs11', tokenLabel: 'tuf' } }) }, '/srv');
    assert.deepEqual(hsm.tuf?.keyBackend, { kind: 'pkcs11', library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'tuf', pinEnv: 'CUSTODY_PKCS11_PIN', sessions: 2 });
  });

  it('refuse bad sections with an input error naming the place', () => {
    const cases: [unknown, RegExp][] = [
      [{ tuf: 'tuf' }, /tuf: must be a mapping/],
      [{ tuf: { dir: 'tuf' } }, /tuf\.onlineKeys/],
      [{ tuf: tuf({ directory: 'x' }) }, /tuf: unknown key 'directory'/],
      [{ tuf: { ...tuf(), dir: '' } }, /tuf\.dir: must be a non-empty string/],
      [{ tuf: tuf({ onlineKeys: [{ path: 'k' }] }) }, /tuf\.onlineKeys\[0\]: unknown key 'path'/],
      [{ tuf: tuf({ onlineKeys: [{}] }) }, /tuf\.onlineKeys\[0\]: needs file/],
      [{ tuf: tuf({ keyBackend: { kind: 'kms' } }) }, /tuf\.keyBackend\.kind/],
      [{ tuf: tuf({ keyBackend: { kind: 'pkcs11' } }) }, /tuf\.keyBackend\.tokenLabel/],
      [{ tuf: tuf({ expiry: { root: '1d' } }) }, /tuf\.expiry: unknown key 'root'/],
      [{ tuf: tuf({ expiry: { timestamp: 'tomorrow' } }) }, /tuf\.expiry\.timestamp: 'tomorrow' is not a duration/],
      [{ tuf: tuf({ expiry: { timestamp: '6h' }, refreshWithin: '12h' }) }, /tuf\.refreshWithin: must be shorter than expiry\.timestamp/],
      [{ tuf: tuf({ refreshWithin: '1m', refreshEvery: '5m' }) }, /tuf\.refreshEvery: must be shorter/],
      [{ tuf: tuf({ admission: { policies: ['p.json'] } }) }, /tuf\.admission: policies need policyKeys/],
      [{ tuf: tuf({ admission: { policies: ['p.json'], policyKeys: ['k.pub'], policyThreshold: 2 } }) }, /policyThreshold: 2 is more than/],
      [{ tuf: tuf({ roles: [{ role: 'apps' }] }) }, /tuf\.roles\[0\]: needs principals or namespaces/],
      [{ tuf: tuf({ roles: [{ role: 'timestamp', namespaces: ['a'] }] }) }, /tuf\.roles\[0\]\.role: 'timestamp' is not a targets role/],
      [{ tuf: tuf({ roles: [{ role: 'a', namespaces: ['a'] }, { role: 'a', principals: ['x'] }] }) }, /role 'a' is listed twice/],
      [{ gate: {} }, /gate\.policies: the gate needs at least one policy/],
      [{ gate: { policies: ['d.json'], allowUnsignedPolicy: true, mode: 'audit' } }, /gate\.mode/],
      [{ gate: { policies: ['d.json'], allowUnsignedPolicy: 'yes' } }, /gate\.allowUnsignedPolicy: must be true or false/],
      [{ gate: { policies: ['d.json'], allowUnsignedPolicy: true, attestationsNamespace: 'Bad NS' } }, /gate\.attestationsNamespace/],
    ];
    for (const [doc, message] of cases) {
      assert.throws(() => parseConfig(doc, '/'), (e) => inputError(e) && message.test((e as Error).message), JSON.stringify(doc));
    }
  });
});
