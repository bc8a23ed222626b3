// The attacks `custody demo --attack NAME` plays against the example supply chain, one per threat
// of the SLSA model (source, build, dependencies, distribution), with the stage and the rule that
// must stop each. `inject` is the first stage the attack changes: a run resumed from a kept honest
// run (--from) starts there.
import type { StepId } from './demo-run.ts';

export interface Attack {
  name: string;
  /** SLSA threat category. */
  threat: 'source' | 'build' | 'dependency' | 'distribution' | 'signing';
  description: string;
  inject: StepId;
  expect: { stage: StepId; rule: string };
}

export const ATTACKS: readonly Attack[] = [
  { name: 'unsigned-commit', threat: 'source', description: 'a change is pushed without a commit signature', inject: 'commit', expect: { stage: 'source', rule: 'UNSIGNED' } },
  { name: 'unauthorized-commit', threat: 'source', description: 'a change signed by a key no identity of the source policy holds (mallory)', inject: 'commit', expect: { stage: 'source', rule: 'KEY_UNKNOWN' } },
  { name: 'unreviewed-change', threat: 'source', description: 'a signed change lands on main without an independent review', inject: 'commit', expect: { stage: 'source', rule: 'REVIEW_MISSING' } },
  { name: 'source-tampered', threat: 'build', description: 'the CI work tree is modified between checkout and build', inject: 'build', expect: { stage: 'post-build', rule: 'ARTIFACT_RULE_FAILED' } },
  { name: 'build-params-modified', threat: 'build', description: 'the build runs with a parameter the reviewed build does not have (npm registry redirected)', inject: 'build', expect: { stage: 'post-build', rule: 'RULE_FAILED' } },
  { name: 'impersonated-builder', threat: 'build', description: "a compromised lint job signs the build's provenance with its own key or workload identity", inject: 'build', expect: { stage: 'post-build', rule: 'ATTESTATION_MISSING' } },
  { name: 'compromised-build', threat: 'build', description: 'a compromised build machine ships other bytes and signs them with the builder key', inject: 'build', expect: { stage: 'rebuild', rule: 'DIGEST_MISMATCH' } },
  { name: 'artifact-swapped', threat: 'distribution', description: 'the package is replaced after the build, on its way to the repository', inject: 'publish', expect: { stage: 'publish', rule: 'ADMISSION_DENIED' } },
  { name: 'repo-rollback', threat: 'distribution', description: 'a compromised repository mirror serves older metadata to a consumer that saw newer', inject: 'fetch', expect: { stage: 'fetch', rule: 'ROLLBACK' } },
  { name: 'repo-substitution', threat: 'distribution', description: 'a compromised repository mirror serves other bytes (of the same length) under the published name', inject: 'fetch', expect: { stage: 'fetch', rule: 'DIGEST_MISMATCH' } },
  { name: 'typosquat-dependency', threat: 'dependency', description: 'a signed, reviewed change adds "crossenv", one letter from "cross-env"', inject: 'commit', expect: { stage: 'pre-build', rule: 'DEPENDENCY_RISK' } },
  { name: 'vulnerable-dependency', threat: 'dependency', description: 'a signed, reviewed change adds lodash 4.17.20 (GHSA-35jh-r3h4-6jhm, CVSS 7.2)', inject: 'commit', expect: { stage: 'post-build', rule: 'VULNERABILITIES_FOUND' } },
  { name: 'policy-bypass-signing', threat: 'signing', description: 'a holder of a signer token asks the service to sign a package built outside the pipeline', inject: 'sign', expect: { stage: 'sign', rule: 'POLICY_FAILED' } },
];

export function attackNamed(name: string): Attack | undefined {
  return ATTACKS.find((a) => a.name === name);
}
