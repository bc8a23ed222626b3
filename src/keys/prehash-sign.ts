// Signing a pre-computed digest with an in-memory key, for file keys (node:crypto always hashes the
// message itself). The result verifies exactly like a signature over the original message.
//   ECDSA (FIPS 186-5 §6.4.1): @noble/curves (audited; RFC 6979 nonces hedged with fresh
//     randomness), over the digest as given (prehash off), DER output, high-S allowed as
//     OpenSSL produces it. JavaScript gives no constant-time guarantee: keys that need
//     side-channel resistance belong in an HSM (the PKCS#11 backend).
//   RSASSA-PSS (RFC 8017 §9.1.1 EMSA-PSS-ENCODE, MGF1-SHA-256, salt 32) then the raw RSA private
//     operation by OpenSSL (RSA_NO_PADDING, blinded).
import { constants, createHash, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { InputError, type KeyType } from '../core/index.ts';
import type { DigestHash } from './key-backend.ts';

const CURVES = { 'ecdsa-p256': p256, 'ecdsa-p384': p384 } as const;

const HASH_SIZES: Record<DigestHash, number> = { sha256: 32, sha384: 48 };

export function checkDigest(digest: Uint8Array, hash: DigestHash): void {
  if (digest.length !== HASH_SIZES[hash]) {
    throw new InputError('INPUT_INVALID', `a ${hash} digest is ${HASH_SIZES[hash]} bytes, got ${digest.length}`);
  }
}

function ecdsaSignDigest(type: 'ecdsa-p256' | 'ecdsa-p384', d: Uint8Array, digest: Uint8Array): Uint8Array {
  // bits2int of the digest happens inside (SEC 1 §4.1.3 step 5); extraEntropy hedges the RFC 6979 nonce.
  return CURVES[type].sign(digest, d, { prehash: false, lowS: false, format: 'der', extraEntropy: true });
}

function mgf1(seed: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * 32 < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash('sha256').update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

function rsaPssSignDigest(key: KeyObject, mHash: Uint8Array): Uint8Array {
  const modBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const k = Math.ceil(modBits / 8);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = 32;
  const sLen = 32;
  const salt = randomBytes(sLen);
  const h = createHash('sha256').update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.of(0x01), salt]);
  const mask = mgf1(h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([Buffer.alloc(k - emLen), db, h, Buffer.of(0xbc)]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);
}

/** A function signing digests with an in-memory private key (DER for ECDSA); the scalar is read once. */
export function digestSignerFor(type: KeyType, key: KeyObject): (digest: Uint8Array, hash: DigestHash) => Uint8Array {
  switch (type) {
    case 'ecdsa-p256':
    case 'ecdsa-p384': {
      const d = new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).d ?? '', 'base64url'));
      return (digest, hash) => {
        checkDigest(digest, hash);
        return ecdsaSignDigest(type, d, digest);
      };
    }
    case 'rsa':
      return (digest, hash) => {
        checkDigest(digest, hash);
        if (hash !== 'sha256') throw new InputError('KEY_UNSUPPORTED', 'RSA keys sign sha256 digests only (rsassa-pss-sha256)');
        return rsaPssSignDigest(key, digest);
      };
    case 'ed25519':
      return () => {
        throw new InputError('KEY_UNSUPPORTED', 'Ed25519 cannot sign a pre-computed digest: use a DSSE statement instead');
      };
  }
}
