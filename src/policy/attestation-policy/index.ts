// Attestation policies (custody policy v1): steps and requirements over any predicate, CEL rules
// with cost limits, in-toto artifact rules across steps, signed policies, VSA output. Pure.
export { DEFAULT_CEL_LIMITS } from './cel-limits.ts';
export type { CelLimits } from './cel-limits.ts';
export { createCelRuntime, jsonToCel } from './cel-environment.ts';
export type { CelBindings, CelRuntime, CompiledRule, ConvertedInput, RuleResult } from './cel-environment.ts';
export { AGGREGATE_VARIABLES, ATTESTATION_VARIABLES } from './rule-variables.ts';
export { POLICY_TYPE_V1, parsePolicyDocument } from './policy-document.ts';
export type { ArtifactRequirement, CelRuleSource, CertificateIdentity, Check, Functionary, Policy } from './policy-document.ts';
export { POLICY_PAYLOAD_TYPE, openSignedPolicy, policyDigest, policyInputFromBytes, signPolicy } from './policy-envelope.ts';
export type { OpenedPolicy, PolicyOwners } from './policy-envelope.ts';
export { STANDARD_PREDICATES, predicateKnowledge } from './predicates.ts';
export type { PredicateKnowledge } from './predicates.ts';
export type { AttestationInput } from './attestation-loading.ts';
export { identityMatches, identityMismatch, identityPatternProblem, identitySignerId } from './identity.ts';
export type { KeylessCheck, KeylessIdentity, KeylessVerifier } from './identity.ts';
export { evaluatePolicy } from './evaluate.ts';
export type { EvaluateOptions, PolicyInput, PolicyTrust } from './evaluate.ts';
export { makeVsa } from './vsa.ts';
export type { VsaOptions } from './vsa.ts';
export { failedRuleSummaries } from './verdict.ts';
export type { AttestationReport, CheckReport, Issue, IssueCode, RuleReport, Verdict } from './verdict.ts';
