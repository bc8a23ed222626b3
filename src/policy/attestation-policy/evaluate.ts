// evaluatePolicy: the pure entry point every gate calls. Policy + loaded attestations + trust
// material in, a verdict listing every failure out. No I/O; nothing here throws for bad evidence.
import type { CelInput } from '@bufbuild/cel';
import { isCustodyError, type DigestSet, type Envelope, type PublicKey } from '../../core/index.ts';
import { loadAttestation, type AttestationInput, type KeylessContext, type VerifiedAttestation } from './attestation-loading.ts';
import type { KeylessVerifier } from './identity.ts';
import { applyArtifactRules, checkArtifactSubject, stepArtifacts } from './artifact-checks.ts';
import { createCelRuntime, jsonToCel } from './cel-environment.ts';
import { DEFAULT_CEL_LIMITS, type CelLimits } from './cel-limits.ts';
import { compileCheck, evaluateAggregates, evaluateCheck, signerDescription, type CheckState, type CompiledCheck, type EvaluationContext } from './check-evaluation.ts';
import type { Policy } from './policy-document.ts';
import { openSignedPolicy, type PolicyOwners } from './policy-envelope.ts';
import { STANDARD_PREDICATES, type PredicateKnowledge } from './predicates.ts';
import type { AttestationReport, CheckReport, Issue, Verdict } from './verdict.ts';

/** A signed policy envelope (verified against trust.owners), or an already parsed document. */
export type PolicyInput = { readonly envelope: Envelope } | { readonly document: Policy; readonly digest?: DigestSet };

export interface PolicyTrust {
  /** Owners' keys and threshold for a signed policy. */
  readonly owners?: PolicyOwners;
  /** Accept `{ document }` without signatures (tests, local experiments). */
  readonly allowUnsignedPolicy?: boolean;
  /**
   * Verifies keyless certificates (attestations with verificationMaterial) against a trusted root;
   * without it, keyless functionaries match nothing (KEYLESS_UNVERIFIED).
   */
  readonly keyless?: KeylessVerifier;
}

export interface EvaluateOptions {
  /** Digest(s) of the artifact under verification. */
  readonly artifactDigest: DigestSet;
  /** Evaluation time: policy expiry and the CEL `now`. */
  readonly now: Date;
  readonly limits?: Partial<CelLimits>;
  /** Predicate knowledge; defaults to the standard predicates. */
  readonly predicates?: readonly PredicateKnowledge[];
}

interface OpenResult {
  policy?: Policy;
  digest?: DigestSet;
  signers: readonly string[];
  issues: Issue[];
}

function openPolicy(input: PolicyInput, trust: PolicyTrust): OpenResult {
  if ('document' in input) {
    const issues: Issue[] = trust.allowUnsignedPolicy === true ? [] : [{ code: 'POLICY_UNSIGNED', severity: 'error', reason: 'the policy is not signed and unsigned policies were not allowed' }];
    return { policy: input.document, ...(input.digest === undefined ? {} : { digest: input.digest }), signers: [], issues };
  }
  if (trust.owners === undefined) {
    return { signers: [], issues: [{ code: 'POLICY_SIGNATURE_INVALID', severity: 'error', reason: 'no policy owner keys were given to verify the signed policy' }] };
  }
  try {
    const opened = openSignedPolicy(input.envelope, trust.owners);
    return { policy: opened.policy, digest: opened.digest, signers: opened.signers, issues: [] };
  } catch (e) {
    if (!isCustodyError(e)) throw e;
    const code = e.code === 'POLICY_INVALID' || e.code === 'JSON_INVALID' ? 'POLICY_INVALID' : 'POLICY_SIGNATURE_INVALID';
    return { signers: [], issues: [{ code, severity: 'error', reason: e.message }] };
  }
}

function failedEarly(open: OpenResult, options: EvaluateOptions, extra: Issue[] = []): Verdict {
  return {
    passed: false,
    policy: { signers: open.signers, ...(open.digest === undefined ? {} : { digest: open.digest }) },
    artifact: { digest: options.artifactDigest },
    evaluatedAt: options.now.toISOString(),
    steps: [],
    attestations: [],
    issues: [...open.issues, ...extra],
  };
}

function policyKeys(policy: Policy): PublicKey[] {
  const byId = new Map<string, PublicKey>();
  for (const f of policy.functionaries.values()) for (const k of f.keys) byId.set(k.keyid, k);
  return [...byId.values()];
}

function checkReport(state: CheckState, extraRules: CheckReport['rules'], failed: boolean): CheckReport {
  const check = state.compiled.check;
  return {
    kind: check.kind,
    name: check.name,
    passed: !failed,
    threshold: check.threshold,
    signers: state.distinctSigners,
    attestations: state.counted.map((c) => c.attestation.source),
    rules: [...state.rules, ...extraRules],
  };
}

