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

/** The hash dict of `path`, own properties only (a path may be "__proto__" or "constructor"). */
function own(record: ArtifactPathMap, path: string): DigestSet | undefined {
  return Object.hasOwn(record, path) ? record[path] : undefined;
}

/** Python dict equality of two hash dicts: same algorithms, same digest strings. */
export function hashDictsEqual(a: DigestSet, b: DigestSet): boolean {
  // for-in over own keys: no key arrays for the 20,000 comparisons of a large layout.
  let count = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) continue;
    if (!Object.hasOwn(b, k) || a[k] !== b[k]) return false;
    count++;
  }
  for (const k in b) if (Object.hasOwn(b, k)) count--;
  return count === 0;
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

/**
 * The artifact queue (spec §4.3.3): the item's materials or products not yet consumed, kept as
 * an array in a fixed order. When that order is already sorted (links are written with sorted
 * keys), every list the report holds is a subsequence of it and needs no sorting.
 */
interface Queue {
  items: readonly string[];
  readonly sorted: boolean;
}

function isSorted(items: readonly string[]): boolean {
  for (let i = 1; i < items.length; i++) if (!((items[i - 1] as string) < (items[i] as string))) return false;
  return true;
}

/** What one rule did: paths to consume (with `inQueueOrder` when they are queue items, in queue order) and failures. */
interface Step {
  consumed: readonly string[];
  inQueueOrder: boolean;
  failures: { code: RuleFailureCode; artifact: string; message: string }[];
}

/** verifylib.verify_match_rule. */
function applyMatch(rule: MatchArtifactRule, queue: Queue, source: ArtifactPathMap, links: RuleEvaluationInput['links']): Step {
  const step: Step = { consumed: [], inQueueOrder: true, failures: [] };
  const destLink = lookupLink(links, rule.destName);
  if (destLink === undefined) return step;
  const dest = destLink[rule.destType];
  const match = compileFnmatch(rule.pattern);
  // Filter part 1: strip the source prefix (with a trailing '/') so the pattern cannot glob into it.
  const prefix = rule.sourcePrefix !== '' ? posixJoin(rule.sourcePrefix, '').replaceAll('\\', '/') : '';
  const consumed: string[] = [];
  for (const queued of queue.items) {
    if (prefix !== '' && !queued.startsWith(prefix)) continue;
    const path = prefix !== '' ? queued.slice(prefix.length) : queued;
    // Filter part 2: glob the remaining path.
    if (!match(path)) continue;
    const fullSource = rule.sourcePrefix !== '' ? posixJoin(rule.sourcePrefix, path).replaceAll('\\', '/') : path;
    const fullDest = rule.destPrefix !== '' ? posixJoin(rule.destPrefix, path).replaceAll('\\', '/') : path;
    const sourceHashes = own(source, fullSource);
    if (sourceHashes === undefined) {
      step.failures.push({
        code: 'MATCH_SOURCE_UNRESOLVABLE',
        artifact: fullSource,
        message: `'${ruleToString(rule)}' derived source path '${fullSource}', which is not an artifact`,
      });
      continue;
    }
    const destHashes = own(dest, fullDest);
    // Consume only with a destination artifact of the same path (after prefixes) and equal hashes.
    if (destHashes === undefined || !hashDictsEqual(sourceHashes, destHashes)) continue;
    if (fullSource !== queued) step.inQueueOrder = false;
    consumed.push(fullSource);
  }
  step.consumed = consumed;
  return step;
}

function filterQueue(queue: Queue, pattern: string, also?: (path: string) => boolean): string[] {
  const match = compileFnmatch(pattern);
  const out: string[] = [];
  for (const path of queue.items) if (match(path) && (also === undefined || also(path))) out.push(path);
  return out;
}

function consuming(consumed: string[]): Step {
  return { consumed, inQueueOrder: true, failures: [] };
}

