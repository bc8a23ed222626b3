// Evaluates one step or requirement: selects its candidate attestations, keeps those signed by its
// functionaries, runs its CEL rules on each, and counts the threshold over distinct key ids.
import type { CelInput } from '@bufbuild/cel';
import { digestSetsMatch, type DigestSet } from '../../core/index.ts';
import type { VerifiedAttestation } from './attestation-loading.ts';
import type { CelBindings, CelRuntime, CompiledRule, RuleResult } from './cel-environment.ts';
import { identityMismatch, type CertificateIdentity } from './identity.ts';
import type { CelRuleSource, Check, Policy } from './policy-document.ts';
import { AGGREGATE_VARIABLES, ATTESTATION_VARIABLES } from './rule-variables.ts';
import type { Issue, RuleReport } from './verdict.ts';


export interface CompiledCheck {
  readonly check: Check;
  readonly when?: CompiledRule;
  readonly rules: readonly (readonly [CelRuleSource, CompiledRule])[];
  readonly aggregateRules: readonly (readonly [CelRuleSource, CompiledRule])[];
  /** Key id → names of this check's functionaries holding it. */
  readonly keyOwners: ReadonlyMap<string, readonly string[]>;
  /** This check's keyless functionaries. */
  readonly identities: readonly { readonly name: string; readonly identity: CertificateIdentity }[];
}

export interface CountedAttestation {
  readonly attestation: VerifiedAttestation;
  /** Authorized key ids that signed it. */
  readonly signers: readonly string[];
  readonly cel: CelInput;
}

export interface CheckState {
  readonly compiled: CompiledCheck;
  /** Attestations selected for the check (after type, name, subject and selector). */
  readonly considered: readonly VerifiedAttestation[];
  readonly counted: readonly CountedAttestation[];
  readonly distinctSigners: readonly string[];
  readonly rules: RuleReport[];
  readonly issues: Issue[];
}

export interface EvaluationContext {
  readonly policy: Policy;
  readonly runtime: CelRuntime;
  readonly now: CelInput;
  readonly artifactDigest: DigestSet;
  readonly artifactCel: CelInput;
}

export function compileCheck(check: Check, policy: Policy, runtime: CelRuntime): CompiledCheck {
  const where = (r: CelRuleSource) => `${check.kind} '${check.name}' rule '${r.name}'`;
  const keyOwners = new Map<string, string[]>();
  const identities: { name: string; identity: CertificateIdentity }[] = [];
  for (const name of check.functionaries) {
    const f = policy.functionaries.get(name);
    if (f === undefined) continue;
    if (f.certificate !== undefined) identities.push({ name, identity: f.certificate });
    for (const k of f.keys) keyOwners.set(k.keyid, [...(keyOwners.get(k.keyid) ?? []), name]);
  }
  const compiled: CompiledCheck = {
    check,
    rules: check.rules.map((r) => [r, runtime.compile(r.expr, ATTESTATION_VARIABLES, where(r))] as const),
    aggregateRules: check.aggregateRules.map((r) => [r, runtime.compile(r.expr, AGGREGATE_VARIABLES, where(r))] as const),
    keyOwners,
    identities,
  };
  return check.when === undefined ? compiled : { ...compiled, when: runtime.compile(check.when.expr, ATTESTATION_VARIABLES, `${check.kind} '${check.name}' when`) };
}

