// OpenSSH public keys: the authorized_keys line form ("ssh-ed25519 AAAA... comment") and the wire
// blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4), turned into node KeyObjects; SSH signature
// blobs verified under them (RFC 8332 rsa-sha2-*, RFC 5656 §3.1.2 ecdsa, RFC 8709 §6 ed25519).
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { InputError, publicKeyFromPem, type PublicKey } from '../core/index.ts';
import { SshReader, sshMpint, sshString } from './ssh-wire.ts';

export const SSH_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];

export interface SshPublicKey {
  readonly type: SshKeyType;
  /** The wire blob; equality of blobs is equality of keys. */
  readonly blob: Uint8Array;
  readonly keyObject: KeyObject;
  /** "SHA256:<unpadded base64>", as ssh-keygen -l prints. */
  readonly fingerprint: string;
  readonly comment: string;
}

const CURVES: Record<string, { crv: string; size: number; hash: string }> = {
  nistp256: { crv: 'P-256', size: 32, hash: 'sha256' },
  nistp384: { crv: 'P-384', size: 48, hash: 'sha384' },
  nistp521: { crv: 'P-521', size: 66, hash: 'sha512' },
};

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export function isSshKeyType(name: string): name is SshKeyType {
  return (SSH_KEY_TYPES as readonly string[]).includes(name);
}

export function sshFingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function keyObjectFromBlob(type: SshKeyType, r: SshReader): KeyObject {
  switch (type) {
    case 'ssh-ed25519': {
      const pk = r.string();
      if (pk.length !== 32) throw new InputError('KEY_INVALID', 'ssh-ed25519 key: public key must be 32 bytes');
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) }, format: 'jwk' });
    }
    case 'ssh-rsa': {
      const e = r.mpint();
      const n = r.mpint();
      if (n.length * 8 < 2048) throw new InputError('KEY_UNSUPPORTED', `ssh-rsa key of ${n.length * 8} bits: at least 2048 required`);
      return createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
    }
    default: {
      const curveName = r.text();
      const curve = CURVES[curveName];
      if (curve === undefined || `ecdsa-sha2-${curveName}` !== type) throw new InputError('KEY_INVALID', `${type} key names curve '${curveName}'`);
      const q = r.string();
      // RFC 5656 §3.1: Q is an uncompressed SEC1 point.
      if (q.length !== 1 + 2 * curve.size || q[0] !== 4) throw new InputError('KEY_INVALID', `${type} key: malformed point`);
      const x = q.subarray(1, 1 + curve.size);
      const y = q.subarray(1 + curve.size);
      try {
        return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: b64url(x), y: b64url(y) }, format: 'jwk' });
      } catch (e) {
        throw new InputError('KEY_INVALID', `${type} key: point not on the curve`, { cause: e });
      }
    }
  }
}

// Signatures of one history come from a handful of keys: parse each blob once.
const blobCache = new Map<string, SshPublicKey>();
const BLOB_CACHE_MAX = 1024;

/** Parses an SSH public key wire blob. */
export function parseSshPublicKeyBlob(blob: Uint8Array, comment = ''): SshPublicKey {
  const cacheKey = comment === '' ? Buffer.from(blob).toString('base64') : undefined;
  const cached = cacheKey === undefined ? undefined : blobCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const key = parseBlob(blob, comment);
  if (cacheKey !== undefined) {
    if (blobCache.size >= BLOB_CACHE_MAX) blobCache.clear();
    blobCache.set(cacheKey, key);
  }
  return key;
}

function parseBlob(blob: Uint8Array, comment: string): SshPublicKey {
  const r = new SshReader(blob, 'SSH public key');
  const type = r.text();
  if (!isSshKeyType(type)) throw new InputError('KEY_UNSUPPORTED', `SSH key type '${type}' is not supported (${SSH_KEY_TYPES.join(', ')})`);
  let keyObject: KeyObject;
  try {
    keyObject = keyObjectFromBlob(type, r);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('KEY_INVALID', `${type} key cannot be loaded`, { cause: e });
  }
  r.end();
  return { type, blob: Uint8Array.from(blob), keyObject, fingerprint: sshFingerprint(blob), comment };
}

