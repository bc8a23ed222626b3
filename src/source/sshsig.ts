// SSHSIG (OpenSSH PROTOCOL.sshsig): the armored signature git writes for commits and tags with
// gpg.format=ssh ("ssh-keygen -Y sign -n git"). Parsed, verified and (for tests and benchmarks)
// produced in-process.
import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { InputError } from '../core/index.ts';
import { parseSshPublicKeyBlob, sshSignatureBlob, verifySshSignatureBlob, type SshPublicKey } from './ssh-public-key.ts';
import { SshReader, sshString, sshUint32 } from './ssh-wire.ts';

const MAGIC = Buffer.from('SSHSIG');
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
export const SSHSIG_HASHES = ['sha256', 'sha512'] as const;
export type SshsigHash = (typeof SSHSIG_HASHES)[number];

export interface Sshsig {
  readonly publicKey: SshPublicKey;
  readonly namespace: string;
  readonly hashAlgorithm: SshsigHash;
  /** The inner SSH signature blob (string algorithm, string signature). */
  readonly signature: Uint8Array;
}

export function isArmoredSshsig(text: string): boolean {
  return text.trimStart().startsWith(BEGIN);
}

/** PROTOCOL.sshsig §"Armored format": base64 between the BEGIN and END lines. */
export function dearmorSshsig(text: string): Uint8Array {
  const trimmed = text.trim();
  if (!trimmed.startsWith(BEGIN) || !trimmed.endsWith(END)) throw new InputError('INPUT_INVALID', 'not an armored SSH signature');
  const body = trimmed.slice(BEGIN.length, trimmed.length - END.length).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new InputError('INPUT_INVALID', 'SSH signature: invalid base64');
  return Buffer.from(body, 'base64');
}

export function armorSshsig(blob: Uint8Array): string {
  const b64 = Buffer.from(blob).toString('base64');
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/** PROTOCOL.sshsig §"Blob format": MAGIC, version 1, publickey, namespace, reserved, hash, signature. */
export function parseSshsig(bytes: Uint8Array): Sshsig {
  const r = new SshReader(bytes, 'SSH signature');
  if (!Buffer.from(r.raw(6)).equals(MAGIC)) throw new InputError('INPUT_INVALID', 'SSH signature: bad magic preamble');
  const version = r.uint32();
  if (version !== 1) throw new InputError('INPUT_INVALID', `SSH signature: unsupported version ${version}`);
  const publicKey = parseSshPublicKeyBlob(r.string());
  const namespace = r.text();
  r.string(); // reserved: ignored by verifiers, as ssh-keygen does
  const hash = r.text();
  const signature = r.string();
  r.end();
  if (!(SSHSIG_HASHES as readonly string[]).includes(hash)) throw new InputError('INPUT_INVALID', `SSH signature: hash algorithm '${hash}' not allowed`);
  if (namespace === '') throw new InputError('INPUT_INVALID', 'SSH signature: empty namespace');
  return { publicKey, namespace, hashAlgorithm: hash as SshsigHash, signature: Uint8Array.from(signature) };
}

/** PROTOCOL.sshsig §"Signed Data": MAGIC, namespace, reserved (empty), hash algorithm, H(message). */
export function sshsigSignedData(namespace: string, hash: SshsigHash, message: Uint8Array): Uint8Array {
  const h = createHash(hash).update(message).digest();
  return Buffer.concat([MAGIC, sshString(namespace), sshString(''), sshString(hash), sshString(h)]);
}

export type SshsigCheck = { ok: true } | { ok: false; reason: 'NAMESPACE_MISMATCH' | 'SIGNATURE_INVALID' };

/**
 * Verifies a parsed SSHSIG over a message, with the key embedded in the signature. Whether that key
 * is trusted is the caller's decision (git does the same: -Y find-principals, then -Y verify).
 */
export function verifySshsig(sig: Sshsig, message: Uint8Array, namespace: string): SshsigCheck {
  // "Verifiers MUST reject signatures with namespaces that do not match that being verified."
  if (sig.namespace !== namespace) return { ok: false, reason: 'NAMESPACE_MISMATCH' };
  const data = sshsigSignedData(sig.namespace, sig.hashAlgorithm, message);
  return verifySshSignatureBlob(sig.publicKey, data, sig.signature) ? { ok: true } : { ok: false, reason: 'SIGNATURE_INVALID' };
}

/** Produces an armored SSHSIG with a node private key (ed25519 or ecdsa P-256/P-384). */
export function signSshsig(privateKey: KeyObject, publicKey: SshPublicKey, message: Uint8Array, namespace: string, hash: SshsigHash = 'sha512'): string {
  const data = sshsigSignedData(namespace, hash, message);
  let inner: Uint8Array;
  if (publicKey.type === 'ssh-ed25519') inner = sshSignatureBlob('ssh-ed25519', cryptoSign(null, data, privateKey));
  else if (publicKey.type === 'ecdsa-sha2-nistp256') inner = sshSignatureBlob(publicKey.type, cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }), 32);
  else if (publicKey.type === 'ecdsa-sha2-nistp384') inner = sshSignatureBlob(publicKey.type, cryptoSign('sha384', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }), 48);
  else if (publicKey.type === 'ssh-rsa') inner = sshSignatureBlob('rsa-sha2-512', cryptoSign('sha512', data, privateKey));
  else throw new InputError('KEY_UNSUPPORTED', `cannot sign SSHSIG with ${publicKey.type}`);
  const blob = Buffer.concat([MAGIC, sshUint32(1), sshString(publicKey.blob), sshString(namespace), sshString(''), sshString(hash), sshString(inner)]);
  return armorSshsig(blob);
}
