// Test kit for attestation policies: keys, signed statements and policies made on the fly.
import {
  IN_TOTO_PAYLOAD_TYPE,
  digestBytes,
  generateKeyPair,
  makeStatement,
  signEnvelope,
  type DigestSet,
  type Envelope,
  type PrivateKey,
  type ResourceDescriptor,
} from '../../src/core/index.ts';
import { parsePolicyDocument, signPolicy, type AttestationInput, type Policy } from '../../src/policy/index.ts';

export const ARTIFACT_BYTES = 'the release tarball';
export const ARTIFACT: DigestSet = { sha256: digestBytes(ARTIFACT_BYTES) };
export const NOW = new Date('2026-06-01T00:00:00Z');

const keyCache = new Map<string, PrivateKey>();
/** One Ed25519 key per name, made once per test process. */
export function key(name: string): PrivateKey {
  let k = keyCache.get(name);
  if (k === undefined) {
    k = generateKeyPair('ed25519');
    keyCache.set(name, k);
  }
  return k;
}

export function sha(text: string): DigestSet {
  return { sha256: digestBytes(text) };
}

export async function attest(
  signers: readonly string[],
  predicateType: string,
  predicate: Record<string, unknown>,
  subject: ResourceDescriptor[] = [{ name: 'app.tgz', digest: ARTIFACT }],
  source?: string,
): Promise<AttestationInput> {
  const statement = makeStatement(subject, predicateType, predicate);
  const envelope = await signEnvelope(
    IN_TOTO_PAYLOAD_TYPE,
    new TextEncoder().encode(JSON.stringify(statement)),
    signers.map((s) => key(s).signer()),
  );
  return source === undefined ? { envelope } : { envelope, source };
}

/** Replaces the payload of an envelope, keeping its signatures (a tampered attestation). */
export function tamper(input: AttestationInput, change: (statement: Record<string, unknown>) => void): AttestationInput {
  const statement = JSON.parse(Buffer.from(input.envelope.payload, 'base64').toString('utf8')) as Record<string, unknown>;
  change(statement);
  const envelope: Envelope = { ...input.envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') };
  return { ...input, envelope };
}

export function functionary(name: string): { publicKey: string } {
  return { publicKey: key(name).publicKey.pem };
}

export const FUTURE = '2030-01-01T00:00:00Z';

export function policyDoc(extra: Record<string, unknown>): Record<string, unknown> {
  return { _type: 'https://custody.dev/policy/v1', expires: FUTURE, ...extra };
}

export function policy(extra: Record<string, unknown>): Policy {
  return parsePolicyDocument(policyDoc(extra));
}

export async function signedPolicy(extra: Record<string, unknown>, owners: readonly string[] = ['owner']): Promise<Envelope> {
  return signPolicy(JSON.stringify(policyDoc(extra)), owners.map((o) => key(o).signer()));
}
