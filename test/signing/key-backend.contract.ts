// The contract every KeyBackend meets (STYLE.md §6): run by each backend's test file with a
// factory for a fresh, empty backend.
import { createHash, verify as cryptoVerify, constants } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, PolicyError, verifySignature, type KeyType } from '../../src/core/index.ts';
import type { KeyBackend } from '../../src/keys/index.ts';

function expectCode(e: unknown, cls: typeof InputError | typeof PolicyError, code: string): boolean {
  return e instanceof cls && e.code === code;
}

/** Verifies `sig` as a signature over `message` made from its sha256 digest. */
function verifiesOverMessage(type: KeyType, pem: string, message: Uint8Array, sig: Uint8Array, hash = 'sha256'): boolean {
  if (type === 'rsa') {
    return cryptoVerify(hash, message, { key: pem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  }
  return cryptoVerify(hash, message, pem, sig);
}

export function runKeyBackendContract(label: string, types: readonly KeyType[], make: () => Promise<KeyBackend | undefined>): void {
  describe(`KeyBackend contract: ${label}`, () => {
    for (const type of types) {
      describe(`when the key is ${type}`, () => {
        it('creates a key, lists it, and signs messages that verify under its public key', async (t) => {
          const backend = await make();
          if (backend === undefined) return t.skip('backend unavailable');
          try {
            const info = await backend.create({ name: `k-${type}`, type });
            assert.equal(info.type, type);
            assert.equal(info.revokedAt, undefined);
            const pub = await backend.publicKey(`k-${type}`);
            assert.equal(pub.keyid, info.keyid);
            assert.deepEqual((await backend.list()).map((k) => k.name), [`k-${type}`]);
            const signer = await backend.signer(`k-${type}`);
            assert.equal(signer.keyid, info.keyid);
            const data = new TextEncoder().encode(`payload for ${type}`);
            const sig = await signer.sign(data);
            assert.equal(verifySignature(pub, data, sig), true);
            assert.equal(verifySignature(pub, new TextEncoder().encode('other'), sig), false);
          } finally {
            await backend.close();
          }
        });

        it(type === 'ed25519' ? 'refuses to sign a bare digest' : 'signs a digest so that it verifies over the message', async (t) => {
          const backend = await make();
          if (backend === undefined) return t.skip('backend unavailable');
          try {
            await backend.create({ name: 'd', type });
            const signer = await backend.signer('d');
            const message = new TextEncoder().encode('the artifact bytes');
            const digest = createHash('sha256').update(message).digest();
            if (type === 'ed25519') {
              await assert.rejects(signer.signDigest(digest, 'sha256'), (e) => expectCode(e, InputError, 'KEY_UNSUPPORTED'));
              return;
            }
            const sig = await signer.signDigest(digest, 'sha256');
            assert.equal(verifiesOverMessage(type, signer.publicKey.pem, message, sig), true);
            assert.equal(verifiesOverMessage(type, signer.publicKey.pem, new TextEncoder().encode('other bytes'), sig), false);
            await assert.rejects(signer.signDigest(digest.subarray(1), 'sha256'), (e) => expectCode(e, InputError, 'INPUT_INVALID'));
          } finally {
            await backend.close();
          }
        });
      });
    }

    it('signs concurrently without mixing up results', async (t) => {
      const backend = await make();
      if (backend === undefined) return t.skip('backend unavailable');
      try {
        await backend.create({ name: 'c', type: 'ecdsa-p256' });
        const signer = await backend.signer('c');
        const messages = Array.from({ length: 48 }, (_, i) => new TextEncoder().encode(`message ${i}`));
        const sigs = await Promise.all(messages.map((m) => signer.sign(m)));
        sigs.forEach((s, i) => assert.equal(verifySignature(signer.publicKey, messages[i]!, s), true, `signature ${i}`));
      } finally {
        await backend.close();
      }
    });

    it('refuses a second key of the same name and unknown names', async (t) => {
      const backend = await make();
      if (backend === undefined) return t.skip('backend unavailable');
      try {
        await backend.create({ name: 'dup', type: 'ecdsa-p256' });
        await assert.rejects(backend.create({ name: 'dup', type: 'ecdsa-p256' }), (e) => expectCode(e, InputError, 'KEY_EXISTS'));
        await assert.rejects(backend.signer('missing'), (e) => expectCode(e, InputError, 'KEY_NOT_FOUND'));
        await assert.rejects(backend.publicKey('missing'), (e) => expectCode(e, InputError, 'KEY_NOT_FOUND'));
        await assert.rejects(backend.create({ name: '../evil', type: 'ecdsa-p256' }), (e) => expectCode(e, InputError, 'INPUT_INVALID'));
      } finally {
        await backend.close();
      }
    });

    it('revokes: the key stays listed with its revocation time and never signs again', async (t) => {
      const backend = await make();
      if (backend === undefined) return t.skip('backend unavailable');
      try {
        await backend.create({ name: 'r', type: 'ecdsa-p256' });
        const signer = await backend.signer('r');
        await signer.sign(new Uint8Array([1]));
        const at = new Date('2026-01-02T03:04:05.000Z');
        const info = await backend.revoke('r', at);
        assert.equal(info.revokedAt, at.toISOString());
        assert.equal((await backend.revoke('r', new Date())).revokedAt, at.toISOString());
        assert.equal((await backend.list()).find((k) => k.name === 'r')?.revokedAt, at.toISOString());
        await assert.rejects(backend.signer('r'), (e) => expectCode(e, PolicyError, 'KEY_REVOKED'));
        // A signer handed out before the revocation stops too.
        await assert.rejects(signer.sign(new Uint8Array([2])), (e) => expectCode(e, PolicyError, 'KEY_REVOKED'));
        const digest = createHash('sha256').update('x').digest();
        await assert.rejects(signer.signDigest(digest, 'sha256'), (e) => expectCode(e, PolicyError, 'KEY_REVOKED'));
        // The public key remains available (old signatures can be identified).
        assert.equal((await backend.publicKey('r')).keyid, info.keyid);
      } finally {
        await backend.close();
      }
    });
  });
}
