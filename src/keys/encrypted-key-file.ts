// The encrypted key file (docs/signing.md, "Encrypted key files"): a JSON document holding the
// PKCS#8 DER private key encrypted with AES-256-GCM under a key derived from a passphrase with
// scrypt. The public header (format, name, type, key id, public key, creation time) is the GCM
// additional data, so it cannot be swapped onto another key's ciphertext.
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import { InputError, canonicalJson, isKeyType, parseJson, publicKeyFromPem, type KeyType } from '../core/index.ts';

export const ENCRYPTED_KEY_FORMAT = 'https://custody.dev/encrypted-key/v1';

export interface ScryptParams {
  /** CPU/memory cost, a power of two (default 2^15: 32 MiB, ~0.1 s). */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 15, r: 8, p: 1 };

export interface EncryptedKeyFile {
  format: typeof ENCRYPTED_KEY_FORMAT;
  name: string;
  keyType: KeyType;
  keyid: string;
  publicKey: string;
  createdAt: string;
  /** Not authenticated: revocation only ever adds this field. */
  revokedAt?: string;
  kdf: { name: 'scrypt'; salt: string; N: number; r: number; p: number };
  cipher: { name: 'aes-256-gcm'; nonce: string; tag: string };
  ciphertext: string;
}

type Header = Pick<EncryptedKeyFile, 'format' | 'name' | 'keyType' | 'keyid' | 'publicKey' | 'createdAt'>;

function aad(h: Header): Buffer {
  return Buffer.from(
    canonicalJson({ format: h.format, name: h.name, keyType: h.keyType, keyid: h.keyid, publicKey: h.publicKey, createdAt: h.createdAt }),
  );
}

function deriveKey(passphrase: string, salt: Buffer, p: ScryptParams): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 16 * 1024 * 1024 });
}

export function encryptKey(
  header: Omit<Header, 'format'>,
  privateKey: KeyObject,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): EncryptedKeyFile {
  if (passphrase === '') throw new InputError('KEY_PASSPHRASE_REQUIRED', 'an encrypted key file needs a non-empty passphrase');
  const full: Header = { format: ENCRYPTED_KEY_FORMAT, ...header };
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt, params), nonce);
  cipher.setAAD(aad(full));
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const ciphertext = Buffer.concat([cipher.update(der), cipher.final()]);
  der.fill(0);
  return {
    ...full,
    kdf: { name: 'scrypt', salt: salt.toString('base64'), N: params.N, r: params.r, p: params.p },
    cipher: { name: 'aes-256-gcm', nonce: nonce.toString('base64'), tag: cipher.getAuthTag().toString('base64') },
    ciphertext: ciphertext.toString('base64'),
  };
}

function bad(message: string): never {
  throw new InputError('KEY_INVALID', `encrypted key file: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v === '') bad(`'${k}' must be a non-empty string`);
  return v;
}

function int(o: Record<string, unknown>, k: string, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) bad(`'${k}' must be an integer in 1..${max}`);
  return v;
}

/** Parses the file strictly (unknown members are refused). Does not decrypt. */
export function parseEncryptedKeyFile(text: string): EncryptedKeyFile {
  const doc = parseJson(text, 'encrypted key file');
  if (!isRecord(doc)) bad('not a JSON object');
  const known = ['format', 'name', 'keyType', 'keyid', 'publicKey', 'createdAt', 'revokedAt', 'kdf', 'cipher', 'ciphertext'];
  for (const k of Object.keys(doc)) if (!known.includes(k)) bad(`unknown member '${k}'`);
  if (doc['format'] !== ENCRYPTED_KEY_FORMAT) bad(`format must be ${ENCRYPTED_KEY_FORMAT}`);
  const keyType = str(doc, 'keyType');
  if (!isKeyType(keyType)) bad(`unknown keyType '${keyType}'`);
  const kdf = doc['kdf'];
  const cipher = doc['cipher'];
  if (!isRecord(kdf) || kdf['name'] !== 'scrypt') bad("kdf.name must be 'scrypt'");
  if (!isRecord(cipher) || cipher['name'] !== 'aes-256-gcm') bad("cipher.name must be 'aes-256-gcm'");
  const N = int(kdf, 'N', 1 << 22);
  if ((N & (N - 1)) !== 0 || N < 2) bad('kdf.N must be a power of two');
  const out: EncryptedKeyFile = {
    format: ENCRYPTED_KEY_FORMAT,
    name: str(doc, 'name'),
    keyType,
    keyid: str(doc, 'keyid'),
    publicKey: str(doc, 'publicKey'),
    createdAt: str(doc, 'createdAt'),
    kdf: { name: 'scrypt', salt: str(kdf, 'salt'), N, r: int(kdf, 'r', 32), p: int(kdf, 'p', 16) },
    cipher: { name: 'aes-256-gcm', nonce: str(cipher, 'nonce'), tag: str(cipher, 'tag') },
    ciphertext: str(doc, 'ciphertext'),
  };
  if (doc['revokedAt'] !== undefined) out.revokedAt = str(doc, 'revokedAt');
  const pub = publicKeyFromPem(out.publicKey);
  if (pub.keyid !== out.keyid || pub.type !== out.keyType) bad('the key id or type does not match the public key');
  return out;
}

/** Decrypts and checks that the private key belongs to the file's public key. */
export function decryptKey(file: EncryptedKeyFile, passphrase: string): KeyObject {
  const key = deriveKey(passphrase, Buffer.from(file.kdf.salt, 'base64'), file.kdf);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(file.cipher.nonce, 'base64'));
  decipher.setAAD(aad(file));
  decipher.setAuthTag(Buffer.from(file.cipher.tag, 'base64'));
  let der: Buffer;
  try {
    der = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64')), decipher.final()]);
  } catch (e) {
    // GCM cannot tell a wrong passphrase from tampering: both fail authentication.
    throw new InputError('KEY_PASSPHRASE_WRONG', `cannot decrypt key '${file.name}': wrong passphrase or modified file`, { cause: e });
  }
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  const pem = publicKeyFromPem(file.publicKey).keyObject.export({ type: 'spki', format: 'der' });
  const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(pem).equals(derived)) bad(`the private key of '${file.name}' does not match its public key`);
  return privateKey;
}
