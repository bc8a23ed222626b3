// The signing keys a server publishes (GET /v1/signing/keys: {keys: [{name, keyid, publicKeyPem,
// revokedAt?, …}]}) read back as trust material, so `custody verify-blob --keys-from` can verify a
// bundle without a separate --key file: the bundle names its key by key id (publicKey.hint), and
// only keys from this list verify it. Revoked keys are left out. Untrusted input: every field is
// checked, and each key id must be the one its PEM gives.
import { InputError, publicKeyFromPem, type PublicKey } from '../core/index.ts';

export interface SigningKeyList {
  /** The keys that may verify signatures. */
  readonly keys: PublicKey[];
  /** Names of the keys left out because they are revoked. */
  readonly revoked: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAX_KEYS = 1000;

export function parseSigningKeyList(json: unknown): SigningKeyList {
  const list = isRecord(json) ? json['keys'] : undefined;
  if (!Array.isArray(list)) throw new InputError('INPUT_INVALID', 'signing key list: expected {"keys": [...]} (GET /v1/signing/keys)');
  if (list.length > MAX_KEYS) throw new InputError('INPUT_INVALID', `signing key list: more than ${MAX_KEYS} keys`);
  const keys: PublicKey[] = [];
  const revoked: string[] = [];
  list.forEach((item, i) => {
    if (!isRecord(item)) throw new InputError('INPUT_INVALID', `signing key list: key ${i} is not an object`);
    const { name, keyid, publicKeyPem, revokedAt } = item;
    if (typeof name !== 'string' || typeof keyid !== 'string' || typeof publicKeyPem !== 'string') {
      throw new InputError('INPUT_INVALID', `signing key list: key ${i} needs string name, keyid and publicKeyPem`);
    }
    if (revokedAt !== undefined && typeof revokedAt !== 'string') throw new InputError('INPUT_INVALID', `signing key list: key ${i} has a non-string revokedAt`);
    // A public key only: a list that carries private material is refused, not mined for its public half.
    if (publicKeyPem.includes('PRIVATE KEY')) throw new InputError('KEY_INVALID', `signing key list: key ${i} is not a public key`);
    const key = publicKeyFromPem(publicKeyPem);
    if (key.keyid !== keyid) throw new InputError('KEY_INVALID', `signing key list: key ${i} ('${name.slice(0, 64)}') has key id ${keyid.slice(0, 64)}, but its PEM gives ${key.keyid}`);
    if (revokedAt !== undefined) revoked.push(name);
    else keys.push(key);
  });
  return { keys, revoked };
}
