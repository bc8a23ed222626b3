// makeVsa: a SLSA Verification Summary (VSA v1) statement recording a policy verdict, for signing,
// so downstream and air-gapped consumers can rely on the verification without redoing it.
import { InputError, makeStatement, type ResourceDescriptor, type Statement } from '../../core/index.ts';
import { SLSA_VSA_V1, makeVsaPredicate, type VsaPredicateV1 } from '../../formats/index.ts';
import type { Verdict } from './verdict.ts';

export interface VsaOptions {
  /** URI identifying this verifier (vsa.md verifier.id). */
  readonly verifierId: string;
  readonly verifierVersion?: Record<string, string>;
  /** URI of the artifact verified (vsa.md resourceUri). */
  readonly resourceUri: string;
  /** Name of the artifact as the VSA's subject. */
  readonly subjectName?: string;
  /** Where the policy can be fetched. */
  readonly policyUri?: string;
  /** Levels a passing verdict vouches for; default: the policy's verifiedLevels. */
  readonly verifiedLevels?: readonly string[];
  readonly slsaVersion?: string;
}

/**
 * The VSA for a verdict. vsa.md: verifiedLevels lists the levels verified, or "FAILED" when the
 * policy verification failed; inputAttestations lists every attestation the verdict counted.
 */
export function makeVsa(verdict: Verdict, options: VsaOptions): Statement<VsaPredicateV1> {
  const policyDigest = verdict.policy.digest;
  if (policyDigest === undefined) throw new InputError('USAGE', 'makeVsa needs the digest of the policy the verdict was reached under');
  const inputAttestations: ResourceDescriptor[] = verdict.attestations
    .filter((a) => a.usedBy.length > 0)
    .map((a) => ({ uri: a.source, digest: a.digest }));
  const predicate = makeVsaPredicate({
    verifierId: options.verifierId,
    ...(options.verifierVersion === undefined ? {} : { verifierVersion: options.verifierVersion }),
    timeVerified: new Date(verdict.evaluatedAt),
    resourceUri: options.resourceUri,
    policy: { digest: policyDigest, ...(options.policyUri === undefined ? {} : { uri: options.policyUri }) },
    inputAttestations,
    passed: verdict.passed,
    verifiedLevels: verdict.passed ? [...(options.verifiedLevels ?? verdict.policy.verifiedLevels ?? [])] : ['FAILED'],
    ...(options.slsaVersion === undefined ? {} : { slsaVersion: options.slsaVersion }),
  });
  const subject: ResourceDescriptor = { digest: verdict.artifact.digest, ...(options.subjectName === undefined ? {} : { name: options.subjectName }) };
  return makeStatement([subject], SLSA_VSA_V1, predicate);
}
