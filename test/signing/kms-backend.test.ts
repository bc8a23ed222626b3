// The KMS plug point: KmsKeyBackend over a KmsClient passes the shared backend contract. No cloud
// KMS runs here, so the client is an in-memory stand-in for the remote service (keys in
// node:crypto, digests signed as AWS KMS `Sign` with MessageType DIGEST would).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, generateKeyPair, type KeyType, type PrivateKey } from '../../src/core/index.ts';
import { KmsKeyBackend, digestSignerFor, type DigestHash, type KmsClient, type KmsKeyDescription } from '../../src/keys/index.ts';
import { runKeyBackendContract } from './key-backend.contract.ts';

class InMemoryKms implements KmsClient {
  readonly provider = 'test';
  readonly #keys = new Map<string, { key: PrivateKey; createdAt: string; disabledAt?: string }>();

  #describe(name: string): KmsKeyDescription | undefined {
    const k = this.#keys.get(name);
    if (k === undefined) return undefined;
    return { name, type: k.key.type, publicKeyPem: k.key.publicKey.pem, createdAt: k.createdAt, ...(k.disabledAt === undefined ? {} : { disabledAt: k.disabledAt }) };
  }

  createKey(name: string, type: KeyType): Promise<KmsKeyDescription> {
    this.#keys.set(name, { key: generateKeyPair(type), createdAt: new Date().toISOString() });
    return Promise.resolve(this.#describe(name)!);
  }

  describeKey(name: string): Promise<KmsKeyDescription | undefined> {
    return Promise.resolve(this.#describe(name));
  }

  listKeys(): Promise<KmsKeyDescription[]> {
    return Promise.resolve([...this.#keys.keys()].sort().map((n) => this.#describe(n)!));
  }

  signDigest(name: string, digest: Uint8Array, hash: DigestHash): Promise<Uint8Array> {
    const k = this.#keys.get(name);
    if (k === undefined || k.disabledAt !== undefined) return Promise.reject(new Error('KMS: key disabled or missing'));
    try {
      return Promise.resolve(digestSignerFor(k.key.type, k.key.keyObject)(digest, hash));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  disableKey(name: string, at: Date): Promise<void> {
    const k = this.#keys.get(name);
    if (k !== undefined) k.disabledAt = at.toISOString();
    return Promise.resolve();
  }
}

runKeyBackendContract('KMS adapter (in-memory client)', ['ecdsa-p256', 'ecdsa-p384', 'rsa'], () => Promise.resolve(new KmsKeyBackend(new InMemoryKms())));

describe('KmsKeyBackend', () => {
  describe('when asked for an Ed25519 key', () => {
    it('refuses: KMS keys sign digests', async () => {
      const b = new KmsKeyBackend(new InMemoryKms());
      assert.equal(b.kind, 'kms:test');
      await assert.rejects(b.create({ name: 'e', type: 'ed25519' }), (e) => e instanceof InputError && e.code === 'KEY_UNSUPPORTED');
    });
  });
});
