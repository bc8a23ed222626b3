// Checks across steps: in-toto artifact rules over attestation materials and subjects (as ITE-11
// applies the v0.9 rule engine to attestations), and that the artifact under verification appears
// as a subject where the policy says it must.
import { digestSetsMatch, type DigestSet } from '../../core/index.ts';
import { evaluateArtifactRules, type ArtifactPathMap, type ArtifactSets } from '../artifact-rules.ts';
import { compileFnmatch } from '../fnmatch.ts';
import type { CheckState } from './check-evaluation.ts';
import type { Policy } from './policy-document.ts';
import type { Issue, RuleReport } from './verdict.ts';

function sameMap(a: ArtifactPathMap, b: ArtifactPathMap): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => {
    const da = a[k] ?? {};
    const db = b[k] ?? {};
    return Object.keys(da).length === Object.keys(db).length && Object.keys(da).every((alg) => da[alg] === db[alg]);
  });
}

/** The artifacts each step reports; counted attestations of one step must agree (in-toto: links of a step). */
export function stepArtifacts(states: readonly CheckState[]): { links: Map<string, ArtifactSets>; issues: Issue[] } {
  const links = new Map<string, ArtifactSets>();
  const issues: Issue[] = [];
  for (const state of states) {
    const check = state.compiled.check;
    if (check.kind !== 'step') continue;
    const [first, ...rest] = state.counted;
    if (first === undefined) continue;
    const sets: ArtifactSets = { materials: first.attestation.materials, products: first.attestation.products };
    for (const other of rest) {
      if (!sameMap(sets.materials, other.attestation.materials) || !sameMap(sets.products, other.attestation.products)) {
        issues.push({
          code: 'ARTIFACTS_DISAGREE',
          severity: 'error',
          step: check.name,
          attestation: other.attestation.source,
          reason: `reports other materials or products than ${first.attestation.source}`,
        });
      }
    }
    links.set(check.name, sets);
  }
  return { links, issues };
}

/** Applies every step's expected_materials / expected_products; returns reports and issues. */
export function applyArtifactRules(states: readonly CheckState[], links: ReadonlyMap<string, ArtifactSets>): Map<string, { rules: RuleReport[]; issues: Issue[] }> {
  const out = new Map<string, { rules: RuleReport[]; issues: Issue[] }>();
  for (const state of states) {
    const check = state.compiled.check;
    const artifacts = links.get(check.name);
    // A step without counted attestations has already failed; there is nothing to match.
    if (check.kind !== 'step' || artifacts === undefined) continue;
    const result = { rules: [] as RuleReport[], issues: [] as Issue[] };
    for (const [sourceType, rules] of [['materials', check.expectedMaterials], ['products', check.expectedProducts]] as const) {
      if (rules.length === 0) continue;
      const evaluation = evaluateArtifactRules({ itemName: check.name, sourceType, rules, artifacts, links });
      for (const outcome of evaluation.outcomes) {
        const passed = outcome.failures.length === 0;
        result.rules.push({
          kind: 'artifact',
          name: `expected_${sourceType}[${outcome.index}]`,
          expr: outcome.text,
          passed,
          ...(passed ? {} : { reason: outcome.failures.map((f) => f.message).join('; ') }),
        });
      }
      for (const f of evaluation.failures) {
        result.issues.push({ code: 'ARTIFACT_RULE_FAILED', severity: 'error', step: check.name, rule: f.rule, artifact: f.artifact, reason: `${f.code}: ${f.message}` });
      }
    }
    out.set(check.name, result);
  }
  return out;
}

/** policy.artifact: the artifact's digest is a subject of a counted attestation of the named steps. */
export function checkArtifactSubject(policy: Policy, states: readonly CheckState[], artifactDigest: DigestSet): Issue[] {
  const nameMatches = policy.artifact.subjectName === undefined ? () => true : compileFnmatch(policy.artifact.subjectName);
  const names = policy.artifact.producedBy;
  const shown = Object.entries(artifactDigest).map(([a, v]) => `${a}:${v}`).join(' ');
  const hasArtifact = (state: CheckState): boolean =>
    state.counted.some((c) =>
      c.attestation.statement.subject.some((s) => s.digest !== undefined && digestSetsMatch(s.digest, artifactDigest) && nameMatches(s.name ?? '')),
    );
  const pattern = policy.artifact.subjectName === undefined ? '' : ` with a name matching '${policy.artifact.subjectName}'`;
  if (names.length === 0) {
    if (states.some(hasArtifact)) return [];
    return [{ code: 'ARTIFACT_NOT_SUBJECT', severity: 'error', artifact: shown, reason: `no counted attestation names the artifact as a subject${pattern}` }];
  }
  return names
    .filter((name) => !states.some((s) => s.compiled.check.name === name && hasArtifact(s)))
    .map((name) => ({ code: 'ARTIFACT_NOT_SUBJECT', severity: 'error', step: name, artifact: shown, reason: `no counted attestation of '${name}' names the artifact as a subject${pattern}` }) satisfies Issue);
}
