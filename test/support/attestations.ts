// Signed attestations for tests: in-toto Statements in DSSE envelopes (and Sigstore bundle v0.3
// wrappers), made here with core's signer so every byte is known.
import {
  IN_TOTO_PAYLOAD_TYPE,
  digestBytes,
  generateKeyPair,
  makeStatement,
  signEnvelope,
  type PrivateKey,
  type ResourceDescriptor,
} from '../../src/core/index.ts';

export const LINK_V03 = 'https://in-toto.io/attestation/link/v0.3';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';

export function sha256Of(text: string): string {
  return digestBytes(text);
}

export interface AttestationSpec {
  subjects: (string | ResourceDescriptor)[];
  predicateType?: string;
  predicate?: Record<string, unknown>;
  /** Keys that sign; none → signed by a throwaway key nobody trusts. */
  keys?: PrivateKey[];
}

let throwaway: PrivateKey | undefined;

/** Subject given as a string = the sha256 of that string, named after it. */
function descriptor(s: string | ResourceDescriptor): ResourceDescriptor {
  return typeof s === 'string' ? { name: s, digest: { sha256: sha256Of(s) } } : s;
}

/** DSSE envelope bytes (compact JSON) holding a Statement v1. */
export async function makeEnvelope(spec: AttestationSpec): Promise<Buffer> {
  const statement = makeStatement(spec.subjects.map(descriptor), spec.predicateType ?? 'https://example.com/test/v1', spec.predicate ?? {});
  throwaway ??= generateKeyPair('ed25519');
  const keys = spec.keys ?? [throwaway];
  const envelope = await signEnvelope(
    IN_TOTO_PAYLOAD_TYPE,
    Buffer.from(JSON.stringify(statement)),
    keys.map((k) => k.signer()),
  );
  return Buffer.from(JSON.stringify(envelope));
}

/** A link v0.3 attestation for `step`, turning `materials` into `products` (names hashed as content). */
export function makeLink(step: string, materials: string[], products: string[], keys?: PrivateKey[]): Promise<Buffer> {
  return makeEnvelope({
    subjects: products,
    predicateType: LINK_V03,
    predicate: { name: step, command: ['make'], materials: materials.map(descriptor) },
    ...(keys === undefined ? {} : { keys }),
  });
}

/** Wraps a DSSE envelope into a key-based Sigstore bundle v0.3. */
export function wrapInBundle(envelope: Buffer, keyHint = 'test-key'): Buffer {
  return Buffer.from(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: keyHint }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
      dsseEnvelope: JSON.parse(envelope.toString('utf8')) as unknown,
    }),
  );
}
