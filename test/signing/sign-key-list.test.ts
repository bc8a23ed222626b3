import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../../src/core/index.ts';
import { FileKeyBackend } from '../../src/keys/index.ts';
import { parseSigningKeyList } from '../../src/server/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'custody-keylist-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const code = (c: string) => (e: unknown) => e instanceof InputError && e.code === c;

describe('parseSigningKeyList (GET /v1/signing/keys as trust material)', () => {
  it('gives the public keys of a backend listing, leaving revoked keys out', async () => {
    const backend = new FileKeyBackend({ dir, passphrase: 'pw' });
    await backend.create({ name: 'release', type: 'ecdsa-p256' });
    await backend.create({ name: 'old', type: 'ed25519' });
    await backend.revoke('old');
    const listing = JSON.parse(JSON.stringify({ keys: await backend.list() })) as unknown;
    const parsed = parseSigningKeyList(listing);
    assert.deepEqual(parsed.keys.map((k) => k.keyid), [(await backend.publicKey('release')).keyid]);
    assert.deepEqual(parsed.revoked, ['old']);
    await backend.close();
  });

  it('refuses a key whose key id is not the one its PEM gives, and private keys', async () => {
    const backend = new FileKeyBackend({ dir, passphrase: 'pw' });
    const [info] = (await backend.list()).filter((k) => k.name === 'release');
    assert.throws(() => parseSigningKeyList({ keys: [{ ...info, keyid: 'a'.repeat(64) }] }), code('KEY_INVALID'));
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n';
    assert.throws(() => parseSigningKeyList({ keys: [{ ...info, publicKeyPem: pem }] }), code('KEY_INVALID'));
    await backend.close();
  });

  it('fails only with InputError on arbitrary input', () => {
    const keyLike = fc.record({ name: fc.oneof(fc.string(), fc.integer()), keyid: fc.string(), publicKeyPem: fc.oneof(fc.string(), fc.constant('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')), revokedAt: fc.option(fc.string(), { nil: undefined }) }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ keys: fc.array(fc.oneof(keyLike, fc.jsonValue()), { maxLength: 4 }) })), (json) => {
        try {
          parseSigningKeyList(json);
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
        }
      }),
      { numRuns: 300 },
    );
  });
});
