// The cloud KMS plug point (docs/signing.md, "KMS backends"): a provider implements the small
// KmsClient interface (create a key, describe it, sign a digest, disable it); KmsKeyBackend turns
// it into a KeyBackend. Signing is always over a digest, which is what cloud KMS APIs take.
import { createHash } from 'node:crypto';
import { InputError, PolicyError, publicKeyFromPem, type KeyType, type PublicKey } from '../core/index.ts';
import { isKeyName, type BackendSigner, type DigestHash, type KeyBackend, type KeyInfo, type KeySpec } from './key-backend.ts';
import { checkDigest } from './prehash-sign.ts';

export interface KmsKeyDescription {
  readonly name: string;
  readonly type: KeyType;
  /** SPKI PEM as the KMS returns it. */
  readonly publicKeyPem: string;
  readonly createdAt?: string;
  /** Set when the KMS key is disabled or scheduled for deletion. */
  readonly disabledAt?: string;
}

/** What a provider adapter (AWS KMS, GCP Cloud KMS, Azure Key Vault, Vault transit) implements. */
export interface KmsClient {
  /** Short provider name: the backend kind becomes `kms:<provider>`. */
  readonly provider: string;
  createKey(name: string, type: KeyType): Promise<KmsKeyDescription>;
  /** Undefined when there is no such key. */
  describeKey(name: string): Promise<KmsKeyDescription | undefined>;
  listKeys(): Promise<KmsKeyDescription[]>;
  /** ECDSA: DER signature over the digest; RSA: RSASSA-PSS (SHA-256, salt 32) over the digest. */
  signDigest(name: string, digest: Uint8Array, hash: DigestHash): Promise<Uint8Array>;
  /** Disables the key for good (signing refused from then on). */
  disableKey(name: string, at: Date): Promise<void>;
}

export class KmsKeyBackend implements KeyBackend {
  readonly kind: string;
  readonly #client: KmsClient;
  /** Keys revoked through this backend: their signers stop at once, before the KMS is asked. */
  readonly #revoked = new Set<string>();

  constructor(client: KmsClient) {
    this.#client = client;
    this.kind = `kms:${client.provider}`;
  }

  #info(d: KmsKeyDescription): KeyInfo {
    const key = publicKeyFromPem(d.publicKeyPem);
    return {
      name: d.name,
      type: key.type,
      keyid: key.keyid,
      publicKeyPem: key.pem,
      ...(d.createdAt === undefined ? {} : { createdAt: d.createdAt }),
      ...(d.disabledAt === undefined ? {} : { revokedAt: d.disabledAt }),
      backend: this.kind,
    };
  }

  async #describe(name: string): Promise<KmsKeyDescription> {
    if (!isKeyName(name)) throw new InputError('INPUT_INVALID', `'${name}' is not a key name`);
    const d = await this.#client.describeKey(name);
    if (d === undefined) throw new InputError('KEY_NOT_FOUND', `no key named '${name}' in ${this.kind}`);
    return d;
  }

  async create(spec: KeySpec): Promise<KeyInfo> {
    if (!isKeyName(spec.name)) throw new InputError('INPUT_INVALID', `'${spec.name}' is not a key name`);
    if ((await this.#client.describeKey(spec.name)) !== undefined) throw new InputError('KEY_EXISTS', `a key named '${spec.name}' exists`);
    if (spec.type === 'ed25519') throw new InputError('KEY_UNSUPPORTED', 'KMS keys sign digests: use ecdsa-p256, ecdsa-p384 or rsa');
    return this.#info(await this.#client.createKey(spec.name, spec.type));
  }

  async list(): Promise<KeyInfo[]> {
    return (await this.#client.listKeys()).map((d) => this.#info(d));
  }

  async info(name: string): Promise<KeyInfo> {
    return this.#info(await this.#describe(name));
  }

  async publicKey(name: string): Promise<PublicKey> {
    return publicKeyFromPem((await this.#describe(name)).publicKeyPem);
  }

  async signer(name: string): Promise<BackendSigner> {
    const info = this.#info(await this.#describe(name));
    if (info.revokedAt !== undefined) throw new PolicyError('KEY_REVOKED', `key '${name}' was revoked at ${info.revokedAt}`);
    const publicKey = publicKeyFromPem(info.publicKeyPem);
    const signDigest = async (digest: Uint8Array, hash: DigestHash): Promise<Uint8Array> => {
      checkDigest(digest, hash);
      if (this.#revoked.has(name)) throw new PolicyError('KEY_REVOKED', `key '${name}' was revoked`);
      try {
        return await this.#client.signDigest(name, digest, hash);
      } catch (e) {
        // A key disabled in the KMS by someone else: report it as the revocation it is.
        const d = await this.#client.describeKey(name).catch(() => undefined);
        if (d?.disabledAt !== undefined) throw new PolicyError('KEY_REVOKED', `key '${name}' was revoked at ${d.disabledAt}`, { cause: e });
        throw e;
      }
    };
    return {
      name,
      keyid: publicKey.keyid,
      publicKey,
      sign: (data) => {
        const hash: DigestHash = info.type === 'ecdsa-p384' ? 'sha384' : 'sha256';
        return signDigest(createHash(hash).update(data).digest(), hash);
      },
      signDigest,
    };
  }

  async revoke(name: string, at: Date = new Date()): Promise<KeyInfo> {
    const d = await this.#describe(name);
    this.#revoked.add(name);
    if (d.disabledAt === undefined) await this.#client.disableKey(name, at);
    return this.info(name);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
