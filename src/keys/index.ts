// keys: key stores. File keys (PEM / securesystemslib JSON) now; PKCS#11 and KMS behind the same
// Signer interface as they arrive.
export {
  isPrivateKeyText,
  parsePrivateKeyText,
  parsePublicKeyText,
  loadPrivateKeyFile,
  loadPublicKeyFile,
} from './file-keys.ts';