// One rule against the queue (the if/elif chain of verify_item_rules).
function applyRule(rule: ArtifactRule, queue: Queue, input: RuleEvaluationInput): Step {
  const { materials, products } = input.artifacts;
  const text = ruleToString(rule);
  switch (rule.type) {
    case 'MATCH':
      return applyMatch(rule, queue, input.sourceType === 'materials' ? materials : products, input.links);
    case 'CREATE':
      // Products that are not materials.
      return consuming(filterQueue(queue, rule.pattern, (p) => Object.hasOwn(products, p) && !Object.hasOwn(materials, p)));
    case 'DELETE':
      // Materials that are not products.
      return consuming(filterQueue(queue, rule.pattern, (p) => Object.hasOwn(materials, p) && !Object.hasOwn(products, p)));
    case 'MODIFY':
      // Both materials and products, with different hashes.
      return consuming(
        filterQueue(queue, rule.pattern, (p) => {
          const m = own(materials, p);
          const q = own(products, p);
          return m !== undefined && q !== undefined && !hashDictsEqual(m, q);
        }),
      );
    case 'ALLOW':
      return consuming(filterQueue(queue, rule.pattern));
    case 'DISALLOW': {
      const matched = filterQueue(queue, rule.pattern);
      return {
        consumed: [],
        inQueueOrder: true,
        failures: (queue.sorted ? matched : matched.sort()).map((artifact) => ({ code: 'DISALLOWED' as const, artifact, message: `'${text}' matched '${artifact}'` })),
      };
    }
    case 'REQUIRE':
      // REQUIRE takes a literal path, not a pattern (reference issues #152, #193).
      return {
        consumed: [],
        inQueueOrder: true,
        failures: queue.items.includes(rule.pattern)
          ? []
          : [{ code: 'REQUIRED_MISSING' as const, artifact: rule.pattern, message: `'${text}' did not find '${rule.pattern}' among the remaining ${input.sourceType}` }],
      };
  }
}

/** Removes `step.consumed` from the queue; returns the consumed paths sorted and deduplicated. */
function consume(queue: Queue, step: Step): readonly string[] {
  if (step.consumed.length === 0) return [];
  if (step.inQueueOrder) {
    // A subsequence of the queue: one merge pass, no hashing.
    const rest: string[] = [];
    let c = 0;
    for (const path of queue.items) {
      if (c < step.consumed.length && step.consumed[c] === path) c++;
      else rest.push(path);
    }
    queue.items = rest;
    return queue.sorted ? step.consumed : [...step.consumed].sort();
  }
  const consumed = new Set(step.consumed);
  queue.items = queue.items.filter((p) => !consumed.has(p));
  return [...consumed].sort();
}

/** Applies an item's material or product rules in order (verifylib.verify_item_rules). */
export function evaluateArtifactRules(input: RuleEvaluationInput): RuleEvaluation {
  const items = Object.keys(input.sourceType === 'materials' ? input.artifacts.materials : input.artifacts.products);
  const queue: Queue = { items, sorted: isSorted(items) };
  const snapshot = (): readonly string[] => (queue.sorted ? queue.items : [...queue.items].sort());
  const outcomes: RuleOutcome[] = [];
  const failures: RuleFailure[] = [];
  input.rules.forEach((rule, index) => {
    const text = ruleToString(rule);
    const step = applyRule(rule, queue, input);
    const consumed = consume(queue, step);
    const ruleFailures = step.failures.map((f) => ({
      ...f,
      item: input.itemName,
      sourceType: input.sourceType,
      ruleIndex: index,
      rule: text,
    }));
    failures.push(...ruleFailures);
    outcomes.push({ index, rule, text, consumed, failures: ruleFailures, queueAfter: snapshot() });
  });
  return {
    item: input.itemName,
    sourceType: input.sourceType,
    passed: failures.length === 0,
    outcomes,
    failures,
    referenceStop: failures[0],
    unconsumed: snapshot(),
  };
}
