// The certificate authority (Fulcio API v2 shape): an ID token, a public key and a proof of
// possession in; a leaf certificate valid at most 10 minutes out, its identity in the SAN, the
// Sigstore issuer and CI extensions, chained to the intermediate (held by the key backend) and the
// offline root. Every issued certificate is appended to the transparency log before it is returned.
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { InputError, jcsBytes } from '../../core/index.ts';
import { ApiError } from '../errors.ts';
import type { TransparencyLog } from '../log-service.ts';
import type { IdentityTokenVerifier } from './identity-token.ts';
import { buildCertificate, ciExtensions, issuerExtensions, keyIdentifier, spkiOf, subjectName, toPem, type CertSigner } from './x509.ts';
import { Name } from '@peculiar/asn1-x509';

export interface SigningCertRequest {
  readonly token: string;
  /** PEM SubjectPublicKeyInfo (Fulcio's publicKey.content; base64 DER is accepted too). */
  readonly publicKey: string;
  /** Fulcio's PublicKeyAlgorithm name, when given: it must match the key. */
  readonly algorithm?: string;
  /** base64 signature over the challenge (the identity token's email or subject). */
  readonly proofOfPossession: string;
}

export interface IssuedCertificate {
  /** Leaf, intermediate, root (DER). */
  readonly chain: Buffer[];
  readonly identity: string;
  readonly issuer: string;
  readonly notAfter: Date;
  readonly logIndex: number | undefined;
}

export interface CertificateAuthorityOptions {
  readonly root: Buffer;
  readonly intermediate: Buffer;
  readonly signer: CertSigner;
  readonly verifier: IdentityTokenVerifier;
  readonly validitySeconds: number;
  readonly log: TransparencyLog | undefined;
  readonly now: () => Date;
}

/** The log entry of an issued certificate: JCS JSON, kind custody-certificate. */
export function certificateLogEntry(der: Uint8Array, identity: string, issuer: string): Uint8Array {
  return jcsBytes({ apiVersion: '0.0.1', kind: 'custody-certificate', spec: { certificate: { rawBytes: Buffer.from(der).toString('base64') }, identity, issuer } });
}

function parseKey(text: string): KeyObject {
  try {
    if (text.includes('-----BEGIN')) return createPublicKey(text);
    return createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new InputError('KEY_INVALID', 'publicKey.content is not a PEM or DER public key');
  }
}

const ALGORITHMS: Record<string, (k: KeyObject) => boolean> = {
  ECDSA: (k) => k.asymmetricKeyType === 'ec',
  ED25519: (k) => k.asymmetricKeyType === 'ed25519',
  RSA_PSS: (k) => k.asymmetricKeyType === 'rsa',
};

/** Fulcio's CheckSignature: ECDSA with the curve's hash (P-256 SHA-256, P-384 SHA-384), Ed25519, RSA PKCS#1 v1.5 SHA-256. */
function signs(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    if (key.asymmetricKeyType === 'ed25519') return cryptoVerify(null, data, key, sig);
    if (key.asymmetricKeyType === 'ec') return cryptoVerify(key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256', data, key, sig);
    if (key.asymmetricKeyType === 'rsa') return cryptoVerify('sha256', data, key, sig);
  } catch {
    return false;
  }
  return false;
}

function checkProof(key: KeyObject, challenges: readonly string[], proof: string): void {
  const sig = Buffer.from(proof, 'base64');
  if (!challenges.some((c) => signs(key, Buffer.from(c, 'utf8'), sig))) throw new ApiError(400, 'PROOF_OF_POSSESSION_FAILED', 'the proof of possession is not a signature over the token subject by this public key');
}

function checkKeyStrength(key: KeyObject): void {
  const t = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const ok = t === 'ed25519' || (t === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1' || curve === 'secp521r1')) || (t === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048);
  if (!ok) throw new InputError('KEY_INVALID', 'the public key must be ECDSA P-256/P-384/P-521, Ed25519 or RSA of at least 2048 bits');
}

export class CertificateAuthority {
  readonly #o: CertificateAuthorityOptions;
  readonly #issuerName: Name;
  readonly #issuerKeyId: Buffer;

  constructor(options: CertificateAuthorityOptions) {
    this.#o = options;
    this.#issuerName = subjectName(options.intermediate);
    this.#issuerKeyId = keyIdentifier(spkiOf(options.intermediate));
  }

  get chain(): Buffer[] {
    return [this.#o.intermediate, this.#o.root];
  }

  async issue(req: SigningCertRequest): Promise<IssuedCertificate> {
    // 1. Who: the ID token (issuer, audience, expiry, signature, algorithm).
    const identity = await this.#o.verifier.verify(req.token);
    // 2. Which key: parsed, strong enough, matching the declared algorithm, and held by the caller.
    const key = parseKey(req.publicKey);
    checkKeyStrength(key);
    if (req.algorithm !== undefined && req.algorithm !== 'PUBLIC_KEY_ALGORITHM_UNSPECIFIED' && ALGORITHMS[req.algorithm]?.(key) !== true) {
      throw new InputError('KEY_INVALID', `publicKey.algorithm ${req.algorithm.slice(0, 40)} does not match the key`);
    }
    checkProof(key, identity.challenges, req.proofOfPossession);
    // 3. The leaf: no subject, the identity in a critical SAN, valid from now for at most 10 minutes.
    const now = this.#o.now();
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + this.#o.validitySeconds * 1000);
    const leaf = await buildCertificate(
      {
        subject: new Name([]),
        issuer: this.#issuerName,
        notBefore,
        notAfter,
        spkiDer: key.export({ type: 'spki', format: 'der' }),
        issuerKeyId: this.#issuerKeyId,
        eku: 'codeSigning',
        san: identity.san,
        extra: [...issuerExtensions(identity.issuer), ...ciExtensions(identity.ci)],
      },
      this.#o.signer,
    );
    const name = 'email' in identity.san ? identity.san.email : identity.san.uri;
    // 4. Logged before it is handed out: a certificate nobody can find in the log was never issued.
    const logged = this.#o.log === undefined ? undefined : (await this.#o.log.append([certificateLogEntry(leaf, name, identity.issuer)]))[0];
    return { chain: [leaf, this.#o.intermediate, this.#o.root], identity: name, issuer: identity.issuer, notAfter, logIndex: logged?.index };
  }
}

/** Fulcio v2's response shape (no SCT: this CA has no certificate-transparency log). */
export function signingCertResponse(issued: IssuedCertificate): Record<string, unknown> {
  return {
    signedCertificateEmbeddedSct: { chain: { certificates: issued.chain.map(toPem) } },
    ...(issued.logIndex === undefined ? {} : { logIndex: issued.logIndex }),
  };
}
