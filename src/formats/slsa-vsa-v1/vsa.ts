// SLSA Verification Summary Attestation v1 (https://slsa.dev/spec/v1.0/verification_summary):
// model, strict parser, and a builder that emits the spec's fields only.
import type { DigestSet, ResourceDescriptor } from '../../core/index.ts';
import {
  asRecord,
  optionalRecord,
  optionalResourceDescriptors,
  optionalString,
  optionalStringArray,
  optionalStringMap,
  optionalTimestamp,
  predicateError,
  requiredEnum,
  requiredRecord,
  requiredString,
  resourceDescriptor,
} from '../predicate-fields/index.ts';

export const SLSA_VSA_V1 = 'https://slsa.dev/verification_summary/v1';
export const VERIFICATION_RESULTS = ['PASSED', 'FAILED'] as const;
export type VerificationResult = (typeof VERIFICATION_RESULTS)[number];

export interface VsaVerifier {
  id: string;
  version?: Record<string, string>;
  [extension: string]: unknown;
}

export interface VsaPredicateV1 {
  verifier: VsaVerifier;
  timeVerified?: string;
  resourceUri: string;
  policy: ResourceDescriptor;
  inputAttestations?: ResourceDescriptor[];
  verificationResult: VerificationResult;
  verifiedLevels: string[];
  dependencyLevels?: Record<string, number>;
  slsaVersion?: string;
  [extension: string]: unknown;
}

export function parseVsaV1(json: unknown, where = 'SLSA VSA'): VsaPredicateV1 {
  const o = asRecord(json, where);
  const v = requiredRecord(o, 'verifier', where);
  const verifier: VsaVerifier = { ...v, id: requiredString(v, 'id', `${where}.verifier`) };
  const version = optionalStringMap(v, 'version', `${where}.verifier`);
  if (version !== undefined) verifier.version = version;
  // vsa.md: policy is a ResourceDescriptor (uri and/or digest).
  if (o['policy'] === undefined) predicateError(where, "'policy' is required");
  const levels = optionalStringArray(o, 'verifiedLevels', where);
  if (levels === undefined) predicateError(where, "'verifiedLevels' is required");
  if (levels.some((l) => l === '')) predicateError(where, 'a verified level must be a non-empty string');
  const out: VsaPredicateV1 = {
    ...o,
    verifier,
    resourceUri: requiredString(o, 'resourceUri', where),
    policy: resourceDescriptor(o['policy'], `${where}.policy`),
    verificationResult: requiredEnum(o, 'verificationResult', VERIFICATION_RESULTS, where),
    verifiedLevels: levels,
  };
  const time = optionalTimestamp(o, 'timeVerified', where);
  if (time !== undefined) out.timeVerified = time;
  const inputs = optionalResourceDescriptors(o, 'inputAttestations', where);
  if (inputs !== undefined) out.inputAttestations = inputs;
  const deps = optionalRecord(o, 'dependencyLevels', where);
  if (deps !== undefined) {
    for (const [k, n] of Object.entries(deps)) {
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) predicateError(where, `'dependencyLevels.${k}' must be a count`);
    }
    out.dependencyLevels = deps as Record<string, number>;
  }
  const slsaVersion = optionalString(o, 'slsaVersion', where);
  if (slsaVersion !== undefined) out.slsaVersion = slsaVersion;
  return out;
}

export interface VsaInput {
  verifierId: string;
  verifierVersion?: Record<string, string>;
  timeVerified: Date;
  resourceUri: string;
  policy: { uri?: string; digest: DigestSet };
  inputAttestations: ResourceDescriptor[];
  passed: boolean;
  verifiedLevels: string[];
  slsaVersion?: string;
}

/** Builds a VSA predicate; seconds-precision UTC time (vsa.md: timeVerified is a Timestamp). */
export function makeVsaPredicate(input: VsaInput): VsaPredicateV1 {
  const verifier: VsaVerifier = { id: input.verifierId };
  if (input.verifierVersion !== undefined) verifier.version = input.verifierVersion;
  const policy: ResourceDescriptor = { digest: input.policy.digest };
  if (input.policy.uri !== undefined) policy.uri = input.policy.uri;
  const out: VsaPredicateV1 = {
    verifier,
    timeVerified: input.timeVerified.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    resourceUri: input.resourceUri,
    policy,
    inputAttestations: input.inputAttestations,
    verificationResult: input.passed ? 'PASSED' : 'FAILED',
    verifiedLevels: input.verifiedLevels,
  };
  if (input.slsaVersion !== undefined) out.slsaVersion = input.slsaVersion;
  return out;
}
