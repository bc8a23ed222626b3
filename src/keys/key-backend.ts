// The one interface every key store implements (encrypted files, PKCS#11 tokens, cloud KMS): create
// keys inside the store, list them, hand out signers, publish public keys, revoke. The signing
// service and the CLI receive a KeyBackend; only the composition root picks the concrete one.
import type { KeyType, PublicKey, Signer } from '../core/index.ts';

/** Hash functions a digest may be signed under (messageSignature over a digest). */
export type DigestHash = 'sha256' | 'sha384';

export interface KeySpec {
  /** Key name (reference): 1-64 of [A-Za-z0-9._-], starting with a letter or digit. */
  readonly name: string;
  readonly type: KeyType;
}

export interface KeyInfo {
  readonly name: string;
  readonly type: KeyType;
  /** securesystemslib key id of the public key. */
  readonly keyid: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
  /** ISO 8601, when the backend records it. */
  readonly createdAt?: string;
  /** ISO 8601 revocation time; a revoked key never signs again. */
  readonly revokedAt?: string;
  /** Which backend holds the key: 'file', 'pkcs11', 'kms:<provider>'. */
  readonly backend: string;
}

/**
 * A signer held by a backend. `sign` signs a whole message under the key's scheme (as core's
 * Signer); `signDigest` signs a pre-computed digest so that the signature verifies as a signature
 * over the original message (ECDSA and RSA-PSS only: Ed25519 has no pre-hashed form here).
 */
export interface BackendSigner extends Signer {
  readonly name: string;
  signDigest(digest: Uint8Array, hash: DigestHash): Promise<Uint8Array>;
}

export interface KeyBackend {
  /** 'file', 'pkcs11', 'kms:<provider>'. */
  readonly kind: string;
  /** Generates a key inside the backend. Throws InputError KEY_EXISTS when the name is taken. */
  create(spec: KeySpec): Promise<KeyInfo>;
  list(): Promise<KeyInfo[]>;
  /** Throws InputError KEY_NOT_FOUND. */
  info(name: string): Promise<KeyInfo>;
  publicKey(name: string): Promise<PublicKey>;
  /** Throws KEY_NOT_FOUND, or PolicyError KEY_REVOKED for a revoked key. */
  signer(name: string): Promise<BackendSigner>;
  /** Marks the key revoked (idempotent: the first revocation time stays) and stops it signing. */
  revoke(name: string, at?: Date): Promise<KeyInfo>;
  close(): Promise<void>;
}

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isKeyName(name: string): boolean {
  return KEY_NAME.test(name);
}
