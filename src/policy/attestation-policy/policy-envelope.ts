// Signed policies: a policy document travels as a DSSE envelope (payloadType
// application/vnd.custody.policy+json, payload = the policy as JSON) signed by the policy owners;
// verifiers hold the owners' keys and threshold as trust material.
import {
  InputError,
  digestSetOfBytes,
  parseEnvelope,
  parseJson,
  signEnvelope,
  verifyEnvelope,
  type DigestSet,
  type Envelope,
  type PublicKey,
  type Signer,
} from '../../core/index.ts';
import { parse as parseYaml } from 'yaml';
import type { PolicyInput } from './evaluate.ts';
import { parsePolicyDocument, type Policy } from './policy-document.ts';

export const POLICY_PAYLOAD_TYPE = 'application/vnd.custody.policy+json';

export interface PolicyOwners {
  readonly keys: readonly PublicKey[];
  /** Distinct owner keys that must have signed. */
  readonly threshold: number;
}

export interface OpenedPolicy {
  readonly policy: Policy;
  /** Digest of the signed payload: what a VSA names as its policy. */
  readonly digest: DigestSet;
  readonly signers: readonly string[];
}

/** The digest a VSA records for a policy: SHA-256 of the exact signed payload bytes. */
export function policyDigest(payload: Uint8Array): DigestSet {
  return digestSetOfBytes(payload, ['sha256']);
}

/**
 * A policy file's bytes as evaluatePolicy takes them: a signed policy envelope, or, only when
 * `unsigned.allowed`, a bare policy document (JSON or YAML). `name` (the file) starts each error;
 * `unsigned.hint` tells the user how to allow an unsigned policy where they are.
 */
export function policyInputFromBytes(bytes: Uint8Array, name: string, unsigned: { allowed: boolean; code: 'USAGE' | 'POLICY_INVALID'; hint: string }): PolicyInput {
  const text = new TextDecoder().decode(bytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined; // YAML: only as an unsigned document
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && typeof (json as Record<string, unknown>)['payloadType'] === 'string' && 'signatures' in json) {
    const envelope = parseEnvelope(json);
    if (envelope.payloadType !== POLICY_PAYLOAD_TYPE) throw new InputError('POLICY_INVALID', `${name}: payloadType is not ${POLICY_PAYLOAD_TYPE}`);
    return { envelope };
  }
  if (!unsigned.allowed) throw new InputError(unsigned.code, `${name} is not a signed policy envelope; sign it, or ${unsigned.hint}`);
  return { document: parsePolicyDocument(text), digest: policyDigest(bytes) };
}

/**
 * Verifies a signed policy against its owners (threshold over distinct keys) and parses it.
 * Throws VerificationError (signatures, payload type) or InputError POLICY_INVALID.
 */
export function openSignedPolicy(envelope: Envelope, owners: PolicyOwners): OpenedPolicy {
  const verified = verifyEnvelope(envelope, owners.keys, { threshold: owners.threshold, payloadType: POLICY_PAYLOAD_TYPE });
  const policy = parsePolicyDocument(parseJson(verified.payload, 'signed policy'));
  return { policy, digest: policyDigest(verified.payload), signers: verified.keyids };
}

/**
 * Signs a policy document (YAML or JSON text): checks it parses, then signs its JSON form, so the
 * signed bytes are the ones verifiers parse.
 */
export async function signPolicy(text: string, signers: readonly Signer[]): Promise<Envelope> {
  parsePolicyDocument(text);
  let json: unknown;
  try {
    json = parseYaml(text, { maxAliasCount: 50 }) as unknown;
  } catch (e) {
    throw new InputError('POLICY_INVALID', 'policy is not valid YAML or JSON', { cause: e });
  }
  const payload = new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`);
  return signEnvelope(POLICY_PAYLOAD_TYPE, payload, signers);
}
