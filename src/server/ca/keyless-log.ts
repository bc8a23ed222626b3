// Logging keyless signatures (Rekor v2's `POST /api/v2/log/entries` shape, hashedrekord v0.0.2):
// open to anyone, because the certificate is the credential. The entry is accepted only when its
// certificate was issued by this CA's intermediate, is valid now, and the signature over the
// digest verifies under the certificate's key. The answer is the bundle's tlogEntries[] item.
// DSSE envelopes (`dsseRequestV002`, dsse v0.0.2 entries) the same way, over the envelope's PAE.
import { X509Certificate, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { InputError, VerificationError, decodeBase64, pae, parseEnvelope } from '../../core/index.ts';
import { dsseBody, hashedRekordBody, type SigstoreTlogEntry } from '../../tlog/index.ts';
import type { TransparencyLog } from '../log-service.ts';
import { parseCertificate } from './x509.ts';

export interface HashedRekordRequestV002 {
  readonly digest: string;
  readonly signature: { readonly content: string; readonly verifier: { readonly x509Certificate?: { readonly rawBytes?: string }; readonly keyDetails?: string } };
}

// SHA-256 digests only: P-256 (sigstore pairs P-384 with SHA-384).
const KEY_DETAILS: Record<string, { curve: typeof p256; name: string }> = {
  prime256v1: { curve: p256, name: 'PKIX_ECDSA_P256_SHA_256' },
};

/** RFC 5280 §6.1.3: issued by our intermediate (name and signature), within its validity now, a P-256 key. */
function checkCertificate(certDer: Buffer, o: { intermediate: Buffer; now: () => Date }): { key: KeyObject; details: { curve: typeof p256; name: string } } {
  const leaf = parseCertificate(certDer);
  const issuer = new X509Certificate(o.intermediate);
  if (!leaf.checkIssued(issuer) || !leaf.verify(issuer.publicKey)) throw new VerificationError('KEY_UNKNOWN', 'the certificate was not issued by this CA');
  const now = o.now().getTime();
  if (now < Date.parse(leaf.validFrom) || now > Date.parse(leaf.validTo)) throw new VerificationError('EXPIRED', 'the certificate is not valid now');
  const key = leaf.publicKey;
  const details = key.asymmetricKeyType === 'ec' ? KEY_DETAILS[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (details === undefined) throw new InputError('KEY_UNSUPPORTED', 'keyless entries need an ECDSA P-256 certificate key');
  return { key, details };
}

/** Checks a keyless hashedrekord request against the CA and appends it. */
export async function logKeylessSignature(req: HashedRekordRequestV002, o: { intermediate: Buffer; log: TransparencyLog; now: () => Date }): Promise<SigstoreTlogEntry> {
  const digest = Buffer.from(req.digest, 'base64');
  const signature = Buffer.from(req.signature.content, 'base64');
  const certDer = Buffer.from(req.signature.verifier.x509Certificate?.rawBytes ?? '', 'base64');
  if (digest.length !== 32) throw new InputError('INPUT_INVALID', 'digest must be a base64 SHA-256 digest');
  if (signature.length === 0 || signature.length > 1024) throw new InputError('INPUT_INVALID', 'signature.content must be a base64 signature');
  const { key, details } = checkCertificate(certDer, o);
  if (req.signature.verifier.keyDetails !== undefined && req.signature.verifier.keyDetails !== details.name) {
    throw new InputError('INPUT_INVALID', `keyDetails must be ${details.name} for this certificate`);
  }
  const point = Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');
  const y = Buffer.from(key.export({ format: 'jwk' }).y ?? '', 'base64url');
  const verifies = (): boolean => {
    try {
      return details.curve.verify(signature, digest, Buffer.concat([Buffer.of(4), point, y]), { prehash: false, format: 'der', lowS: false });
    } catch {
      return false;
    }
  };
  if (!verifies()) throw new VerificationError('SIGNATURE_INVALID', 'the signature does not verify over the digest under the certificate key');
  const body = hashedRekordBody({ digest, signature, verifier: { certificateDer: certDer, keyDetails: details.name } });
  return (await o.log.append([body]))[0]!.tlogEntry;
}

export interface DsseRequestV002 {
  readonly envelope: unknown;
  readonly verifiers: readonly { readonly x509Certificate?: { readonly rawBytes?: string }; readonly keyDetails?: string }[];
}

/**
 * Rekor v2 `dsseRequestV002`: a DSSE envelope with one signature and its certificate verifier. The
 * signature must verify over the envelope's PAE under a certificate of this CA valid now; the entry
 * is a dsse v0.0.2 body (payload hash + signature + verifier), as sigstore verifiers expect.
 */
export async function logKeylessDsse(req: DsseRequestV002, o: { intermediate: Buffer; log: TransparencyLog; now: () => Date }): Promise<SigstoreTlogEntry> {
  const envelope = parseEnvelope(req.envelope);
  if (envelope.signatures.length !== 1 || req.verifiers.length !== 1) throw new InputError('INPUT_INVALID', 'a keyless dsse entry has exactly one signature and one verifier');
  const verifier = req.verifiers[0]!;
  const certDer = Buffer.from(verifier.x509Certificate?.rawBytes ?? '', 'base64');
  const { key, details } = checkCertificate(certDer, o);
  if (verifier.keyDetails !== undefined && verifier.keyDetails !== details.name) throw new InputError('INPUT_INVALID', `keyDetails must be ${details.name} for this certificate`);
  const payload = decodeBase64(envelope.payload, 'DSSE payload');
  const signature = decodeBase64(envelope.signatures[0]!.sig, 'DSSE signature');
  let ok: boolean;
  try {
    ok = cryptoVerify('sha256', pae(envelope.payloadType, payload), key, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new VerificationError('SIGNATURE_INVALID', 'the DSSE signature does not verify under the certificate key');
  const body = dsseBody({ payload, signatures: [{ signature, verifier: { certificateDer: certDer, keyDetails: details.name } }] });
  return (await o.log.append([body]))[0]!.tlogEntry;
}
