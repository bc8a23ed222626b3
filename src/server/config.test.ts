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
