// What in-toto v0.9 layout verification reports: every failure as data (stage, step, key, rule,
// artifact, reason), the warnings, and per step / inspection what was checked. Also maps a report
// to the typed error the CLI and HTTP layer use.
import { InputError, PolicyError, VerificationError, type CustodyError } from '../core/index.ts';
import type { ArtifactType, Link } from '../formats/index.ts';
import type { RuleEvaluation } from './artifact-rules.ts';

/** The order of verifylib.in_toto_verify; failures are listed in this order. */
export const VERIFICATION_STAGES = [
  'layout-signatures',
  'expiration',
  'parameters',
  'links',
  'link-signatures',
  'sublayouts',
  'threshold-constraints',
  'step-rules',
  'inspections',
  'inspection-rules',
] as const;
export type VerificationStage = (typeof VERIFICATION_STAGES)[number];

export type LayoutFailureCode =
  /** Fewer layout keys than the threshold have a valid signature on the layout. */
  | 'LAYOUT_SIGNATURE_INVALID'
  /** The layout's `expires` is before the reference time. */
  | 'LAYOUT_EXPIRED'
  /** A `{name}` in the layout has no parameter (Python KeyError). */
  | 'PARAMETER_MISSING'
  /** Malformed substitution syntax (Python ValueError / IndexError). */
  | 'PARAMETER_INVALID'
  /** Substitution syntax whose Python result custody does not reproduce. */
  | 'PARAMETER_UNSUPPORTED'
  /** Fewer link files from authorized functionaries than the step threshold (LinkNotFoundError). */
  | 'LINKS_MISSING'
  /** A functionary key in the layout cannot be used to verify (the reference fails on it too). */
  | 'FUNCTIONARY_KEY_INVALID'
  /** Fewer links validly signed by distinct authorized functionaries than the threshold. */
  | 'STEP_THRESHOLD_NOT_MET'
  /** A sublayout failed its own verification (see `sublayout`). */
  | 'SUBLAYOUT_FAILED'
  /** A sublayout's links could not be loaded (no loader, or the loader failed). */
  | 'SUBLAYOUT_LINKS_UNAVAILABLE'
  /** Links of one step (threshold > 1) report different materials or products. */
  | 'LINKS_DISAGREE'
  /** A step (threshold < 1) has no verified link at all; the reference fails with an IndexError. */
  | 'STEP_WITHOUT_LINK'
  /** A DISALLOW rule matched an artifact. */
  | 'RULE_DISALLOWED'
  /** A REQUIRE rule did not find its artifact. */
  | 'RULE_REQUIRED_MISSING'
  /** A MATCH rule with a source prefix derived a path that is no artifact (reference: KeyError). */
  | 'RULE_MATCH_SOURCE_UNRESOLVABLE'
  /** An inspection command returned non-zero (BadReturnValueError). */
  | 'INSPECTION_FAILED'
  /** The inspection runner failed. */
  | 'INSPECTION_ERROR'
  /** The layout has inspections but no runner was given. */
  | 'INSPECTION_RUNNER_MISSING';

export interface LayoutFailure {
  readonly code: LayoutFailureCode;
  readonly stage: VerificationStage;
  readonly message: string;
  /** Step or inspection name. */
  readonly item?: string;
  readonly keyid?: string;
  readonly sourceType?: ArtifactType;
  readonly ruleIndex?: number;
  /** The rule as written in the layout. */
  readonly rule?: string;
  readonly artifact?: string;
  /** For SUBLAYOUT_FAILED: the sublayout's own report. */
  readonly sublayout?: LayoutVerificationReport;
}

export type LayoutWarningCode =
  /** The link's command differs from the step's expected_command (spec §4.3.1: a warning only). */
  | 'COMMAND_MISMATCH'
  /** The link's name is not the step's name (the reference does not check). */
  | 'LINK_NAME_MISMATCH'
  /** Inspections were not run because verification had already failed. */
  | 'INSPECTIONS_SKIPPED';

export interface LayoutWarning {
  readonly code: LayoutWarningCode;
  readonly message: string;
  readonly item?: string;
  readonly keyid?: string;
}

