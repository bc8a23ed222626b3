// in-toto Statement v1 and ResourceDescriptor, with strict parsers that apply the rules of
// in-toto/attestation's Go validators (go/v1/statement.go, resource_descriptor.go) and type-check
// every field the spec defines.
import { digestSetsMatch, type DigestSet } from './digest.ts';
import { InputError } from './errors.ts';

export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';
/** Accepted on input, as the Go validator does; never written. */
export const STATEMENT_TYPE_V01 = 'https://in-toto.io/Statement/v0.1';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: DigestSet;
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface Statement<P = Record<string, unknown>> {
  _type: string;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

// Hex lengths (bytes) per algorithm, from the Go validator; gitX digests may be SHA-1 or SHA-256.
const DIGEST_BYTES: Record<string, number[]> = {
  md5: [16],
  sha1: [20],
  gitBlob: [20, 32],
  gitCommit: [20, 32],
  gitTag: [20, 32],
  gitTree: [20, 32],
  sha224: [28],
  sha512_224: [28],
  sha3_224: [28],
  sha256: [32],
  sha512_256: [32],
  sha3_256: [32],
  dirHash: [32],
  sha384: [48],
  sha3_384: [48],
  sha512: [64],
  sha3_512: [64],
};

function fail(message: string): never {
  throw new InputError('STATEMENT_INVALID', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(obj: Record<string, unknown>, field: string, where: string): string | undefined {
  const v = obj[field];
  // in-toto attestation v1 parsing rules: unset, null and empty values are interpreted equivalently.
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`${where}: '${field}' must be a string`);
  return v;
}

function parseDigestSet(digest: unknown, where: string): DigestSet {
  if (!isRecord(digest)) fail(`${where}: 'digest' must be an object of algorithm → hex`);
  const set: DigestSet = {};
  for (const [algorithm, value] of Object.entries(digest)) {
    if (typeof value !== 'string') fail(`${where}: digest '${algorithm}' must be a string`);
    // Own properties only: 'constructor' or '__proto__' is a custom algorithm, not Object.prototype's.
    const sizes = Object.hasOwn(DIGEST_BYTES, algorithm) ? DIGEST_BYTES[algorithm] : undefined;
    if (sizes !== undefined) {
      // Known algorithms: hex of the right length (Go validator). Unknown ones pass through.
      if (!/^[0-9a-fA-F]*$/.test(value) || value.length % 2 !== 0) fail(`${where}: digest ${algorithm} is not hex`);
      if (!sizes.includes(value.length / 2)) {
        fail(`${where}: digest ${algorithm} has ${value.length / 2} bytes, want ${sizes.join(' or ')}`);
      }
    }
    set[algorithm] = value;
  }
  return set;
}

export function parseResourceDescriptor(json: unknown, where = 'resource descriptor'): ResourceDescriptor {
  if (!isRecord(json)) fail(`${where} must be an object`);
  const rd: ResourceDescriptor = {};
  for (const field of ['name', 'uri', 'content', 'downloadLocation', 'mediaType'] as const) {
    const v = optionalString(json, field, where);
    if (v !== undefined) rd[field] = v;
  }
  if (json['annotations'] !== undefined && json['annotations'] !== null) {
    if (!isRecord(json['annotations'])) fail(`${where}: 'annotations' must be an object`);
    rd.annotations = json['annotations'];
  }
  if (json['digest'] !== undefined && json['digest'] !== null) rd.digest = parseDigestSet(json['digest'], where);
  // Go validator: GetName() == "" && GetUri() == "" && len(GetDigest()) == 0 (an empty string is unset).
  if (!rd.name && !rd.uri && (rd.digest === undefined || Object.keys(rd.digest).length === 0)) {
    fail(`${where}: at least one of name, uri or digest is required`);
  }
  return rd;
}

/** Parses a Statement from untrusted JSON. */
export function parseStatement(json: unknown): Statement {
  if (!isRecord(json)) fail('a Statement must be a JSON object');
  const type = json['_type'];
  if (type !== STATEMENT_TYPE_V1 && type !== STATEMENT_TYPE_V01) {
    fail(`wrong statement type ${JSON.stringify(type)} (expected ${STATEMENT_TYPE_V1})`);
  }
  const subjects = json['subject'];
  if (!Array.isArray(subjects) || subjects.length === 0) fail('at least one subject is required');
  const subject = subjects.map((s: unknown, i) => {
    const rd = parseResourceDescriptor(s, `subject ${i}`);
    if (rd.digest === undefined || Object.keys(rd.digest).length === 0) fail(`subject ${i}: at least one digest is required`);
    return rd;
  });
  const predicateType = json['predicateType'];
  if (typeof predicateType !== 'string' || predicateType === '') fail('predicateType is required');
  const predicate = json['predicate'];
  if (!isRecord(predicate)) fail('predicate object is required');
  return { _type: type, subject, predicateType, predicate };
}

export function makeStatement<P>(subject: ResourceDescriptor[], predicateType: string, predicate: P): Statement<P> {
  return { _type: STATEMENT_TYPE_V1, subject, predicateType, predicate };
}

/** The subjects whose digests name the given bytes (see digestSetsMatch). */
export function subjectsMatching(statement: Statement<unknown>, digest: DigestSet): ResourceDescriptor[] {
  return statement.subject.filter((s) => s.digest !== undefined && digestSetsMatch(s.digest, digest));
}
