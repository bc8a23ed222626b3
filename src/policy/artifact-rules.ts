// The in-toto artifact-rule engine (spec §4.3.3; verifylib.verify_item_rules of the reference) as
// a pure function over path → digest maps, so it serves v0.9 links and, later, attestation
// subjects and materials alike. Rules consume artifacts from a queue in order, like a firewall;
// only DISALLOW and REQUIRE can fail. Unlike the reference, evaluation does not stop at the first
// failure: every failure is reported, and `referenceStop` says where the reference would stop.
import type { DigestSet } from '../core/index.ts';
import { ruleToString, type ArtifactRule, type ArtifactType, type MatchArtifactRule } from '../formats/index.ts';
import { compileFnmatch } from './fnmatch.ts';

export type ArtifactPathMap = Readonly<Record<string, DigestSet>>;

export interface ArtifactSets {
  readonly materials: ArtifactPathMap;
  readonly products: ArtifactPathMap;
}

export interface RuleEvaluationInput {
  /** Step or inspection whose rules these are. */
  readonly itemName: string;
  /** Which of the item's artifacts the rules are about (expected_materials or expected_products). */
  readonly sourceType: ArtifactType;
  readonly rules: readonly ArtifactRule[];
  /** The item's own materials and products. */
  readonly artifacts: ArtifactSets;
  /**
   * Artifacts of every item a MATCH rule may name (by step or inspection name), usually including
   * this item itself. A MATCH naming an item that is not here consumes nothing (as the reference).
   */
  readonly links: ReadonlyMap<string, ArtifactSets> | Readonly<Record<string, ArtifactSets>>;
}

export type RuleFailureCode =
  /** A DISALLOW rule matched an artifact still in the queue. */
  | 'DISALLOWED'
  /** A REQUIRE rule did not find its artifact in the queue. */
  | 'REQUIRED_MISSING'
  /**
   * A MATCH rule with a source prefix produced a path that is not an artifact (possible only with
   * backslashes or '//' in paths). The reference stops with an internal KeyError.
   */
  | 'MATCH_SOURCE_UNRESOLVABLE';

export interface RuleFailure {
  readonly code: RuleFailureCode;
  readonly item: string;
  readonly sourceType: ArtifactType;
  readonly ruleIndex: number;
  /** The rule as written, e.g. `DISALLOW *`. */
  readonly rule: string;
  readonly artifact: string;
  readonly message: string;
}

export interface RuleOutcome {
  readonly index: number;
  readonly rule: ArtifactRule;
  readonly text: string;
  /** Artifacts this rule removed from the queue, sorted. */
  readonly consumed: readonly string[];
  /** DISALLOW: artifacts it matched; REQUIRE: the missing path. Empty when the rule passed. */
  readonly failures: readonly RuleFailure[];
  /** The queue after this rule, sorted (the reference's RULE_TRACE). */
  readonly queueAfter: readonly string[];
}

export interface RuleEvaluation {
  readonly item: string;
  readonly sourceType: ArtifactType;
  readonly passed: boolean;
  readonly outcomes: readonly RuleOutcome[];
  /** Every failure, in rule order. */
  readonly failures: readonly RuleFailure[];
  /** The first failure: where the reference raises RuleVerificationError. */
  readonly referenceStop: RuleFailure | undefined;
  /** Artifacts no rule consumed (allowed unless a DISALLOW caught them). */
  readonly unconsumed: readonly string[];
}

// A link's artifact maps are read by every MATCH rule that names its step: convert each once.
const maps = new WeakMap<ArtifactPathMap, ReadonlyMap<string, DigestSet>>();

function toMap(record: ArtifactPathMap): ReadonlyMap<string, DigestSet> {
  let map = maps.get(record);
  if (map === undefined) {
    map = new Map(Object.keys(record).map((k) => [k, record[k] as DigestSet]));
    maps.set(record, map);
  }
  return map;
}

/** Python dict equality of two hash dicts: same algorithms, same digest strings. */
export function hashDictsEqual(a: DigestSet, b: DigestSet): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** `os.path.join(a, b)` on POSIX. */
function posixJoin(a: string, b: string): string {
  if (b.startsWith('/')) return b;
  if (a === '' || a.endsWith('/')) return a + b;
  return `${a}/${b}`;
}

