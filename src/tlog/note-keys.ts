// C2SP signed-note keys in their text forms: signer keys `PRIVATE+KEY+<name>+<id>+<base64>` and
// verifier keys `<name>+<id>+<base64>`, where base64 covers (signature type byte ‖ key). Ed25519
// (type 0x01) note signatures, and Ed25519 tlog-cosignature/v1 witness keys (type 0x04).
import { createHash, randomBytes } from 'node:crypto';
import { InputError } from '../core/index.ts';
import { decodeBase64Strict, encodeBase64 } from './base64.ts';
import { cosignatureMessage, parseCosignature } from './cosignature.ts';
import { ED25519_KEY_SIZE, ed25519PrivateKey, ed25519PublicKey, ed25519RawPublicKey, ed25519Sign, ed25519Verify } from './ed25519.ts';

/** signed-note signature type bytes this module implements. */
export const SIGNATURE_TYPE_ED25519 = 0x01;
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

export type NoteKeyAlgorithm = 'ed25519' | 'cosignature/v1';

/** Checks signatures of one key over note text. `signature` excludes the 4-byte key ID. */
export interface NoteVerifier {
  readonly name: string;
  /** uint32 key ID: the first 4 bytes of every signature line's base64 payload. */
  readonly keyId: number;
  readonly algorithm?: NoteKeyAlgorithm;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** Signs note text. The result excludes the 4-byte key ID (signNote adds it). */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Promise<Uint8Array>;
}

/** A parsed signer key with its public half. */
export interface NoteKeyPair {
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  /** The verifier key text for `verifier`. */
  readonly verifierKey: string;
}

export interface CosignerOptions {
  /** Seconds since the epoch used as the cosignature timestamp; defaults to the clock. */
  readonly now?: () => number;
}

// signed-note: key names are non-empty and contain no Unicode spaces and no `+`. The class
// lists Go's unicode.IsSpace set (Zs, Zl, Zp, and the ASCII/Latin-1 spaces).
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && name.isWellFormed() && !SPACE.test(name) && !name.includes('+');
}

