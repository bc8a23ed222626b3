// policy: pure verification of evidence against rules (DESIGN.md module map): the in-toto artifact
// rule engine, in-toto v0.9 layout verification. No I/O: inputs are loaded objects, commands run
// behind adapters the caller supplies.
export { compileFnmatch, fnmatch, fnmatchFilter } from './fnmatch.ts';
export type { Matcher } from './fnmatch.ts';
export { evaluateArtifactRules, hashDictsEqual } from './artifact-rules.ts';
export type {
  ArtifactPathMap,
  ArtifactSets,
  RuleEvaluation,
  RuleEvaluationInput,
  RuleFailure,
  RuleFailureCode,
  RuleOutcome,
} from './artifact-rules.ts';
export { SubstitutionError, formatPythonTemplate, isParameterName, substituteLayoutParameters } from './layout-parameters.ts';
export type { SubstitutionErrorKind, SubstitutionResult } from './layout-parameters.ts';
export { VERIFICATION_STAGES, layoutVerificationError } from './layout-report.ts';
export type {
  InspectionReport,
  InspectionStatus,
  LayoutFailure,
  LayoutFailureCode,
  LayoutSignatureCheck,
  LayoutVerificationReport,
  LayoutWarning,
  LayoutWarningCode,
  LinkCheck,
  LinkStatus,
  StepReport,
  VerificationStage,
} from './layout-report.ts';
export { expectedLinkFiles, verifyLayout } from './layout-verify.ts';
export type {
  InspectionContext,
  InspectionRunner,
  StepLinks,
  SublayoutLinkLoader,
  SublayoutRef,
  VerifyLayoutInput,
} from './layout-verify.ts';
// Attestation policies with CEL rules and VSA output (attestation-policy/).
export {
  AGGREGATE_VARIABLES,
  ATTESTATION_VARIABLES,
  DEFAULT_CEL_LIMITS,
  POLICY_PAYLOAD_TYPE,
  POLICY_TYPE_V1,
  STANDARD_PREDICATES,
  createCelRuntime,
  evaluatePolicy,
  failedRuleSummaries,
  identityMatches,
  identityMismatch,
  identityPatternProblem,
  identitySignerId,
  jsonToCel,
  makeVsa,
  openSignedPolicy,
  parsePolicyDocument,
  policyDigest,
  policyInputFromBytes,
  predicateKnowledge,
  signPolicy,
} from './attestation-policy/index.ts';
export type {
  ArtifactRequirement,
  AttestationInput,
  AttestationReport,
  CelBindings,
  CelLimits,
  CelRuleSource,
  CelRuntime,
  CertificateIdentity,
  Check,
  KeylessCheck,
  KeylessIdentity,
  KeylessVerifier,
  CheckReport,
  CompiledRule,
  ConvertedInput,
  EvaluateOptions,
  Functionary,
  Issue,
  IssueCode,
  OpenedPolicy,
  Policy,
  PolicyInput,
  PolicyOwners,
  PolicyTrust,
  PredicateKnowledge,
  RuleReport,
  RuleResult,
  Verdict,
  VsaOptions,
} from './attestation-policy/index.ts';
