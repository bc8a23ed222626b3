// A custody Signer backed by an OpenSSH private key (ed25519 or ecdsa), so the key a developer signs
// commits with can also sign reviews and log entries (DSSE, custody's signature schemes).
import { publicKeyFromPem, type Signer } from '../core/index.ts';
import { sign as cryptoSign } from 'node:crypto';
import type { OpenSshPrivateKey } from './openssh-private-key.ts';

export function sshSigner(key: OpenSshPrivateKey): Signer {
  const publicKey = publicKeyFromPem(key.keyObject.export({ type: 'pkcs8', format: 'pem' }).toString());
  const hash = publicKey.type === 'ecdsa-p384' ? 'sha384' : publicKey.type === 'ecdsa-p256' ? 'sha256' : null;
  return {
    keyid: publicKey.keyid,
    publicKey,
    // The schemes verifySignature expects: raw ed25519, DER ecdsa.
    sign: (data: Uint8Array) => Promise.resolve(cryptoSign(hash, data, hash === null ? key.keyObject : { key: key.keyObject, dsaEncoding: 'der' })),
  };
}