/** Maps a rule result to its report and, on failure, its issue. */
export function ruleOutcome(
  result: RuleResult,
  rule: CelRuleSource,
  kind: RuleReport['kind'],
  step: string,
  attestation: string | undefined,
): { report: RuleReport; issue?: Issue } {
  const base = { kind, name: rule.name, expr: rule.expr, cost: result.cost, ...(attestation === undefined ? {} : { attestation }) };
  const at = attestation === undefined ? {} : { attestation };
  switch (result.kind) {
    case 'true':
      return { report: { ...base, passed: true } };
    case 'false':
    case 'not-bool': {
      const reason = result.kind === 'false' ? 'evaluated to false' : `evaluated to a ${result.valueType}, not true`;
      return { report: { ...base, passed: false, reason }, issue: { code: 'RULE_FAILED', severity: 'error', step, rule: rule.name, ...at, reason: `${rule.expr}: ${reason}` } };
    }
    case 'error':
      return {
        report: { ...base, passed: false, reason: result.message },
        issue: { code: 'RULE_ERROR', severity: 'error', step, rule: rule.name, ...at, reason: `${rule.expr}: ${result.message}` },
      };
    case 'cost-exceeded':
      return {
        report: { ...base, passed: false, reason: 'cost limit exceeded' },
        issue: { code: 'RULE_COST_EXCEEDED', severity: 'error', step, rule: rule.name, ...at, reason: `${rule.expr}: evaluation exceeded the cost limit` },
      };
  }
}

function isCandidate(check: Check, a: VerifiedAttestation, artifactDigest: DigestSet): boolean {
  if (!check.predicateTypes.includes(a.statement.predicateType)) return false;
  // A link predicate records one named step (link.md): it belongs to the step of that name only.
  if (check.kind === 'step' && a.knowledge?.stepName !== undefined && a.knowledge.stepName(a.predicate) !== check.name) return false;
  // A requirement is about the final artifact: its attestations must name it as a subject.
  if (check.kind === 'requirement') {
    return a.statement.subject.some((s) => s.digest !== undefined && digestSetsMatch(s.digest, artifactDigest));
  }
  return true;
}

function attestationCel(a: VerifiedAttestation, signers: readonly string[], functionaries: readonly string[]): CelInput {
  return new Map<string, CelInput>([
    ['predicateType', a.statement.predicateType],
    ['predicate', a.predicateCel],
    ['subject', a.subjectCel],
    ['signers', [...signers]],
    ['functionaries', [...functionaries]],
    ['source', a.source],
  ]);
}

type Selection = { readonly kind: 'selected' } | { readonly kind: 'skipped' } | { readonly kind: 'issue'; readonly issue: Issue };

/** The `when` selector runs before authorization, so attestations meant for other steps stay silent. */
function select(compiled: CompiledCheck, bindings: CelBindings, source: string, ctx: EvaluationContext): Selection {
  if (compiled.when === undefined) return { kind: 'selected' };
  const selected = ctx.runtime.evaluate(compiled.when, bindings);
  if (selected.kind === 'true') return { kind: 'selected' };
  if (selected.kind === 'false') return { kind: 'skipped' };
  return { kind: 'issue', issue: { code: 'SELECTOR_ERROR', severity: 'warning', step: compiled.check.name, attestation: source, reason: `'when' did not evaluate to a bool (${selected.kind})` } };
}

function bindingsFor(a: VerifiedAttestation, signers: readonly string[], functionaries: readonly string[], cel: CelInput, step: string, ctx: EvaluationContext): CelBindings {
  return {
    predicateType: a.statement.predicateType,
    predicate: a.predicateCel,
    subject: a.subjectCel,
    signers: [...signers],
    functionaries: [...functionaries],
    attestation: cel,
    artifact: ctx.artifactCel,
    now: ctx.now,
    step,
  };
}

/** Authorized signers of an attestation for a check: its functionaries' key ids and matching identity. */
function authorizedSigners(compiled: CompiledCheck, a: VerifiedAttestation): { signers: string[]; functionaries: string[]; mismatch?: string } {
  const signers = a.keyids.filter((k) => compiled.keyOwners.has(k));
  const names = signers.flatMap((k) => compiled.keyOwners.get(k) ?? []);
  let mismatch: string | undefined;
  if (a.identity !== undefined) {
    const id = a.identity;
    const reasons = compiled.identities.map((f) => [f.name, identityMismatch(f.identity, id)] as const);
    const matching = reasons.filter(([, why]) => why === undefined).map(([name]) => name);
    if (matching.length > 0) {
      signers.push(id.signerId);
      names.push(...matching);
    } else if (reasons.length > 0) {
      mismatch = `certificate identity ${id.subject} (issuer ${id.issuer}) is not ${reasons.map(([name, why]) => `functionary '${name}': ${why ?? ''}`).join('; ')}`;
    } else {
      mismatch = `certificate identity ${id.subject} (issuer ${id.issuer}): the check has no keyless functionary`;
    }
  }
  return { signers, functionaries: [...new Set(names)].sort(), ...(mismatch === undefined ? {} : { mismatch }) };
}

