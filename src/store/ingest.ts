// Turns uploaded bytes into a NewAttestation: parses a DSSE envelope (or the one inside a Sigstore
// bundle v0.3), parses its in-toto Statement, checks the signatures against the trusted keys and
// extracts the fields the store indexes. The bytes themselves are kept exactly as uploaded.
import {
  IN_TOTO_PAYLOAD_TYPE,
  InputError,
  VerificationError,
  decodeBase64,
  digestBytes,
  parseEnvelope,
  parseJson,
  parseStatement,
  verifyEnvelope,
  type DigestSet,
  type PublicKey,
  type Statement,
} from '../core/index.ts';
import type { AttestationMeta, AttestationMediaType, DigestRef, NewAttestation, VerificationResult } from './types.ts';

export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
const IN_TOTO_LINK_V03 = 'https://in-toto.io/attestation/link/v0.3';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sigstore bundle v0.3 holding a DSSE envelope → the envelope JSON; anything else is returned as is. */
function unwrapDocument(json: unknown): { mediaType: AttestationMediaType; envelope: unknown } {
  if (isRecord(json) && typeof json['mediaType'] === 'string') {
    const mediaType = json['mediaType'];
    // Sigstore bundle spec: v0.3 media type; older bundle versions carry certificate chains we don't take.
    if (mediaType !== SIGSTORE_BUNDLE_V03) {
      throw new InputError('ENVELOPE_INVALID', `unsupported bundle mediaType '${mediaType}' (expected ${SIGSTORE_BUNDLE_V03})`);
    }
    if (!isRecord(json['dsseEnvelope'])) {
      throw new InputError('ENVELOPE_INVALID', 'the Sigstore bundle holds no dsseEnvelope (message signatures are not attestations)');
    }
    return { mediaType: SIGSTORE_BUNDLE_V03, envelope: json['dsseEnvelope'] };
  }
  return { mediaType: DSSE_MEDIA_TYPE, envelope: json };
}

/** Splits a DigestSet into lowercase (algorithm, value) pairs. */
export function digestRefs(set: DigestSet): DigestRef[] {
  return Object.entries(set).map(([algorithm, value]) => ({ algorithm, value: value.toLowerCase() }));
}

function descriptorDigest(v: unknown): DigestSet | undefined {
  if (!isRecord(v) || !isRecord(v['digest'])) return undefined;
  const set: DigestSet = {};
  for (const [algorithm, value] of Object.entries(v['digest'])) {
    if (typeof value === 'string' && /^[0-9a-fA-F]{1,128}$/.test(value)) set[algorithm] = value.toLowerCase();
  }
  return Object.keys(set).length > 0 ? set : undefined;
}

/**
 * Materials = what went into the subjects, by predicate type: SLSA provenance v1
 * buildDefinition.resolvedDependencies, SLSA v0.2 materials, in-toto link v0.3 materials.
 * Entries without a usable digest are skipped: the graph can only follow digests.
 */
function extractMaterials(statement: Statement): AttestationMeta['materials'] {
  const p = statement.predicate;
  let list: unknown;
  if (statement.predicateType === SLSA_PROVENANCE_V1) {
    const def = p['buildDefinition'];
    list = isRecord(def) ? def['resolvedDependencies'] : undefined;
  } else if (statement.predicateType === SLSA_PROVENANCE_V02 || statement.predicateType === IN_TOTO_LINK_V03) {
    list = p['materials'];
  }
  if (!Array.isArray(list)) return [];
  const out: AttestationMeta['materials'] = [];
  for (const item of list.slice(0, 10_000)) {
    const digest = descriptorDigest(item);
    if (digest === undefined || !isRecord(item)) continue;
    const m: AttestationMeta['materials'][number] = { digest };
    if (typeof item['name'] === 'string') m.name = item['name'];
    if (typeof item['uri'] === 'string') m.uri = item['uri'];
    out.push(m);
  }
  return out;
}

/** Step name: the in-toto link predicate's `name` (link v0.3). */
function extractStep(statement: Statement): string | undefined {
  if (statement.predicateType !== IN_TOTO_LINK_V03) return undefined;
  const name = statement.predicate['name'];
  return typeof name === 'string' && name !== '' ? name : undefined;
}

export interface IngestOptions {
  trustedKeys: readonly PublicKey[];
}

/** Parses, verifies and indexes one uploaded document. Throws InputError for malformed input. */
export function prepareAttestation(bytes: Uint8Array, options: IngestOptions): NewAttestation {
  const json = parseJson(bytes, 'attestation');
  const { mediaType, envelope: envelopeJson } = unwrapDocument(json);
  const envelope = parseEnvelope(envelopeJson);
  // in-toto attestation framework: the DSSE payloadType of a Statement is application/vnd.in-toto+json.
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new InputError('ENVELOPE_INVALID', `payloadType '${envelope.payloadType}' is not ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  const statement = parseStatement(parseJson(decodeBase64(envelope.payload, 'DSSE payload'), 'DSSE payload'));
  let verification: VerificationResult;
  try {
    const result = verifyEnvelope(envelope, options.trustedKeys, { payloadType: IN_TOTO_PAYLOAD_TYPE });
    verification = { status: 'verified', keyids: result.keyids };
  } catch (e) {
    if (!(e instanceof VerificationError)) throw e;
    // Recorded, not rejected: the store keeps evidence; policy decides what unverified evidence is worth.
    verification = { status: 'unverified', keyids: [], code: e.code };
  }
  const meta: AttestationMeta = {
    mediaType,
    payloadType: envelope.payloadType,
    predicateType: statement.predicateType,
    subjects: statement.subject.map((s) => {
      const subject: AttestationMeta['subjects'][number] = { digest: Object.fromEntries(digestRefs(s.digest ?? {}).map((d) => [d.algorithm, d.value])) };
      if (s.name !== undefined) subject.name = s.name;
      return subject;
    }),
    materials: extractMaterials(statement),
    claimedKeyids: [...new Set(envelope.signatures.map((s) => s.keyid).filter((k) => k !== ''))].sort(),
    verification,
  };
  const step = extractStep(statement);
  if (step !== undefined) meta.step = step;
  return { ...meta, id: digestBytes(bytes), bytes };
}

/** Every (algorithm, value) pair of a list of digest sets, without repeats. */
export function uniqueDigestRefs(sets: readonly { digest: DigestSet }[]): DigestRef[] {
  const seen = new Map<string, DigestRef>();
  for (const { digest } of sets) {
    for (const ref of digestRefs(digest)) seen.set(`${ref.algorithm}:${ref.value}`, ref);
  }
  return [...seen.values()];
}