/** signed-note: key ID = SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4], big-endian. */
export function noteKeyId(name: string, signatureType: number, publicKey: Uint8Array): number {
  const digest = createHash('sha256').update(name, 'utf8').update(Uint8Array.of(0x0a, signatureType)).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

export function formatKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

function algorithmOf(type: number): NoteKeyAlgorithm | undefined {
  if (type === SIGNATURE_TYPE_ED25519) return 'ed25519';
  if (type === SIGNATURE_TYPE_COSIGNATURE_V1) return 'cosignature/v1';
  return undefined;
}

function typeOf(algorithm: NoteKeyAlgorithm): number {
  return algorithm === 'ed25519' ? SIGNATURE_TYPE_ED25519 : SIGNATURE_TYPE_COSIGNATURE_V1;
}

/** Splits at the first `+` like Go's note package: the base64 tail may itself contain `+`. */
function chop(text: string): [string, string] {
  const i = text.indexOf('+');
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}

interface KeyFields {
  name: string;
  keyId: number;
  type: number;
  key: Uint8Array;
}

function parseKeyFields(text: string, what: string): KeyFields {
  const [name, rest] = chop(text);
  const [hex, b64] = chop(rest);
  const data = decodeBase64Strict(b64);
  if (!isValidKeyName(name) || !/^[0-9a-fA-F]{8}$/.test(hex) || data === undefined || data.length < 2) {
    throw new InputError('KEY_INVALID', `malformed note ${what} key`);
  }
  return { name, keyId: Number.parseInt(hex, 16), type: data[0]!, key: data.subarray(1) };
}

function requireAlgorithm(fields: KeyFields, what: string): NoteKeyAlgorithm {
  const algorithm = algorithmOf(fields.type);
  if (algorithm === undefined) {
    throw new InputError('KEY_UNSUPPORTED', `note ${what} key type 0x${fields.type.toString(16).padStart(2, '0')} is not supported`);
  }
  if (fields.key.length !== ED25519_KEY_SIZE) throw new InputError('KEY_INVALID', `note ${what} key has the wrong length`);
  return algorithm;
}

/** A verifier from a raw Ed25519 public key. */
export function noteVerifierFromPublicKey(name: string, publicKey: Uint8Array, algorithm: NoteKeyAlgorithm = 'ed25519'): NoteVerifier {
  if (!isValidKeyName(name)) throw new InputError('KEY_INVALID', `invalid note key name ${JSON.stringify(name)}`);
  if (publicKey.length !== ED25519_KEY_SIZE) throw new InputError('KEY_INVALID', 'Ed25519 public keys are 32 bytes');
  const key = ed25519PublicKey(publicKey);
  const keyId = noteKeyId(name, typeOf(algorithm), publicKey);
  if (algorithm === 'ed25519') {
    return { name, keyId, algorithm, verify: (text, signature) => ed25519Verify(key, text, signature) };
  }
  return {
    name,
    keyId,
    algorithm,
    // tlog-cosignature: the signature is timestamp (u64) ‖ Ed25519 over the cosigned message.
    verify: (text, signature) => {
      const parsed = parseCosignature(signature);
      return parsed !== undefined && ed25519Verify(key, cosignatureMessage(text, parsed.timestamp), parsed.signature);
    },
  };
}

/** The verifier key text `<name>+<id>+base64(type ‖ public key)`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array, algorithm: NoteKeyAlgorithm = 'ed25519'): string {
  const verifier = noteVerifierFromPublicKey(name, publicKey, algorithm);
  return `${name}+${formatKeyId(verifier.keyId)}+${encodeBase64(Uint8Array.of(typeOf(algorithm), ...publicKey))}`;
}

/** Parses a verifier key; the key ID must match the one computed from name and key. */
export function parseVerifierKey(text: string): NoteVerifier {
  const fields = parseKeyFields(text, 'verifier');
  const algorithm = requireAlgorithm(fields, 'verifier');
  const verifier = noteVerifierFromPublicKey(fields.name, fields.key, algorithm);
  if (verifier.keyId !== fields.keyId) throw new InputError('KEY_INVALID', 'note verifier key ID does not match its key');
  return verifier;
}

/**
 * Parses a witness's verifier key for tlog-cosignature/v1: a type 0x04 key, or (as
 * transparency-dev/formats accepts) a plain Ed25519 type 0x01 key, whose key ID is then
 * recomputed with type 0x04.
 */
export function parseCosignatureVerifierKey(text: string): NoteVerifier {
  const fields = parseKeyFields(text, 'verifier');
  requireAlgorithm(fields, 'verifier'); // 0x01 or 0x04, 32 bytes
  if (noteKeyId(fields.name, fields.type, fields.key) !== fields.keyId) {
    throw new InputError('KEY_INVALID', 'note verifier key ID does not match its key');
  }
  return noteVerifierFromPublicKey(fields.name, fields.key, 'cosignature/v1');
}

/**
 * Parses a signer key `PRIVATE+KEY+<name>+<id>+base64(type ‖ seed)`. The key ID is the public
 * key's and must match. Type 0x04 keys make tlog-cosignature/v1 cosigners.
 */
export function parseSignerKey(text: string, options: CosignerOptions = {}): NoteKeyPair {
  const prefix = 'PRIVATE+KEY+';
  if (!text.startsWith(prefix)) throw new InputError('KEY_INVALID', 'malformed note signer key');
  const fields = parseKeyFields(text.slice(prefix.length), 'signer');
  const algorithm = requireAlgorithm(fields, 'signer');
  const privateKey = ed25519PrivateKey(fields.key);
  const publicKey = ed25519RawPublicKey(privateKey);
  const verifier = noteVerifierFromPublicKey(fields.name, publicKey, algorithm);
  if (verifier.keyId !== fields.keyId) throw new InputError('KEY_INVALID', 'note signer key ID does not match its key');
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const signer: NoteSigner = {
    name: fields.name,
    keyId: fields.keyId,
    sign:
      algorithm === 'ed25519'
        ? (msg) => Promise.resolve(ed25519Sign(privateKey, msg))
        : (msg) => {
            const timestamp = now();
            const ts = Buffer.alloc(8);
            ts.writeBigUInt64BE(BigInt(timestamp));
            return Promise.resolve(Uint8Array.of(...ts, ...ed25519Sign(privateKey, cosignatureMessage(msg, timestamp))));
          },
  };
  return { signer, verifier, verifierKey: formatVerifierKey(fields.name, publicKey, algorithm) };
}

/** Generates a note key pair: the signer key text and the verifier key text. */
export function generateNoteKey(name: string, algorithm: NoteKeyAlgorithm = 'ed25519'): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) throw new InputError('KEY_INVALID', `invalid note key name ${JSON.stringify(name)}`);
  const seed = randomBytes(ED25519_KEY_SIZE);
  const publicKey = ed25519RawPublicKey(ed25519PrivateKey(seed));
  const verifierKey = formatVerifierKey(name, publicKey, algorithm);
  const keyId = verifierKey.split('+')[1]!;
  const signerKey = `PRIVATE+KEY+${name}+${keyId}+${encodeBase64(Uint8Array.of(typeOf(algorithm), ...seed))}`;
  return { signerKey, verifierKey };
}
