// Builds key-based Sigstore v0.3 bundles from a signature (or DSSE envelope) and log entries.
import type { Envelope } from '../../core/index.ts';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE, type BundleTlogEntry, type SigstoreBundleV03 } from './model.ts';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** A key-based bundle's verification material: the key hint and the log entries, no timestamps. */
function keyMaterial(hint: string, tlogEntries: readonly BundleTlogEntry[] = []): SigstoreBundleV03['verificationMaterial'] {
  return { publicKey: { hint }, tlogEntries: [...tlogEntries], timestampVerificationData: { rfc3161Timestamps: [] } };
}

export interface MessageSignatureBundleInput {
  /** The artifact digest that was signed. */
  readonly digest: Uint8Array;
  readonly hash: 'sha256' | 'sha384';
  readonly signature: Uint8Array;
  /** The key hint clients use to find the public key (custody: the key id). */
  readonly hint: string;
  readonly tlogEntries?: readonly BundleTlogEntry[];
}

export function buildMessageSignatureBundle(input: MessageSignatureBundleInput): SigstoreBundleV03 {
  return {
    mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: keyMaterial(input.hint, input.tlogEntries),
    messageSignature: {
      messageDigest: { algorithm: input.hash === 'sha256' ? 'SHA2_256' : 'SHA2_384', digest: b64(input.digest) },
      signature: b64(input.signature),
    },
  };
}

export interface DsseBundleInput {
  /** A DSSE envelope with exactly one signature (Sigstore bundles carry one). */
  readonly envelope: Envelope;
  readonly hint: string;
  readonly tlogEntries?: readonly BundleTlogEntry[];
}

export function buildDsseBundle(input: DsseBundleInput): SigstoreBundleV03 {
  return {
    mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: keyMaterial(input.hint, input.tlogEntries),
    dsseEnvelope: {
      payloadType: input.envelope.payloadType,
      payload: input.envelope.payload,
      signatures: input.envelope.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })),
    },
  };
}
