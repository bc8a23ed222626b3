// The result of evaluating an attestation policy: every failure as data (STYLE.md §9), with the
// step, rule, attestation and artifact it concerns, so nobody needs "detective work".
import type { DigestSet } from '../../core/index.ts';

export type IssueCode =
  /** The policy envelope's signatures do not meet the owners' threshold. */
  | 'POLICY_SIGNATURE_INVALID'
  /** The policy was given unsigned and the caller did not allow that. */
  | 'POLICY_UNSIGNED'
  | 'POLICY_INVALID'
  | 'POLICY_EXPIRED'
  /** An input is not a DSSE envelope of an in-toto statement. */
  | 'PAYLOAD_TYPE_MISMATCH'
  /** No signature of an attestation verifies under any functionary key (warning: not evidence). */
  | 'KEY_UNKNOWN'
  /** A signature claiming a functionary's key id does not verify: tampered or corrupt. */
  | 'SIGNATURE_INVALID'
  | 'STATEMENT_INVALID'
  | 'PREDICATE_INVALID'
  /** Statement larger or deeper than the CEL input limits. */
  | 'ATTESTATION_TOO_LARGE'
  /** Signed by policy keys, but none the check accepts (warning; the attestation does not count). */
  | 'UNAUTHORIZED_FUNCTIONARY'
  /** A keyless certificate was not issued by a CA of the trusted root (error when it claims a functionary's identity). */
  | 'CERTIFICATE_UNTRUSTED'
  /** A keyless signature's proven signing time lies outside its certificate's validity. */
  | 'CERTIFICATE_EXPIRED'
  /** Keyless material that does not verify otherwise (time-stamp, log entry, thresholds, bundle form). */
  | 'KEYLESS_INVALID'
  /** An attestation carries a keyless certificate but no verifier (trusted root) was given (warning). */
  | 'KEYLESS_UNVERIFIED'
  | 'ATTESTATION_MISSING'
  | 'THRESHOLD_NOT_MET'
  /** A CEL rule evaluated to false (or to a non-bool). */
  | 'RULE_FAILED'
  /** A CEL rule raised an error (missing field, wrong type). */
  | 'RULE_ERROR'
  | 'RULE_COST_EXCEEDED'
  /** A `when` selector raised an error (warning; the attestation is not selected). */
  | 'SELECTOR_ERROR'
  /** An in-toto artifact rule (DISALLOW, REQUIRE, unresolvable MATCH) failed. */
  | 'ARTIFACT_RULE_FAILED'
  /** Attestations counted for one step report different materials or products. */
  | 'ARTIFACTS_DISAGREE'
  | 'ARTIFACT_NOT_SUBJECT'
  /** A verified attestation that no check used (warning, or error with extraAttestations: reject). */
  | 'EXTRA_ATTESTATION';

export interface Issue {
  readonly code: IssueCode;
  readonly severity: 'error' | 'warning';
  /** Step or requirement name. */
  readonly step?: string;
  /** Rule name, or the artifact rule as written. */
  readonly rule?: string;
  /** Source (file name, URI) of the attestation concerned. */
  readonly attestation?: string;
  /** Artifact path (artifact rules) or digest (subject checks). */
  readonly artifact?: string;
  readonly reason: string;
}

export interface RuleReport {
  readonly kind: 'attestation' | 'aggregate' | 'artifact';
  readonly name: string;
  readonly expr: string;
  readonly attestation?: string;
  readonly passed: boolean;
  readonly reason?: string;
  readonly cost?: number;
}

export interface CheckReport {
  readonly kind: 'step' | 'requirement';
  readonly name: string;
  readonly passed: boolean;
  readonly threshold: number;
  /** Distinct authorized key ids (and keyless identities, `oidc:<issuer>#<subject>`) that signed attestations passing every rule. */
  readonly signers: readonly string[];
  /** Sources of the attestations counted for this check. */
  readonly attestations: readonly string[];
  readonly rules: readonly RuleReport[];
}

export interface AttestationReport {
  readonly source: string;
  readonly digest: DigestSet;
  readonly predicateType?: string;
  /** Key ids (of policy functionaries) whose signatures verified. */
  readonly signers: readonly string[];
  /** The verified keyless certificate identity that signed it. */
  readonly identity?: { readonly issuer: string; readonly subject: string; readonly signedAt: string };
  /** Checks that counted it. */
  readonly usedBy: readonly string[];
  readonly valid: boolean;
}

export interface Verdict {
  readonly passed: boolean;
  readonly policy: {
    readonly name?: string;
    readonly digest?: DigestSet;
    readonly expires?: string;
    /** Owner key ids whose signatures on the policy verified. */
    readonly signers: readonly string[];
    /** SLSA levels the policy says a pass vouches for (policy `verifiedLevels`). */
    readonly verifiedLevels?: readonly string[];
  };
  readonly artifact: { readonly digest: DigestSet };
  readonly evaluatedAt: string;
  readonly steps: readonly CheckReport[];
  readonly attestations: readonly AttestationReport[];
  readonly issues: readonly Issue[];
}

/** One line per failing issue, `[step / rule] CODE: reason`: what a refusal names. */
export function failedRuleSummaries(verdict: Pick<Verdict, 'issues'>): string[] {
  return verdict.issues
    .filter((i) => i.severity === 'error')
    .map((i) => {
      const where = [i.step, i.rule].filter((x) => x !== undefined).join(' / ');
      return `${where === '' ? '' : `[${where}] `}${i.code}: ${i.reason}`;
    });
}