function lookupLink(links: RuleEvaluationInput['links'], name: string): ArtifactSets | undefined {
  if (links instanceof Map) return (links as ReadonlyMap<string, ArtifactSets>).get(name);
  const record = links as Readonly<Record<string, ArtifactSets>>;
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

interface MatchResult {
  consumed: Set<string>;
  unresolvable: string[];
}

/** verifylib.verify_match_rule. */
function applyMatch(
  rule: MatchArtifactRule,
  queue: ReadonlySet<string>,
  source: ReadonlyMap<string, DigestSet>,
  links: RuleEvaluationInput['links'],
): MatchResult {
  const result: MatchResult = { consumed: new Set(), unresolvable: [] };
  const destLink = lookupLink(links, rule.destName);
  if (destLink === undefined) return result;
  const dest = toMap(destLink[rule.destType]);
  // Filter part 1: strip the source prefix (with a trailing '/') so the pattern cannot glob into it.
  let candidates: string[];
  if (rule.sourcePrefix !== '') {
    const prefix = posixJoin(rule.sourcePrefix, '').replaceAll('\\', '/');
    candidates = [...queue].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  } else {
    candidates = [...queue];
  }
  // Filter part 2: glob the remaining paths.
  const match = compileFnmatch(rule.pattern);
  for (const path of candidates.filter(match)) {
    const fullSource = rule.sourcePrefix !== '' ? posixJoin(rule.sourcePrefix, path).replaceAll('\\', '/') : path;
    const fullDest = rule.destPrefix !== '' ? posixJoin(rule.destPrefix, path).replaceAll('\\', '/') : path;
    const sourceHashes = source.get(fullSource);
    if (sourceHashes === undefined) {
      result.unresolvable.push(fullSource);
      continue;
    }
    const destHashes = dest.get(fullDest);
    // Consume only with a destination artifact of the same path (after prefixes) and equal hashes.
    if (destHashes === undefined || !hashDictsEqual(sourceHashes, destHashes)) continue;
    result.consumed.add(fullSource);
  }
  return result;
}

function filterQueue(queue: ReadonlySet<string>, pattern: string): string[] {
  return [...queue].filter(compileFnmatch(pattern));
}

interface Step {
  consumed: Iterable<string>;
  failures: { code: RuleFailureCode; artifact: string; message: string }[];
}

// One rule against the queue (the if/elif chain of verify_item_rules).
function applyRule(
  rule: ArtifactRule,
  queue: ReadonlySet<string>,
  input: RuleEvaluationInput,
  materials: ReadonlyMap<string, DigestSet>,
  products: ReadonlyMap<string, DigestSet>,
): Step {
  const text = ruleToString(rule);
  switch (rule.type) {
    case 'MATCH': {
      const source = input.sourceType === 'materials' ? materials : products;
      const { consumed, unresolvable } = applyMatch(rule, queue, source, input.links);
      return {
        consumed,
        failures: unresolvable.map((artifact) => ({
          code: 'MATCH_SOURCE_UNRESOLVABLE' as const,
          artifact,
          message: `'${text}' derived source path '${artifact}', which is not an artifact`,
        })),
      };
    }
    case 'CREATE':
      // Products that are not materials.
      return { consumed: filterQueue(queue, rule.pattern).filter((p) => products.has(p) && !materials.has(p)), failures: [] };
    case 'DELETE':
      // Materials that are not products.
      return { consumed: filterQueue(queue, rule.pattern).filter((p) => materials.has(p) && !products.has(p)), failures: [] };
    case 'MODIFY':
      // Both materials and products, with different hashes.
      return {
        consumed: filterQueue(queue, rule.pattern).filter((p) => {
          const m = materials.get(p);
          const q = products.get(p);
          return m !== undefined && q !== undefined && !hashDictsEqual(m, q);
        }),
        failures: [],
      };
    case 'ALLOW':
      return { consumed: filterQueue(queue, rule.pattern), failures: [] };
    case 'DISALLOW':
      return {
        consumed: [],
        failures: filterQueue(queue, rule.pattern)
          .sort()
          .map((artifact) => ({ code: 'DISALLOWED' as const, artifact, message: `'${text}' matched '${artifact}'` })),
      };
    case 'REQUIRE':
      // REQUIRE takes a literal path, not a pattern (reference issues #152, #193).
      return {
        consumed: [],
        failures: queue.has(rule.pattern)
          ? []
          : [{ code: 'REQUIRED_MISSING' as const, artifact: rule.pattern, message: `'${text}' did not find '${rule.pattern}' among the remaining ${input.sourceType}` }],
      };
  }
}

/** Applies an item's material or product rules in order (verifylib.verify_item_rules). */
export function evaluateArtifactRules(input: RuleEvaluationInput): RuleEvaluation {
  const materials = toMap(input.artifacts.materials);
  const products = toMap(input.artifacts.products);
  const queue = new Set(input.sourceType === 'materials' ? materials.keys() : products.keys());
  const outcomes: RuleOutcome[] = [];
  const failures: RuleFailure[] = [];
  input.rules.forEach((rule, index) => {
    const text = ruleToString(rule);
    const step = applyRule(rule, queue, input, materials, products);
    const consumed = [...new Set(step.consumed)].sort();
    for (const path of consumed) queue.delete(path);
    const ruleFailures = step.failures.map((f) => ({
      ...f,
      item: input.itemName,
      sourceType: input.sourceType,
      ruleIndex: index,
      rule: text,
    }));
    failures.push(...ruleFailures);
    outcomes.push({ index, rule, text, consumed, failures: ruleFailures, queueAfter: [...queue].sort() });
  });
  return {
    item: input.itemName,
    sourceType: input.sourceType,
    passed: failures.length === 0,
    outcomes,
    failures,
    referenceStop: failures[0],
    unconsumed: [...queue].sort(),
  };
}
