// The revocation list the signing service publishes (GET /v1/revocations) and verify-blob reads:
// revoked keys and individually revoked signatures (sign-then-verify failures).
import { InputError } from '../core/index.ts';

export const REVOCATION_LIST_TYPE = 'https://custody.dev/revocations/v1';

export interface RevokedKey {
  name: string;
  keyid: string;
  revokedAt: string;
}

export interface RevokedSignature {
  /** SHA-256 hex of the signature bytes. */
  signatureDigest: string;
  keyid: string;
  /** The signed artifact digest (sha256 hex). */
  artifactDigest: string;
  artifactName: string;
  logIndex?: number;
  revokedAt: string;
  reason: string;
}

export interface RevocationList {
  _type: typeof REVOCATION_LIST_TYPE;
  generatedAt: string;
  keys: RevokedKey[];
  signatures: RevokedSignature[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const str = (o: Record<string, unknown>, k: string): string => {
  const v = o[k];
  if (typeof v !== 'string') throw new InputError('INPUT_INVALID', `revocation list: '${k}' must be a string`);
  return v;
};

export function parseRevocationList(json: unknown): RevocationList {
  if (!isRecord(json) || json['_type'] !== REVOCATION_LIST_TYPE) throw new InputError('INPUT_INVALID', `revocation list: _type must be ${REVOCATION_LIST_TYPE}`);
  const keys = json['keys'];
  const sigs = json['signatures'];
  if (!Array.isArray(keys) || !Array.isArray(sigs)) throw new InputError('INPUT_INVALID', 'revocation list: keys and signatures must be lists');
  return {
    _type: REVOCATION_LIST_TYPE,
    generatedAt: str(json, 'generatedAt'),
    keys: keys.map((k) => {
      if (!isRecord(k)) throw new InputError('INPUT_INVALID', 'revocation list: a key entry must be an object');
      return { name: str(k, 'name'), keyid: str(k, 'keyid'), revokedAt: str(k, 'revokedAt') };
    }),
    signatures: sigs.map((s) => {
      if (!isRecord(s)) throw new InputError('INPUT_INVALID', 'revocation list: a signature entry must be an object');
      const out: RevokedSignature = {
        signatureDigest: str(s, 'signatureDigest'),
        keyid: str(s, 'keyid'),
        artifactDigest: str(s, 'artifactDigest'),
        artifactName: str(s, 'artifactName'),
        revokedAt: str(s, 'revokedAt'),
        reason: str(s, 'reason'),
      };
      if (typeof s['logIndex'] === 'number') out.logIndex = s['logIndex'];
      return out;
    }),
  };
}
