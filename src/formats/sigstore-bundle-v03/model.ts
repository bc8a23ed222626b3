// Sigstore bundle v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`), the JSON form of
// protobuf-specs `dev.sigstore.bundle.v1.Bundle` (int64 as strings, bytes as standard base64):
// the subset custody writes and reads — key-based verification material (publicKey.hint), log
// entries with inclusion proofs, and either a messageSignature or a DSSE envelope.
import type { Envelope } from '../../core/index.ts';

export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** protobuf-specs `TransparencyLogEntry` with the inclusion proof v0.3 requires. */
export interface BundleTlogEntry {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  canonicalizedBody: string;
  inclusionProof: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint: { envelope: string };
  };
}

export interface BundleMessageSignature {
  /** protobuf-specs HashAlgorithm name. */
  messageDigest: { algorithm: 'SHA2_256' | 'SHA2_384'; digest: string };
  signature: string;
}

export interface SigstoreBundleV03 {
  mediaType: typeof SIGSTORE_BUNDLE_V03_MEDIA_TYPE;
  verificationMaterial: {
    publicKey: { hint: string };
    tlogEntries: BundleTlogEntry[];
    timestampVerificationData: { rfc3161Timestamps: never[] };
  };
  messageSignature?: BundleMessageSignature;
  dsseEnvelope?: Envelope;
}
