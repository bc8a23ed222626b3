// core: digests, canonical JSON, keys and key ids, signing interfaces, DSSE, in-toto Statement v1,
// typed errors. Imports node built-ins only.
export {
  CustodyError,
  InputError,
  VerificationError,
  PolicyError,
  isCustodyError,
} from './errors.ts';
export type { ErrorCode, InputErrorCode, VerificationErrorCode, PolicyErrorCode } from './errors.ts';
export {
  DIGEST_ALGORITHMS,
  digestBytes,
  digestSetOfBytes,
  digestStream,
  digestFile,
  digestSetsMatch,
  isDigestAlgorithm,
  isValidDigestValue,
  parseDigestString,
} from './digest.ts';
export type { DigestAlgorithm, DigestSet } from './digest.ts';
export { writeFileAtomic } from './atomic-file.ts';
export { canonicalJson, canonicalJsonString, compareCodePoints, jcsString, jcsBytes, parseJson } from './canonical-json.ts';
export {
  KEY_TYPES,
  isKeyType,
  computeKeyId,
  generateKeyPair,
  loadPrivateKeyPem,
  publicKeyFromPem,
  publicKeyFromSecuresystemslib,
  privateKeyFromSecuresystemslib,
  pemLabel,
  shortKeyId,
  verifySignature,
} from './keys.ts';
export type { KeyType, PublicKey, PrivateKey, Signer, SslibKey, EcdsaEncoding } from './keys.ts';
export {
  IN_TOTO_PAYLOAD_TYPE,
  MAX_SIGNATURES,
  pae,
  signEnvelope,
  parseEnvelope,
  verifyEnvelope,
  decodeBase64,
  encodeBase64,
} from './dsse.ts';
export type { Envelope, Signature, EnvelopeVerification, VerifyEnvelopeOptions } from './dsse.ts';
export {
  STATEMENT_TYPE_V1,
  STATEMENT_TYPE_V01,
  makeStatement,
  parseResourceDescriptor,
  parseStatement,
  subjectsMatching,
} from './statement.ts';
export type { Statement, ResourceDescriptor } from './statement.ts';