export function evaluatePolicy(
  policyInput: PolicyInput,
  attestations: readonly AttestationInput[],
  trust: PolicyTrust,
  options: EvaluateOptions,
): Verdict {
  const open = openPolicy(policyInput, trust);
  const policy = open.policy;
  if (policy === undefined) return failedEarly(open, options);
  const limits: CelLimits = { ...DEFAULT_CEL_LIMITS, ...options.limits };
  const runtime = createCelRuntime(limits);
  let compiled: CompiledCheck[];
  try {
    compiled = [...policy.steps, ...policy.requirements].map((c) => compileCheck(c, policy, runtime));
  } catch (e) {
    if (!isCustodyError(e)) throw e;
    return failedEarly(open, options, [{ code: 'POLICY_INVALID', severity: 'error', reason: e.message }]);
  }
  const issues: Issue[] = [...open.issues];
  // Policy expiry (like in-toto layout `expires`): evaluation goes on so every failure is listed.
  if (options.now.getTime() >= Date.parse(policy.expires)) {
    issues.push({ code: 'POLICY_EXPIRED', severity: 'error', reason: `the policy expired at ${policy.expires}` });
  }
  const keys = policyKeys(policy);
  const keyless: KeylessContext = {
    ...(trust.keyless === undefined ? {} : { verifier: trust.keyless }),
    functionaries: [...policy.functionaries.values()].flatMap((f) => (f.certificate === undefined ? [] : [{ name: f.name, identity: f.certificate }])),
  };
  const loaded = attestations.map((a, i) => loadAttestation(a, i, keys, limits, options.predicates ?? STANDARD_PREDICATES, keyless));
  for (const l of loaded) issues.push(...l.issues);
  const verified = loaded.flatMap((l) => (l.verified === undefined ? [] : [l.verified]));

  const artifact = jsonToCel({ digest: options.artifactDigest }, limits);
  const ctx: EvaluationContext = {
    policy,
    runtime,
    now: runtime.timestamp(options.now),
    artifactDigest: options.artifactDigest,
    artifactCel: artifact.ok ? artifact.value : new Map(),
  };
  const states = compiled.map((c) => evaluateCheck(c, verified, ctx));
  const steps = new Map<string, CelInput>(states.map((s) => [s.compiled.check.name, s.counted.map((c) => c.cel)]));
  for (const s of states) evaluateAggregates(s, steps, ctx);

  const { links, issues: disagreements } = stepArtifacts(states);
  const artifactResults = applyArtifactRules(states, links);
  const subjectIssues = checkArtifactSubject(policy, states, options.artifactDigest);

  const reports: CheckReport[] = states.map((s) => {
    const name = s.compiled.check.name;
    const extra = artifactResults.get(name);
    const own = [...s.issues, ...(extra?.issues ?? []), ...disagreements.filter((d) => d.step === name)];
    issues.push(...own);
    return checkReport(s, extra?.rules ?? [], own.some((i) => i.severity === 'error'));
  });
  issues.push(...subjectIssues);
  issues.push(...extraAttestationIssues(policy, verified, states));

  const usedBy = new Map<VerifiedAttestation, string[]>();
  for (const s of states) for (const c of s.counted) usedBy.set(c.attestation, [...(usedBy.get(c.attestation) ?? []), s.compiled.check.name]);
  const attestationReports: AttestationReport[] = loaded.map((l) => ({
    source: l.source,
    digest: l.digest,
    ...(l.predicateType === undefined ? {} : { predicateType: l.predicateType }),
    signers: l.keyids,
    ...(l.identity === undefined ? {} : { identity: { issuer: l.identity.issuer, subject: l.identity.subject, signedAt: l.identity.signedAt } }),
    usedBy: l.verified === undefined ? [] : (usedBy.get(l.verified) ?? []),
    valid: l.verified !== undefined,
  }));
  return {
    passed: !issues.some((i) => i.severity === 'error'),
    policy: { ...(policy.name === undefined ? {} : { name: policy.name }), ...(open.digest === undefined ? {} : { digest: open.digest }), expires: policy.expires, signers: open.signers, verifiedLevels: policy.verifiedLevels },
    artifact: { digest: options.artifactDigest },
    evaluatedAt: options.now.toISOString(),
    steps: reports,
    attestations: attestationReports,
    issues,
  };
}

/** Verified attestations no check selected: ignored (warning) or refused, as the policy says. */
function extraAttestationIssues(policy: Policy, verified: readonly VerifiedAttestation[], states: readonly CheckState[]): Issue[] {
  const considered = new Set(states.flatMap((s) => s.considered));
  const severity = policy.extraAttestations === 'reject' ? 'error' : 'warning';
  return verified
    .filter((a) => !considered.has(a))
    .map((a) => ({ code: 'EXTRA_ATTESTATION', severity, attestation: a.source, reason: `${a.statement.predicateType} attestation signed by ${signerDescription(a)} is not used by any step or requirement` }) satisfies Issue);
}