export type LinkStatus =
  /** Validly signed by an authorized functionary (and, for a sublayout, verified). */
  | 'verified'
  /** No link from this functionary. */
  | 'missing'
  /** The key id is listed for the step but the layout has no such key. */
  | 'unauthorized'
  | 'signature-missing'
  | 'signature-invalid'
  | 'key-invalid'
  | 'sublayout-failed';

export interface LinkCheck {
  readonly keyid: string;
  readonly status: LinkStatus;
  readonly sublayout: boolean;
}

export interface StepReport {
  readonly name: string;
  readonly threshold: number;
  /** One entry per distinct authorized key id, in the layout's order. */
  readonly links: readonly LinkCheck[];
  /** Distinct functionary key ids with a verified link. */
  readonly verifiedFunctionaries: number;
  /** The key id whose link the rules were applied to (the first verified one). */
  readonly ruleLinkKeyid: string | undefined;
  readonly materialRules: RuleEvaluation | undefined;
  readonly productRules: RuleEvaluation | undefined;
  readonly passed: boolean;
}

export type InspectionStatus = 'passed' | 'failed' | 'error' | 'skipped';

export interface InspectionReport {
  readonly name: string;
  readonly run: readonly string[];
  readonly status: InspectionStatus;
  readonly link: Link | undefined;
  readonly materialRules: RuleEvaluation | undefined;
  readonly productRules: RuleEvaluation | undefined;
  readonly passed: boolean;
}

export interface LayoutSignatureCheck {
  readonly keyid: string;
  readonly status: 'valid' | 'invalid' | 'missing';
}

export interface LayoutVerificationReport {
  readonly passed: boolean;
  /** Every failure found, in the reference's order. */
  readonly failures: readonly LayoutFailure[];
  /** The failure in-toto-verify would stop on (the first one). */
  readonly referenceStop: LayoutFailure | undefined;
  readonly warnings: readonly LayoutWarning[];
  readonly layoutSignatures: readonly LayoutSignatureCheck[];
  readonly layoutThreshold: number;
  readonly expires: string;
  readonly expired: boolean;
  readonly steps: readonly StepReport[];
  readonly inspections: readonly InspectionReport[];
  /**
   * get_summary_link: materials of the first step, products/byproducts/command of the last (what a
   * superlayout sees for a sublayout). Undefined when a step it needs has no link.
   */
  readonly summaryLink: Link | undefined;
}

function innermost(failure: LayoutFailure): LayoutFailure {
  const inner = failure.sublayout?.referenceStop;
  return failure.code === 'SUBLAYOUT_FAILED' && inner !== undefined ? innermost(inner) : failure;
}

/**
 * The typed error for a failed report (undefined when it passed), from the failure the reference
 * stops on: broken evidence → VerificationError, rules and inspections → PolicyError, unusable
 * parameters → InputError.
 */
export function layoutVerificationError(report: LayoutVerificationReport): CustodyError | undefined {
  const first = report.referenceStop;
  if (first === undefined) return undefined;
  const cause = innermost(first);
  const count = report.failures.length;
  const message = `in-toto layout verification failed (${count} failure${count === 1 ? '' : 's'}); first: ${cause.message}`;
  switch (cause.code) {
    case 'LAYOUT_SIGNATURE_INVALID':
      return new VerificationError('SIGNATURE_INVALID', message);
    case 'LAYOUT_EXPIRED':
      return new VerificationError('EXPIRED', message);
    case 'PARAMETER_MISSING':
    case 'PARAMETER_INVALID':
    case 'PARAMETER_UNSUPPORTED':
      return new InputError('INPUT_INVALID', message);
    case 'LINKS_MISSING':
    case 'STEP_THRESHOLD_NOT_MET':
    case 'LINKS_DISAGREE':
    case 'STEP_WITHOUT_LINK':
      return new VerificationError('THRESHOLD_NOT_MET', message);
    case 'RULE_DISALLOWED':
    case 'RULE_REQUIRED_MISSING':
    case 'RULE_MATCH_SOURCE_UNRESOLVABLE':
      return new PolicyError('RULE_FAILED', message);
    case 'INSPECTION_FAILED':
      return new PolicyError('POLICY_FAILED', message);
    default:
      return new VerificationError('VERIFICATION_FAILED', message);
  }
}
