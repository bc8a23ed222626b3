// Turns one input envelope into verified, parsed evidence or into issues: payload type, signatures
// under the policy's functionary keys or a keyless certificate identity, Statement v1, size limits, strict predicate parsing.
import {
  IN_TOTO_PAYLOAD_TYPE,
  decodeBase64,
  digestSetOfBytes,
  isCustodyError,
  parseJson,
  parseStatement,
  verifyEnvelope,
  type CustodyError,
  type DigestSet,
  type Envelope,
  type PublicKey,
  type ResourceDescriptor,
  type Statement,
} from '../../core/index.ts';
import type { ArtifactPathMap } from '../artifact-rules.ts';
import { jsonToCel } from './cel-environment.ts';
import { identityMismatch, identitySignerId, type CertificateIdentity, type KeylessIdentity, type KeylessVerifier } from './identity.ts';
import type { CelLimits } from './cel-limits.ts';
import { predicateKnowledge, type PredicateKnowledge } from './predicates.ts';
import type { Issue } from './verdict.ts';
import type { CelInput } from '@bufbuild/cel';

/**
 * Signatures of one envelope that are checked at most: each may cost one verification per policy
 * key, and real envelopes carry one or a few.
 */
export const MAX_SIGNATURES_PER_ENVELOPE = 16;

export interface AttestationInput {
  readonly envelope: Envelope;
  /** Where it came from (file name, URI): used in reports. */
  readonly source?: string;
  /** Digest of the attestation as stored (file bytes); defaults to the payload's SHA-256. */
  readonly digest?: DigestSet;
  /**
   * Keyless verification material: the Sigstore bundle (certificate, time-stamps, log entries)
   * the envelope came in. Checked by PolicyTrust.keyless; counts for keyless functionaries only.
   */
  readonly verificationMaterial?: unknown;
}

/** The keyless functionaries of a policy and the verifier of their certificates. */
export interface KeylessContext {
  readonly verifier?: KeylessVerifier;
  readonly functionaries: readonly { readonly name: string; readonly identity: CertificateIdentity }[];
}

/** A certificate identity verified for an attestation. */
export interface VerifiedIdentity extends KeylessIdentity {
  /** The signer id it counts as (`oidc:<issuer>#<subject>`). */
  readonly signerId: string;
  /** The proven signing time (RFC 3339). */
  readonly signedAt: string;
}

export interface VerifiedAttestation {
  readonly index: number;
  readonly source: string;
  readonly digest: DigestSet;
  readonly statement: Statement;
  readonly knowledge: PredicateKnowledge | undefined;
  readonly predicate: object;
  /** Key ids of policy functionaries whose signatures verified. */
  readonly keyids: readonly string[];
  /** The keyless certificate identity that signed it, verified. */
  readonly identity?: VerifiedIdentity;
  readonly predicateCel: CelInput;
  readonly subjectCel: CelInput;
  readonly materials: ArtifactPathMap;
  readonly products: ArtifactPathMap;
}

export interface LoadResult {
  readonly source: string;
  readonly digest: DigestSet;
  readonly predicateType?: string;
  readonly keyids: readonly string[];
  readonly identity?: VerifiedIdentity;
  readonly verified?: VerifiedAttestation;
  readonly issues: readonly Issue[];
}

