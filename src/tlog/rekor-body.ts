// Log entry bodies in Rekor v2's shapes (rekor-tiles `Entry`: hashedrekord v0.0.2 and dsse v0.0.2),
// so a custody log entry inside a Sigstore bundle verifies with sigstore-js. Pure.
import { createHash } from 'node:crypto';
import { InputError, jcsBytes } from '../core/index.ts';

/**
 * How the verifier key is given in a Rekor v2 entry (sigstore protobuf-specs `Verifier`): a DER
 * SubjectPublicKeyInfo or a DER X.509 certificate, and its `PublicKeyDetails` name, e.g.
 * `PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`, `PKIX_RSA_PKCS1V15_2048_SHA256`.
 */
export type RekorVerifier =
  | { readonly publicKeyDer: Uint8Array; readonly keyDetails: string }
  | { readonly certificateDer: Uint8Array; readonly keyDetails: string };

export interface HashedRekordInput {
  /** SHA-256 of the signed artifact. */
  readonly digest: Uint8Array;
  /** The signature over the artifact. */
  readonly signature: Uint8Array;
  readonly verifier: RekorVerifier;
}

export interface DsseBodyInput {
  /** The DSSE payload (its SHA-256 goes into the entry) and the envelope's signatures. */
  readonly payload: Uint8Array;
  readonly signatures: readonly { readonly signature: Uint8Array; readonly verifier: RekorVerifier }[];
}

export interface KindVersion {
  readonly kind: string;
  readonly version: string;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

function verifierJson(v: RekorVerifier): Record<string, unknown> {
  if (v.keyDetails === '') throw new InputError('INPUT_INVALID', 'the verifier needs its keyDetails');
  return 'publicKeyDer' in v
    ? { publicKey: { rawBytes: b64(v.publicKeyDer) }, keyDetails: v.keyDetails }
    : { x509Certificate: { rawBytes: b64(v.certificateDer) }, keyDetails: v.keyDetails };
}

/**
 * A hashedrekord v0.0.2 entry body (rekor-tiles: protojson of `Entry`, canonicalized with
 * RFC 8785 JCS): `{apiVersion, kind, spec: {hashedRekordV002: {data, signature}}}`.
 */
export function hashedRekordBody(input: HashedRekordInput): Uint8Array {
  if (input.digest.length !== 32) throw new InputError('INPUT_INVALID', 'hashedrekord digest must be a SHA-256 (32 bytes)');
  if (input.signature.length === 0) throw new InputError('INPUT_INVALID', 'hashedrekord needs a signature');
  return jcsBytes({
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: 'SHA2_256', digest: b64(input.digest) },
        signature: { content: b64(input.signature), verifier: verifierJson(input.verifier) },
      },
    },
  });
}

/** A dsse v0.0.2 entry body: the payload's SHA-256 and each signature with its verifier. */
export function dsseBody(input: DsseBodyInput): Uint8Array {
  if (input.signatures.length === 0) throw new InputError('INPUT_INVALID', 'a dsse entry needs at least one signature');
  return jcsBytes({
    apiVersion: '0.0.2',
    kind: 'dsse',
    spec: {
      dsseV002: {
        payloadHash: { algorithm: 'SHA2_256', digest: b64(createHash('sha256').update(input.payload).digest()) },
        signatures: input.signatures.map((s) => ({ content: b64(s.signature), verifier: verifierJson(s.verifier) })),
      },
    },
  });
}

/**
 * The kind and version of an entry body: Rekor-shaped JSON (`kind`, `apiVersion`) says its own;
 * anything else is an opaque custody entry (`custody-entry` 0.0.1).
 */
export function entryKindVersion(body: Uint8Array): KindVersion {
  if (body.length > 0 && body[0] === 0x7b) {
    try {
      const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
      if (typeof parsed === 'object' && parsed !== null) {
        const { kind, apiVersion } = parsed as Record<string, unknown>;
        if (typeof kind === 'string' && typeof apiVersion === 'string' && kind !== '' && apiVersion !== '') return { kind, version: apiVersion };
      }
    } catch {
      // not JSON: an opaque entry
    }
  }
  return { kind: 'custody-entry', version: '0.0.1' };
}
