// The custody attestation policy document (type https://custody.dev/policy/v1): model and strict
// parser for its JSON or YAML form. docs/policy.md describes the format with examples.
import { parse as parseYaml } from 'yaml';
import {
  InputError,
  isCustodyError,
  publicKeyFromPem,
  publicKeyFromSecuresystemslib,
  type PublicKey,
} from '../../core/index.ts';
import { createCelRuntime } from './cel-environment.ts';
import { identityPatternProblem, type CertificateIdentity } from './identity.ts';
import { AGGREGATE_VARIABLES, ATTESTATION_VARIABLES } from './rule-variables.ts';
import { isRfc3339, parseArtifactRuleString, type ArtifactRule } from '../../formats/index.ts';

export const POLICY_TYPE_V1 = 'https://custody.dev/policy/v1';

export type { CertificateIdentity } from './identity.ts';

export interface Functionary {
  readonly name: string;
  /** Trusted public keys; empty for a certificate-identity functionary. */
  readonly keys: readonly PublicKey[];
  /** Keyless identity (`keyless:`, or its older name `certificate:`): issuer + subject, exact or /regexp/. */
  readonly certificate?: CertificateIdentity;
}

export interface CelRuleSource {
  readonly name: string;
  readonly expr: string;
}

/** Evidence a step or a requirement asks for: which predicates, signed by whom, obeying which rules. */
export interface Check {
  readonly kind: 'step' | 'requirement';
  readonly name: string;
  readonly predicateTypes: readonly string[];
  readonly functionaries: readonly string[];
  /** Distinct key ids that must have signed attestations passing every rule. */
  readonly threshold: number;
  /** Optional selector: only attestations for which it is true belong to this check. */
  readonly when?: CelRuleSource;
  /** Evaluated for each attestation of the check. */
  readonly rules: readonly CelRuleSource[];
  /** Evaluated once over all the check's attestations (`attestations`, `steps`). */
  readonly aggregateRules: readonly CelRuleSource[];
  /** in-toto artifact rules (steps only), applied to materials and products (subjects). */
  readonly expectedMaterials: readonly ArtifactRule[];
  readonly expectedProducts: readonly ArtifactRule[];
}

export interface ArtifactRequirement {
  /** Steps one of whose attestations must name the artifact as a subject; empty: any check. */
  readonly producedBy: readonly string[];
  /** fnmatch pattern the matching subject's name must match. */
  readonly subjectName?: string;
}