/** Who signed an attestation, for messages: key ids and the keyless identity. */
export function signerDescription(a: VerifiedAttestation): string {
  return [...a.keyids, ...(a.identity === undefined ? [] : [`${a.identity.subject} (issuer ${a.identity.issuer})`])].join(', ');
}

export function evaluateCheck(compiled: CompiledCheck, attestations: readonly VerifiedAttestation[], ctx: EvaluationContext): CheckState {
  const { check } = compiled;
  const state = { compiled, considered: [] as VerifiedAttestation[], counted: [] as CountedAttestation[], rules: [] as RuleReport[], issues: [] as Issue[] };
  let unauthorized = 0;
  const mismatches: string[] = [];
  for (const a of attestations) {
    if (!isCandidate(check, a, ctx.artifactDigest)) continue;
    const { signers, functionaries, mismatch } = authorizedSigners(compiled, a);
    const cel = attestationCel(a, signers, functionaries);
    const bindings = bindingsFor(a, signers, functionaries, cel, check.name, ctx);
    const selection = select(compiled, bindings, a.source, ctx);
    if (selection.kind === 'issue') state.issues.push(selection.issue);
    if (selection.kind !== 'selected') continue;
    if (signers.length === 0) {
      unauthorized++;
      if (mismatch !== undefined) mismatches.push(`${a.source}: ${mismatch}`);
      const why = mismatch === undefined ? '' : `; ${mismatch}`;
      state.issues.push({ code: 'UNAUTHORIZED_FUNCTIONARY', severity: 'warning', step: check.name, attestation: a.source, reason: `signed by ${signerDescription(a)}, none of them a functionary of ${check.kind} '${check.name}' (${check.functionaries.join(', ')})${why}` });
      continue;
    }
    state.considered.push(a);
    let allPassed = true;
    for (const [rule, program] of compiled.rules) {
      const outcome = ruleOutcome(ctx.runtime.evaluate(program, bindings), rule, 'attestation', check.name, a.source);
      state.rules.push(outcome.report);
      if (outcome.issue !== undefined) {
        state.issues.push(outcome.issue);
        allPassed = false;
      }
    }
    if (allPassed) state.counted.push({ attestation: a, signers, cel });
  }
  const distinct = [...new Set(state.counted.flatMap((c) => c.signers))].sort();
  if (state.considered.length === 0) {
    const why = unauthorized > 0 ? ` (${unauthorized} signed by other keys or identities${mismatches.length > 0 ? `: ${mismatches.join('; ')}` : ''})` : '';
    state.issues.push({ code: 'ATTESTATION_MISSING', severity: 'error', step: check.name, reason: `no attestation of type ${check.predicateTypes.join(' or ')} by ${check.functionaries.join(', ')}${why}` });
  } else if (distinct.length < check.threshold) {
    state.issues.push({ code: 'THRESHOLD_NOT_MET', severity: 'error', step: check.name, reason: `${distinct.length} distinct functionary key(s) or identities signed attestations passing every rule, ${check.threshold} required` });
  }
  return { ...state, distinctSigners: distinct };
}

/** Aggregate rules see the check's counted attestations and every check's, by name. */
export function evaluateAggregates(state: CheckState, steps: CelInput, ctx: EvaluationContext): void {
  const check = state.compiled.check;
  const bindings = { attestations: state.counted.map((c) => c.cel), steps, artifact: ctx.artifactCel, now: ctx.now, step: check.name };
  for (const [rule, program] of state.compiled.aggregateRules) {
    const outcome = ruleOutcome(ctx.runtime.evaluate(program, bindings), rule, 'aggregate', check.name, undefined);
    state.rules.push(outcome.report);
    if (outcome.issue !== undefined) state.issues.push(outcome.issue);
  }
}
