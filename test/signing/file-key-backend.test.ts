// Encrypted file keys: the shared contract plus the file format's own promises (0600, atomic,
// authenticated header, wrong passphrase refused).
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, isCustodyError } from '../../src/core/index.ts';
import { ENCRYPTED_KEY_FORMAT, FileKeyBackend, parseEncryptedKeyFile } from '../../src/keys/index.ts';
import { runKeyBackendContract } from './key-backend.contract.ts';

// Low scrypt cost keeps the suite fast; the format records the parameters used.
const FAST = { N: 1 << 10, r: 8, p: 1 };

function fresh(passphrase = 'correct horse'): { dir: string; backend: FileKeyBackend } {
  const dir = mkdtempSync(join(tmpdir(), 'custody-filekeys-'));
  return { dir, backend: new FileKeyBackend({ dir, passphrase, scrypt: FAST }) };
}

runKeyBackendContract('encrypted files', ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'], () => Promise.resolve(fresh().backend));

describe('FileKeyBackend', () => {
  describe('when a key is created', () => {
    it('writes one 0600 JSON file in the documented format, without the private key in clear', async () => {
      const { dir, backend } = fresh();
      const info = await backend.create({ name: 'release', type: 'ecdsa-p256' });
      assert.deepEqual(readdirSync(dir), ['release.key.json']);
      const path = join(dir, 'release.key.json');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const text = readFileSync(path, 'utf8');
      const file = parseEncryptedKeyFile(text);
      assert.equal(file.format, ENCRYPTED_KEY_FORMAT);
      assert.equal(file.keyid, info.keyid);
      assert.equal(file.kdf.name, 'scrypt');
      assert.equal(file.cipher.name, 'aes-256-gcm');
      assert.doesNotMatch(text, /PRIVATE KEY/);
    });
  });

  describe('when the passphrase is wrong or the file was modified', () => {
    it('refuses to decrypt with KEY_PASSPHRASE_WRONG', async () => {
      const { dir, backend } = fresh('right');
      await backend.create({ name: 'k', type: 'ed25519' });
      const other = new FileKeyBackend({ dir, passphrase: 'wrong', scrypt: FAST });
      await assert.rejects(other.signer('k'), (e) => isCustodyError(e) && e.code === 'KEY_PASSPHRASE_WRONG');
    });

    it('refuses a header swapped onto another key (the header is authenticated)', async () => {
      const { dir, backend } = fresh();
      await backend.create({ name: 'a', type: 'ecdsa-p256' });
      const path = join(dir, 'a.key.json');
      const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      doc['createdAt'] = '2000-01-01T00:00:00.000Z';
      writeFileSync(path, JSON.stringify(doc));
      await assert.rejects(new FileKeyBackend({ dir, passphrase: 'correct horse', scrypt: FAST }).signer('a'), (e) => isCustodyError(e) && e.code === 'KEY_PASSPHRASE_WRONG');
    });

    it('refuses unknown members and a public key that does not match the key id', () => {
      const base = {
        format: ENCRYPTED_KEY_FORMAT,
        name: 'x',
        keyType: 'ecdsa-p256',
        keyid: '00',
        publicKey: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n',
        createdAt: 'now',
        kdf: { name: 'scrypt', salt: 'AA==', N: 1024, r: 8, p: 1 },
        cipher: { name: 'aes-256-gcm', nonce: 'AA==', tag: 'AA==' },
        ciphertext: 'AA==',
      };
      assert.throws(() => parseEncryptedKeyFile(JSON.stringify({ ...base, extra: 1 })), (e) => e instanceof InputError && e.code === 'KEY_INVALID');
      assert.throws(() => parseEncryptedKeyFile(JSON.stringify(base)), (e) => e instanceof InputError && e.code === 'KEY_INVALID');
      assert.throws(() => parseEncryptedKeyFile(JSON.stringify({ ...base, kdf: { ...base.kdf, N: 1000 } })), (e) => e instanceof InputError && e.code === 'KEY_INVALID');
    });
  });
});