/** Resource descriptors as an artifact map: path = name (else uri); descriptors without digest skipped. */
export function artifactMap(descriptors: readonly ResourceDescriptor[]): ArtifactPathMap {
  const out: Record<string, DigestSet> = {};
  for (const rd of descriptors) {
    const path = rd.name ?? rd.uri;
    if (path !== undefined && rd.digest !== undefined && Object.keys(rd.digest).length > 0) out[path] = rd.digest;
  }
  return out;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function signatureIssue(e: CustodyError, envelope: Envelope, policyKeyIds: ReadonlySet<string>, source: string): Issue {
  // A signature that names a functionary's key but does not verify means the payload or signature
  // was altered: an error. Signatures by keys the policy does not know are merely not evidence.
  const claimsPolicyKey = envelope.signatures.some((s) => policyKeyIds.has(s.keyid));
  if (e.code === 'SIGNATURE_INVALID' && claimsPolicyKey) {
    return { code: 'SIGNATURE_INVALID', severity: 'error', attestation: source, reason: `signature by a functionary key does not verify (tampered?): ${e.message}` };
  }
  return { code: 'KEY_UNKNOWN', severity: 'warning', attestation: source, reason: `not signed by any functionary of the policy (${e.message})` };
}

/** DSSE signatures under the policy's keys: the verified key ids, or why there are none. */
function verifySignatures(envelope: Envelope, keys: readonly PublicKey[], source: string): { keyids: string[] } | { issue: Issue } {
  if (envelope.signatures.length > MAX_SIGNATURES_PER_ENVELOPE) {
    return { issue: { code: 'ATTESTATION_TOO_LARGE', severity: 'error', attestation: source, reason: `${envelope.signatures.length} signatures, at most ${MAX_SIGNATURES_PER_ENVELOPE} are checked` } };
  }
  // Keys named by the signatures' key id hints first: the hint is unauthenticated, so it only
  // orders the attempts (one verification per good signature instead of one per policy key).
  const hinted = new Set(envelope.signatures.map((s) => s.keyid));
  const ordered = [...keys.filter((k) => hinted.has(k.keyid)), ...keys.filter((k) => !hinted.has(k.keyid))];
  try {
    return { keyids: verifyEnvelope(envelope, ordered).keyids };
  } catch (e) {
    if (!isCustodyError(e)) throw e;
    return { issue: signatureIssue(e, envelope, new Set(keys.map((k) => k.keyid)), source) };
  }
}

/** Verifier codes reported under their own name; others as KEYLESS_INVALID. */
const KEYLESS_CODES: ReadonlySet<string> = new Set(['CERTIFICATE_UNTRUSTED', 'CERTIFICATE_EXPIRED', 'SIGNATURE_INVALID']);

/**
 * The keyless identity of an attestation carrying a certificate, or why it has none. Like a
 * signature claiming a functionary's key id, a certificate claiming a functionary's identity that
 * does not verify is an error (forged, or from another CA); others are merely not evidence.
 */
function verifyKeyless(input: AttestationInput, keyless: KeylessContext, source: string): { identity: VerifiedIdentity } | { issue: Issue } {
  if (keyless.verifier === undefined) {
    return { issue: { code: 'KEYLESS_UNVERIFIED', severity: 'warning', attestation: source, reason: 'carries a keyless certificate, but no trusted root was given to verify it (--trusted-root)' } };
  }
  const r = keyless.verifier.verify(input.envelope, input.verificationMaterial);
  if (r.ok) return { identity: { ...r.identity, signerId: identitySignerId(r.identity), signedAt: r.signedAt } };
  const claimed = r.claimed;
  const claims = claimed === undefined ? [] : keyless.functionaries.filter((f) => identityMismatch(f.identity, claimed) === undefined).map((f) => f.name);
  const code = KEYLESS_CODES.has(r.code) ? (r.code as Issue['code']) : 'KEYLESS_INVALID';
  const who = claimed === undefined ? 'a keyless certificate' : `the certificate for ${claimed.subject} (issuer ${claimed.issuer})`;
  const claimText = claims.length === 0 ? '' : `, claiming functionary ${claims.map((n) => `'${n}'`).join(', ')},`;
  return { issue: { code, severity: claims.length === 0 ? 'warning' : 'error', attestation: source, reason: `${who}${claimText} does not verify: ${r.code}: ${r.reason}` } };
}

/** Who signed: functionary key ids (DSSE signatures) and/or a verified keyless identity, or why nobody. */
function authenticate(input: AttestationInput, keys: readonly PublicKey[], keyless: KeylessContext, source: string): { keyids: string[]; identity?: VerifiedIdentity } | { issue: Issue } {
  const checked = verifySignatures(input.envelope, keys, source);
  const keylessChecked = input.verificationMaterial === undefined || keyless.functionaries.length === 0 ? undefined : verifyKeyless(input, keyless, source);
  const identity = keylessChecked !== undefined && 'identity' in keylessChecked ? keylessChecked.identity : undefined;
  if ('issue' in checked && identity === undefined) {
    // A certificate's own problem says more than "signed by no known key".
    return { issue: keylessChecked !== undefined && 'issue' in keylessChecked ? keylessChecked.issue : checked.issue };
  }
  const keyids = 'keyids' in checked ? checked.keyids : [];
  return identity === undefined ? { keyids } : { keyids, identity };
}

export function loadAttestation(
  input: AttestationInput,
  index: number,
  keys: readonly PublicKey[],
  limits: CelLimits,
  known: readonly PredicateKnowledge[],
  keyless: KeylessContext = { functionaries: [] },
): LoadResult {
  const source = input.source ?? `attestation[${index}]`;
  let digest: DigestSet = input.digest ?? {};
  const fail = (issue: Omit<Issue, 'attestation'>, extra: Partial<LoadResult> = {}): LoadResult => ({
    source,
    digest,
    keyids: [],
    ...extra,
    issues: [{ ...issue, attestation: source }],
  });
  let payload: Uint8Array;
  try {
    payload = decodeBase64(input.envelope.payload, 'DSSE payload');
  } catch (e) {
    return fail({ code: 'STATEMENT_INVALID', severity: 'error', reason: reason(e) });
  }
  if (input.digest === undefined) digest = digestSetOfBytes(payload, ['sha256']);
  // DSSE: the payload type is signed; only in-toto statements are attestations here.
  if (input.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return fail({ code: 'PAYLOAD_TYPE_MISMATCH', severity: 'warning', reason: `payloadType '${input.envelope.payloadType}' is not ${IN_TOTO_PAYLOAD_TYPE}` });
  }
  const signed = authenticate(input, keys, keyless, source);
  if ('issue' in signed) return { source, digest, keyids: [], issues: [signed.issue] };
  let json: unknown;
  try {
    json = parseJson(payload, 'statement');
  } catch (e) {
    return fail({ code: 'STATEMENT_INVALID', severity: 'error', reason: reason(e) }, signed);
  }
  // Size and depth limits before any further parsing, so hostile content is refused early.
  const guard = jsonToCel(json, limits);
  if (!guard.ok) return fail({ code: 'ATTESTATION_TOO_LARGE', severity: 'error', reason: guard.reason }, signed);
  let statement: Statement;
  try {
    statement = parseStatement(json);
  } catch (e) {
    return fail({ code: 'STATEMENT_INVALID', severity: 'error', reason: reason(e) }, signed);
  }
  const typed = { ...signed, predicateType: statement.predicateType };
  const knowledge = predicateKnowledge(statement.predicateType, known);
  let predicate: object = statement.predicate;
  try {
    if (knowledge !== undefined) predicate = knowledge.parse(statement.predicate);
  } catch (e) {
    return fail({ code: 'PREDICATE_INVALID', severity: 'error', reason: `${knowledge?.name ?? ''}: ${reason(e)}` }, typed);
  }
  const predicateCel = jsonToCel(predicate, limits);
  const subjectCel = jsonToCel(statement.subject, limits);
  if (!predicateCel.ok || !subjectCel.ok) {
    return fail({ code: 'ATTESTATION_TOO_LARGE', severity: 'error', reason: 'parsed predicate exceeds the input limits' }, typed);
  }
  const verified: VerifiedAttestation = {
    index,
    source,
    digest,
    statement,
    knowledge,
    predicate,
    ...signed,
    predicateCel: predicateCel.value,
    subjectCel: subjectCel.value,
    materials: artifactMap(knowledge?.materials?.(predicate) ?? []),
    products: artifactMap(statement.subject),
  };
  return { source, digest, ...signed, predicateType: statement.predicateType, verified, issues: [] };
}
