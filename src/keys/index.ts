// keys: key stores. File keys (PEM / securesystemslib JSON) now; PKCS#11 and KMS behind the same
// Signer interface as they arrive.
export {
  isPrivateKeyText,
  parsePrivateKeyText,
  parsePublicKeyText,
  loadPrivateKeyFile,
  loadPublicKeyFile,
} from './file-keys.ts';
export { isKeyName } from './key-backend.ts';
export type { BackendSigner, DigestHash, KeyBackend, KeyInfo, KeySpec } from './key-backend.ts';
export { FileKeyBackend } from './file-key-backend.ts';
export type { FileKeyBackendOptions } from './file-key-backend.ts';
export { ENCRYPTED_KEY_FORMAT, DEFAULT_SCRYPT, encryptKey, decryptKey, parseEncryptedKeyFile } from './encrypted-key-file.ts';
export type { EncryptedKeyFile, ScryptParams } from './encrypted-key-file.ts';
export { Pkcs11KeyBackend } from './pkcs11-backend.ts';
export type { Pkcs11BackendOptions, PrivateKeyAttributes } from './pkcs11-backend.ts';
export { rawEcdsaToDer } from './ecdsa-der.ts';
export { digestSignerFor } from './prehash-sign.ts';
export { KmsKeyBackend } from './kms-backend.ts';
export type { KmsClient, KmsKeyDescription } from './kms-backend.ts';
