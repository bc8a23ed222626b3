// Keys: generation, PEM (PKCS#8 / SPKI) and securesystemslib JSON forms, key ids computed exactly as
// securesystemslib computes them, and signing/verification with each key type's scheme.
//
// Signature encodings (one per scheme, used everywhere: v0.9 links, DSSE, TUF):
//   ed25519            raw 64 bytes (RFC 8032)
//   ecdsa P-256/P-384  ASN.1 DER (as securesystemslib, sigstore, cosign and in-toto-golang);
//                      IEEE P1363 r‖s only when a caller asks for it explicitly
//   rsa                RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32 when signing
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  constants,
  type KeyObject,
} from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { digestBytes } from './digest.ts';
import { InputError } from './errors.ts';

export const KEY_TYPES = ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'rsa'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export type EcdsaEncoding = 'der' | 'ieee-p1363';

/** A key in securesystemslib's JSON form (what in-toto 1.x reads and writes). */
export interface SslibKey {
  keytype: string;
  scheme: string;
  keyid_hash_algorithms: string[];
  keyval: { public: string; private?: string };
  keyid?: string;
}

export interface PublicKey {
  readonly type: KeyType;
  /** securesystemslib key id: sha256 of the canonical JSON of the public key object. */
  readonly keyid: string;
  readonly scheme: string;
  readonly keyObject: KeyObject;
  /** SPKI PEM (with a trailing newline). */
  readonly pem: string;
  toSecuresystemslib(): SslibKey;
}