/** Parses "TYPE BASE64 [COMMENT]" (authorized_keys form without options). */
export function parseSshPublicKeyLine(line: string): SshPublicKey {
  const parts = line.trim().split(/\s+/);
  const [type, data] = parts;
  if (type === undefined || data === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
    throw new InputError('KEY_INVALID', 'not an OpenSSH public key line ("ssh-ed25519 AAAA... comment")');
  }
  const key = parseSshPublicKeyBlob(Buffer.from(data, 'base64'), parts.slice(2).join(' '));
  if (key.type !== type) throw new InputError('KEY_INVALID', `OpenSSH key line says '${type}' but the blob holds '${key.type}'`);
  return key;
}

export function sshPublicKeyLine(key: SshPublicKey): string {
  return `${key.type} ${Buffer.from(key.blob).toString('base64')}${key.comment === '' ? '' : ` ${key.comment}`}`;
}

/** The same key as a custody PublicKey (for DSSE), when its type is one custody signs with. */
export function sshKeyAsPublicKey(key: SshPublicKey): PublicKey | undefined {
  if (key.type === 'ecdsa-sha2-nistp521') return undefined;
  return publicKeyFromPem(key.keyObject.export({ type: 'spki', format: 'pem' }).toString());
}

/** An SSH ecdsa signature (mpint r, mpint s) → IEEE P1363 r‖s. */
function ecdsaP1363(sig: Uint8Array, size: number): Uint8Array | undefined {
  const r = new SshReader(sig, 'ecdsa signature');
  const rr = r.mpint();
  const ss = r.mpint();
  r.end();
  if (rr.length > size || ss.length > size) return undefined;
  const out = Buffer.alloc(2 * size);
  out.set(rr, size - rr.length);
  out.set(ss, 2 * size - ss.length);
  return out;
}

/**
 * Verifies an SSH signature blob (string algorithm, string signature) over data. Returns false for
 * any bad or mismatched signature; never throws for one.
 */
export function verifySshSignatureBlob(key: SshPublicKey, data: Uint8Array, signatureBlob: Uint8Array): boolean {
  try {
    const r = new SshReader(signatureBlob, 'SSH signature');
    const algorithm = r.text();
    const sig = r.string();
    r.end();
    if (key.type === 'ssh-ed25519') return algorithm === 'ssh-ed25519' && sig.length === 64 && cryptoVerify(null, data, key.keyObject, sig);
    if (key.type === 'ssh-rsa') {
      // RFC 8332 §3; SSHSIG (PROTOCOL.sshsig) forbids SHA-1 "ssh-rsa" signatures.
      const hash = algorithm === 'rsa-sha2-256' ? 'sha256' : algorithm === 'rsa-sha2-512' ? 'sha512' : undefined;
      return hash !== undefined && cryptoVerify(hash, data, key.keyObject, sig);
    }
    if (algorithm !== key.type) return false;
    const curve = CURVES[key.type.slice('ecdsa-sha2-'.length)];
    if (curve === undefined) return false;
    const p1363 = ecdsaP1363(sig, curve.size);
    return p1363 !== undefined && cryptoVerify(curve.hash, data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, p1363);
  } catch {
    return false;
  }
}

/** Encodes a raw signature as an SSH signature blob (used when custody signs SSHSIG itself). */
export function sshSignatureBlob(algorithm: string, signature: Uint8Array, ecdsaSize?: number): Uint8Array {
  if (ecdsaSize !== undefined) {
    const r = signature.subarray(0, ecdsaSize);
    const s = signature.subarray(ecdsaSize);
    return Buffer.concat([sshString(algorithm), sshString(Buffer.concat([sshMpint(r), sshMpint(s)]))]);
  }
  return Buffer.concat([sshString(algorithm), sshString(signature)]);
}