export interface Policy {
  readonly type: string;
  readonly name?: string;
  readonly expires: string;
  readonly functionaries: ReadonlyMap<string, Functionary>;
  readonly steps: readonly Check[];
  readonly requirements: readonly Check[];
  readonly artifact: ArtifactRequirement;
  /** `reject`: attestations by functionaries that no check uses fail the verdict. */
  readonly extraAttestations: 'ignore' | 'reject';
  /** SLSA levels a passing verdict vouches for, copied into the VSA. */
  readonly verifiedLevels: readonly string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TOP_FIELDS = new Set(['_type', 'name', 'expires', 'functionaries', 'steps', 'requirements', 'artifact', 'extraAttestations', 'verifiedLevels']);
const CHECK_FIELDS = new Set(['name', 'predicateTypes', 'functionaries', 'threshold', 'when', 'rules', 'aggregateRules', 'expectedMaterials', 'expectedProducts']);

function fail(where: string, message: string, cause?: unknown): never {
  throw new InputError('POLICY_INVALID', `${where}: ${message}`, cause === undefined ? undefined : { cause });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// A policy is written by people: an unknown field is a typo that would silently weaken it.
function onlyFields(o: Record<string, unknown>, allowed: ReadonlySet<string>, where: string): void {
  for (const k of Object.keys(o)) if (!allowed.has(k)) fail(where, `unknown field '${k}'`);
}

function stringList(v: unknown, where: string, { nonEmpty = false } = {}): string[] {
  if (v === undefined) {
    if (nonEmpty) fail(where, 'is required');
    return [];
  }
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) fail(where, 'must be a list of non-empty strings');
  if (nonEmpty && v.length === 0) fail(where, 'must not be empty');
  return v as string[];
}

function parseKey(v: Record<string, unknown>, where: string): PublicKey {
  try {
    if (typeof v['publicKey'] === 'string') {
      if (v['publicKey'].includes('PRIVATE KEY')) fail(where, 'publicKey holds a private key');
      return publicKeyFromPem(v['publicKey']);
    }
    return publicKeyFromSecuresystemslib(v['securesystemslib']);
  } catch (e) {
    if (isCustodyError(e) && e.code === 'POLICY_INVALID') throw e;
    return fail(where, `key unusable: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/** A keyless identity: `{issuer, subject}`, each exact or a /regexp/ over the whole value. */
function parseIdentity(c: unknown, where: string): CertificateIdentity {
  if (!isRecord(c)) fail(where, 'must be an object {issuer, subject}');
  onlyFields(c, new Set(['issuer', 'subject']), where);
  for (const field of ['issuer', 'subject'] as const) {
    const problem = identityPatternProblem(c[field]);
    if (problem !== undefined) fail(`${where}.${field}`, problem);
  }
  return { issuer: c['issuer'] as string, subject: c['subject'] as string };
}

function parseFunctionary(name: string, v: unknown, where: string): Functionary {
  if (!NAME.test(name)) fail(where, 'functionary names are letters, digits, _ . -');
  if (!isRecord(v)) fail(where, 'must be an object');
  onlyFields(v, new Set(['publicKey', 'securesystemslib', 'keys', 'keyless', 'certificate']), where);
  const keyEntries: Record<string, unknown>[] = [];
  if (v['publicKey'] !== undefined || v['securesystemslib'] !== undefined) keyEntries.push(v);
  if (v['keys'] !== undefined) {
    if (!Array.isArray(v['keys'])) fail(where, "'keys' must be a list");
    v['keys'].forEach((k: unknown, i) => {
      if (!isRecord(k)) fail(`${where}.keys[${i}]`, 'must be an object with publicKey or securesystemslib');
      onlyFields(k, new Set(['publicKey', 'securesystemslib']), `${where}.keys[${i}]`);
      keyEntries.push(k);
    });
  }
  const keys = keyEntries.map((k, i) => parseKey(k, `${where}.keys[${i}]`));
  if (v['keyless'] !== undefined && v['certificate'] !== undefined) fail(where, "give 'keyless' or 'certificate' (its older name), not both");
  const field = v['keyless'] !== undefined ? 'keyless' : 'certificate';
  const certificate = v[field] === undefined ? undefined : parseIdentity(v[field], `${where}.${field}`);
  if (keys.length === 0 && certificate === undefined) fail(where, 'needs publicKey, securesystemslib, keys or keyless');
  return certificate === undefined ? { name, keys } : { name, keys, certificate };
}

function parseRule(v: unknown, where: string, index: number): CelRuleSource {
  if (typeof v === 'string' && v.trim() !== '') return { name: `rule ${index + 1}`, expr: v };
  if (!isRecord(v)) fail(where, 'a rule is a CEL string or {name, expr}');
  onlyFields(v, new Set(['name', 'expr']), where);
  if (typeof v['expr'] !== 'string' || v['expr'].trim() === '') fail(where, "'expr' must be a CEL expression");
  const name = v['name'] === undefined ? `rule ${index + 1}` : v['name'];
  if (typeof name !== 'string' || name === '') fail(where, "'name' must be a string");
  return { name, expr: v['expr'] };
}

function parseRules(v: unknown, where: string): CelRuleSource[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(where, 'must be a list of rules');
  return v.map((r: unknown, i) => parseRule(r, `${where}[${i}]`, i));
}

function parseArtifactRules(v: unknown, where: string): ArtifactRule[] {
  return stringList(v, where).map((text, i) => {
    try {
      return parseArtifactRuleString(text);
    } catch (e) {
      return fail(`${where}[${i}]`, `bad artifact rule '${text}': ${e instanceof Error ? e.message : String(e)}`, e);
    }
  });
}

function parseCheck(v: unknown, kind: Check['kind'], where: string): Check {
  if (!isRecord(v)) fail(where, 'must be an object');
  onlyFields(v, CHECK_FIELDS, where);
  const name = v['name'];
  if (typeof name !== 'string' || !NAME.test(name)) fail(where, "'name' must be letters, digits, _ . - (at most 128)");
  const w = `${where} '${name}'`;
  const threshold = v['threshold'] ?? 1;
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 1) fail(w, "'threshold' must be a positive integer");
  if (kind === 'requirement' && (v['expectedMaterials'] !== undefined || v['expectedProducts'] !== undefined)) {
    fail(w, 'artifact rules belong to steps; a requirement is about the final artifact');
  }
  const check: Check = {
    kind,
    name,
    predicateTypes: stringList(v['predicateTypes'], `${w}.predicateTypes`, { nonEmpty: true }),
    functionaries: stringList(v['functionaries'], `${w}.functionaries`, { nonEmpty: true }),
    threshold,
    rules: parseRules(v['rules'], `${w}.rules`),
    aggregateRules: parseRules(v['aggregateRules'], `${w}.aggregateRules`),
    expectedMaterials: parseArtifactRules(v['expectedMaterials'], `${w}.expectedMaterials`),
    expectedProducts: parseArtifactRules(v['expectedProducts'], `${w}.expectedProducts`),
  };
  return v['when'] === undefined ? check : { ...check, when: parseRule(v['when'], `${w}.when`, 0) };
}

function parseChecks(v: unknown, kind: Check['kind'], where: string): Check[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(where, 'must be a list');
  return v.map((c: unknown, i) => parseCheck(c, kind, `${where}[${i}]`));
}

function parseArtifact(v: unknown): ArtifactRequirement {
  if (v === undefined) return { producedBy: [] };
  if (!isRecord(v)) fail('artifact', 'must be an object');
  onlyFields(v, new Set(['producedBy', 'subjectName']), 'artifact');
  const producedBy = stringList(v['producedBy'], 'artifact.producedBy');
  const subjectName = v['subjectName'];
  if (subjectName === undefined) return { producedBy };
  if (typeof subjectName !== 'string' || subjectName === '') fail('artifact.subjectName', 'must be a pattern');
  return { producedBy, subjectName };
}

/** Cross-references: functionaries exist, names are unique, MATCH rules name steps. */
function checkReferences(policy: Policy): void {
  const names = new Set<string>();
  for (const c of [...policy.steps, ...policy.requirements]) {
    if (names.has(c.name)) fail(`${c.kind} '${c.name}'`, 'names of steps and requirements must be unique');
    names.add(c.name);
    for (const f of c.functionaries) {
      if (!policy.functionaries.has(f)) fail(`${c.kind} '${c.name}'`, `unknown functionary '${f}'`);
    }
  }
  const stepNames = new Set(policy.steps.map((s) => s.name));
  for (const s of policy.steps) {
    for (const rule of [...s.expectedMaterials, ...s.expectedProducts]) {
      if (rule.type === 'MATCH' && !stepNames.has(rule.destName)) fail(`step '${s.name}'`, `MATCH names unknown step '${rule.destName}'`);
    }
  }
  for (const p of policy.artifact.producedBy) if (!names.has(p)) fail('artifact.producedBy', `unknown step '${p}'`);
}

/** Compiles every CEL rule once, so a policy with a broken rule is refused when it is read. */
function compileRules(policy: Policy): void {
  const runtime = createCelRuntime();
  for (const c of [...policy.steps, ...policy.requirements]) {
    const where = (r: CelRuleSource) => `${c.kind} '${c.name}' rule '${r.name}'`;
    for (const r of c.rules) runtime.compile(r.expr, ATTESTATION_VARIABLES, where(r));
    for (const r of c.aggregateRules) runtime.compile(r.expr, AGGREGATE_VARIABLES, where(r));
    if (c.when !== undefined) runtime.compile(c.when.expr, ATTESTATION_VARIABLES, `${c.kind} '${c.name}' when`);
  }
}

/** Parses a policy from its JSON/YAML text or from an already parsed value. Throws POLICY_INVALID. */
export function parsePolicyDocument(input: unknown): Policy {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      // JSON is YAML; aliases are capped so a small document cannot expand without bound.
      doc = parseYaml(input, { maxAliasCount: 50, uniqueKeys: true, prettyErrors: false }) as unknown;
    } catch (e) {
      fail('policy', `not valid YAML or JSON: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, e);
    }
  }
  if (!isRecord(doc)) fail('policy', 'must be an object');
  onlyFields(doc, TOP_FIELDS, 'policy');
  if (doc['_type'] !== POLICY_TYPE_V1) fail('policy', `'_type' must be ${POLICY_TYPE_V1}`);
  const expires = doc['expires'] instanceof Date ? doc['expires'].toISOString() : doc['expires'];
  if (typeof expires !== 'string' || !isRfc3339(expires)) fail('policy', "'expires' must be an RFC 3339 timestamp");
  if (doc['name'] !== undefined && typeof doc['name'] !== 'string') fail('policy', "'name' must be a string");
  const f = doc['functionaries'];
  if (!isRecord(f) || Object.keys(f).length === 0) fail('policy', "'functionaries' must map names to keys");
  const functionaries = new Map(Object.entries(f).map(([name, v]) => [name, parseFunctionary(name, v, `functionary '${name}'`)]));
  const extra = doc['extraAttestations'] ?? 'ignore';
  if (extra !== 'ignore' && extra !== 'reject') fail('policy', "'extraAttestations' must be ignore or reject");
  const policy: Policy = {
    type: POLICY_TYPE_V1,
    ...(typeof doc['name'] === 'string' ? { name: doc['name'] } : {}),
    expires,
    functionaries,
    steps: parseChecks(doc['steps'], 'step', 'steps'),
    requirements: parseChecks(doc['requirements'], 'requirement', 'requirements'),
    artifact: parseArtifact(doc['artifact']),
    extraAttestations: extra,
    verifiedLevels: stringList(doc['verifiedLevels'], 'verifiedLevels'),
  };
  if (policy.steps.length + policy.requirements.length === 0) fail('policy', 'needs at least one step or requirement');
  checkReferences(policy);
  compileRules(policy);
  return policy;
}