export interface Signer {
  readonly keyid: string;
  readonly publicKey: PublicKey;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface PrivateKey {
  readonly type: KeyType;
  readonly keyObject: KeyObject;
  readonly publicKey: PublicKey;
  signer(options?: { ecdsaEncoding?: EcdsaEncoding }): Signer;
  /** PKCS#8 PEM, encrypted (PBES2, AES-256-CBC) when a passphrase is given. */
  toPkcs8Pem(passphrase?: string): string;
  toSecuresystemslib(): SslibKey;
}

const SCHEMES: Record<KeyType, string> = {
  ed25519: 'ed25519',
  'ecdsa-p256': 'ecdsa-sha2-nistp256',
  'ecdsa-p384': 'ecdsa-sha2-nistp384',
  rsa: 'rsassa-pss-sha256',
};

const SSLIB_KEYTYPE: Record<KeyType, string> = {
  ed25519: 'ed25519',
  'ecdsa-p256': 'ecdsa',
  'ecdsa-p384': 'ecdsa',
  rsa: 'rsa',
};

const KEYID_HASH_ALGORITHMS = ['sha256', 'sha512'];
const MIN_RSA_BITS = 2048;

export function isKeyType(name: string): name is KeyType {
  return (KEY_TYPES as readonly string[]).includes(name);
}

function keyTypeOf(key: KeyObject): KeyType {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return 'ed25519';
  if (t === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-p256';
    if (curve === 'secp384r1') return 'ecdsa-p384';
    throw new InputError('KEY_UNSUPPORTED', `unsupported elliptic curve ${curve ?? 'unknown'} (use P-256 or P-384)`);
  }
  if (t === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new InputError('KEY_UNSUPPORTED', `RSA key of ${bits} bits is too short (minimum ${MIN_RSA_BITS})`);
    return 'rsa';
  }
  throw new InputError('KEY_UNSUPPORTED', `unsupported key type ${t ?? 'unknown'} (use ed25519, ecdsa-p256, ecdsa-p384 or rsa)`);
}

function spkiPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * The `keyval.public` string securesystemslib stores for a key: raw hex for ed25519, SPKI PEM with
 * its trailing newline for ecdsa (as in-toto-keygen writes it), and SPKI PEM without the trailing
 * newline for rsa (securesystemslib strips it when importing RSA PEM).
 */
function sslibPublicValue(type: KeyType, key: KeyObject): string {
  if (type === 'ed25519') {
    const der = key.export({ type: 'spki', format: 'der' });
    return Buffer.from(der.subarray(der.length - 32)).toString('hex');
  }
  const pem = spkiPem(key);
  return type === 'rsa' ? pem.trimEnd() : pem;
}

/** securesystemslib key id: sha256 hex of canonical JSON of the public part (keyid_hash_algorithms included). */
export function computeKeyId(keytype: string, scheme: string, publicValue: string, hashAlgorithms = KEYID_HASH_ALGORITHMS): string {
  return digestBytes(
    canonicalJson({ keytype, scheme, keyid_hash_algorithms: hashAlgorithms, keyval: { public: publicValue } }),
  );
}

function makePublicKey(keyObject: KeyObject, sslib?: { keytype: string; scheme: string; public: string; hashAlgorithms: string[] }): PublicKey {
  const type = keyTypeOf(keyObject);
  const scheme = sslib?.scheme ?? SCHEMES[type];
  const keytype = sslib?.keytype ?? SSLIB_KEYTYPE[type];
  const publicValue = sslib?.public ?? sslibPublicValue(type, keyObject);
  const hashAlgorithms = sslib?.hashAlgorithms ?? KEYID_HASH_ALGORITHMS;
  const keyid = computeKeyId(keytype, scheme, publicValue, hashAlgorithms);
  const pem = spkiPem(keyObject);
  return {
    type,
    keyid,
    scheme,
    keyObject,
    pem,
    toSecuresystemslib: () => ({
      keytype,
      scheme,
      keyid_hash_algorithms: [...hashAlgorithms],
      keyval: { public: publicValue },
    }),
  };
}

function signBytes(type: KeyType, key: KeyObject, data: Uint8Array, ecdsaEncoding: EcdsaEncoding): Uint8Array {
  switch (type) {
    case 'ed25519':
      return cryptoSign(null, data, key);
    case 'ecdsa-p256':
      return cryptoSign('sha256', data, { key, dsaEncoding: ecdsaEncoding });
    case 'ecdsa-p384':
      return cryptoSign('sha384', data, { key, dsaEncoding: ecdsaEncoding });
    case 'rsa':
      return cryptoSign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  }
}

/** Verifies a signature under the key's scheme. Never throws for a bad signature: returns false. */
export function verifySignature(
  key: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  options: { ecdsaEncoding?: EcdsaEncoding } = {},
): boolean {
  try {
    const k = key.keyObject;
    switch (key.type) {
      case 'ed25519':
        return signature.length === 64 && cryptoVerify(null, data, k, signature);
      case 'ecdsa-p256':
      case 'ecdsa-p384': {
        // A securesystemslib key of either curve may name the other hash in its scheme.
        const hash = key.scheme.endsWith('nistp384') ? 'sha384' : 'sha256';
        return cryptoVerify(hash, data, { key: k, dsaEncoding: options.ecdsaEncoding ?? 'der' }, signature);
      }
      case 'rsa':
        return cryptoVerify(
          'sha256',
          data,
          { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
          signature,
        );
    }
  } catch {
    // Malformed DER, wrong length and the like are simply invalid signatures.
    return false;
  }
}

function makePrivateKey(keyObject: KeyObject, publicKey?: PublicKey): PrivateKey {
  const pub = publicKey ?? makePublicKey(createPublicKey(keyObject));
  const type = pub.type;
  return {
    type,
    keyObject,
    publicKey: pub,
    signer: (options = {}) => ({
      keyid: pub.keyid,
      publicKey: pub,
      sign: (data: Uint8Array) => Promise.resolve(signBytes(type, keyObject, data, options.ecdsaEncoding ?? 'der')),
    }),
    toPkcs8Pem: (passphrase?: string) =>
      (passphrase === undefined
        ? keyObject.export({ type: 'pkcs8', format: 'pem' })
        : keyObject.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
      ).toString(),
    toSecuresystemslib: () => {
      const out = pub.toSecuresystemslib();
      let priv: string;
      if (type === 'ed25519') {
        const der = keyObject.export({ type: 'pkcs8', format: 'der' });
        priv = Buffer.from(der.subarray(der.length - 32)).toString('hex');
      } else if (type === 'rsa') {
        priv = keyObject.export({ type: 'pkcs1', format: 'pem' }).toString().trimEnd();
      } else {
        priv = keyObject.export({ type: 'sec1', format: 'pem' }).toString();
      }
      return { ...out, keyid: pub.keyid, keyval: { public: out.keyval.public, private: priv } };
    },
  };
}

export function generateKeyPair(type: KeyType, options: { rsaBits?: number } = {}): PrivateKey {
  let privateKey: KeyObject;
  switch (type) {
    case 'ed25519':
      ({ privateKey } = generateKeyPairSync('ed25519'));
      break;
    case 'ecdsa-p256':
      ({ privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
      break;
    case 'ecdsa-p384':
      ({ privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' }));
      break;
    case 'rsa': {
      const bits = options.rsaBits ?? 3072;
      if (bits < 3072) throw new InputError('KEY_UNSUPPORTED', `refusing to generate an RSA key shorter than 3072 bits (${bits})`);
      ({ privateKey } = generateKeyPairSync('rsa', { modulusLength: bits }));
      break;
    }
  }
  return makePrivateKey(privateKey);
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/**
 * The label of the first PEM block whose label passes `want`, when that block also has its END
 * line; undefined otherwise. Blocks before it are skipped: `openssl ecparam -genkey` writes an
 * EC PARAMETERS block before the EC PRIVATE KEY.
 */
function findPemLabel(text: string, want: (label: string) => boolean): string | undefined {
  // Not one regex with a lazy body and a back-reference: that is quadratic on hostile text.
  const begin = new RegExp(PEM_BEGIN);
  for (let m = begin.exec(text); m !== null; m = begin.exec(text)) {
    const label = m[1] ?? '';
    if (want(label)) return text.includes(`-----END ${label}-----`, begin.lastIndex) ? label : undefined;
  }
  return undefined;
}

/** Which PEM block the text holds (its first BEGIN line, with a matching END line), or undefined. */
export function pemLabel(text: string): string | undefined {
  return findPemLabel(text, () => true);
}

function nodeErrorCode(e: unknown): string {
  return (e as { code?: string }).code ?? '';
}

/** Loads a private key from PEM (PKCS#8, encrypted PKCS#8, PKCS#1 RSA or SEC1 EC). */
export function loadPrivateKeyPem(pem: string, passphrase?: string): PrivateKey {
  const label = findPemLabel(pem, (l) => l.includes('PRIVATE KEY'));
  if (label === undefined || !label.includes('PRIVATE KEY')) {
    throw new InputError('PEM_INVALID', 'not a PEM private key (expected a -----BEGIN ... PRIVATE KEY----- block)');
  }
  // Encrypted PKCS#8, or legacy OpenSSL encryption (RFC 1421 headers) as in-toto-keygen -p writes RSA keys.
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:[ \t]*4,[ \t]*ENCRYPTED[ \t]*\r?$/m.test(pem);
  if (encrypted && (passphrase === undefined || passphrase === '')) {
    throw new InputError('KEY_PASSPHRASE_REQUIRED', 'the private key is encrypted: give its passphrase');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch (e) {
    if (encrypted || /DECRYPT|bad decrypt/i.test(`${nodeErrorCode(e)} ${(e as Error).message}`)) {
      throw new InputError('KEY_PASSPHRASE_WRONG', 'cannot decrypt the private key: wrong passphrase', { cause: e });
    }
    throw new InputError('PEM_INVALID', 'the PEM private key is damaged or truncated', { cause: e });
  }
  return makePrivateKey(key);
}

/** Loads a public key from SPKI PEM (or derives it from a PEM private key without a passphrase). */
export function publicKeyFromPem(pem: string): PublicKey {
  const label = findPemLabel(pem, (l) => l.endsWith(' KEY'));
  if (label === undefined) throw new InputError('PEM_INVALID', 'not a PEM key (no -----BEGIN ...----- block)');
  if (label.includes('PRIVATE KEY')) return loadPrivateKeyPem(pem).publicKey;
  if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY') {
    throw new InputError('PEM_INVALID', `a PEM '${label}' block is not a public key`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new InputError('PEM_INVALID', 'the PEM public key is damaged or truncated', { cause: e });
  }
  return makePublicKey(key);
}

function objectField(value: unknown, field: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
}

function stringField(value: unknown, field: string, what: string): string {
  const v = objectField(value, field);
  if (typeof v !== 'string') throw new InputError('KEY_INVALID', `${what}: '${field}' must be a string`);
  return v;
}

const SCHEME_TYPES: Record<string, KeyType[]> = {
  ed25519: ['ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-p256'],
  'ecdsa-sha2-nistp384': ['ecdsa-p384'],
  'rsassa-pss-sha256': ['rsa'],
};

function parseSslib(json: unknown): { pub: PublicKey; privateValue: string | undefined } {
  const what = 'securesystemslib key';
  const keytype = stringField(json, 'keytype', what);
  const scheme = stringField(json, 'scheme', what);
  const keyval = objectField(json, 'keyval');
  const publicValue = stringField(keyval, 'public', `${what} keyval`);
  const privateRaw = objectField(keyval, 'private');
  const privateValue = typeof privateRaw === 'string' && privateRaw !== '' ? privateRaw : undefined;
  const hashAlgorithmsRaw = objectField(json, 'keyid_hash_algorithms');
  let hashAlgorithms = KEYID_HASH_ALGORITHMS;
  if (hashAlgorithmsRaw !== undefined) {
    if (!Array.isArray(hashAlgorithmsRaw) || !hashAlgorithmsRaw.every((a): a is string => typeof a === 'string')) {
      throw new InputError('KEY_INVALID', `${what}: keyid_hash_algorithms must be a list of strings`);
    }
    hashAlgorithms = hashAlgorithmsRaw;
  }
  // Own properties only: a scheme named 'toString' or '__proto__' is unknown, not Object.prototype's.
  const allowedTypes = Object.hasOwn(SCHEME_TYPES, scheme) ? SCHEME_TYPES[scheme] : undefined;
  if (allowedTypes === undefined) throw new InputError('KEY_UNSUPPORTED', `${what}: unsupported scheme '${scheme}'`);
  let keyObject: KeyObject;
  try {
    if (keytype === 'ed25519') {
      if (!/^[0-9a-f]{64}$/.test(publicValue)) throw new Error('ed25519 public key must be 64 lowercase hex');
      keyObject = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicValue, 'hex').toString('base64url') }, format: 'jwk' });
    } else if (keytype === 'rsa' || keytype === 'ecdsa' || keytype === 'ecdsa-sha2-nistp256' || keytype === 'ecdsa-sha2-nistp384') {
      keyObject = createPublicKey({ key: publicValue, format: 'pem' });
    } else {
      throw new InputError('KEY_UNSUPPORTED', `${what}: unsupported keytype '${keytype}'`);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('KEY_INVALID', `${what}: public key value is malformed (${(e as Error).message})`, { cause: e });
  }
  const pub = makePublicKey(keyObject, { keytype, scheme, public: publicValue, hashAlgorithms });
  if (!allowedTypes.includes(pub.type)) {
    throw new InputError('KEY_INVALID', `${what}: scheme '${scheme}' does not fit a ${pub.type} key`);
  }
  const declared = objectField(json, 'keyid');
  if (declared !== undefined && declared !== pub.keyid) {
    throw new InputError('KEY_INVALID', `${what}: declared keyid ${JSON.stringify(declared)} does not match the key (${pub.keyid})`);
  }
  return { pub, privateValue };
}

/** Reads a public key in securesystemslib JSON form. Private parts, if present, are ignored. */
export function publicKeyFromSecuresystemslib(json: unknown): PublicKey {
  return parseSslib(json).pub;
}

/** Reads a private key in securesystemslib JSON form (as in-toto-keygen -t ed25519|ecdsa writes). */
export function privateKeyFromSecuresystemslib(json: unknown): PrivateKey {
  const { pub, privateValue } = parseSslib(json);
  if (privateValue === undefined) throw new InputError('KEY_INVALID', 'securesystemslib key has no private part');
  let keyObject: KeyObject;
  try {
    if (pub.type === 'ed25519') {
      if (!/^[0-9a-f]{64}$/.test(privateValue)) throw new Error('ed25519 private seed must be 64 lowercase hex');
      const jwk = pub.keyObject.export({ format: 'jwk' });
      keyObject = createPrivateKey({ key: { ...jwk, d: Buffer.from(privateValue, 'hex').toString('base64url') }, format: 'jwk' });
    } else {
      keyObject = createPrivateKey({ key: privateValue, format: 'pem' });
    }
  } catch (e) {
    throw new InputError('KEY_INVALID', `securesystemslib private key value is malformed (${(e as Error).message})`, { cause: e });
  }
  const derived = makePublicKey(createPublicKey(keyObject));
  if (derived.pem !== pub.pem) throw new InputError('KEY_INVALID', 'securesystemslib key: private and public parts do not belong together');
  return makePrivateKey(keyObject, pub);
}

/** The first 8 hex characters of a key id, as in-toto uses them in link file names. */
export function shortKeyId(keyid: string): string {
  return keyid.slice(0, 8);
}
