// Differential test: the set-based rule engine (artifact-rules.ts) against the engine it
// replaced, a direct transcription of verifylib.verify_item_rules with the general fnmatch
// matcher, kept here verbatim as the model. Both must give the same report for any rules and
// artifacts: consumed lists, queues after each rule, failures and their order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DigestSet } from '../core/index.ts';
import { parseArtifactRuleString, ruleToString, type ArtifactRule, type MatchArtifactRule } from '../formats/index.ts';
import {
  evaluateArtifactRules,
  type ArtifactPathMap,
  type ArtifactSets,
  type RuleEvaluation,
  type RuleEvaluationInput,
  type RuleFailure,
  type RuleFailureCode,
  type RuleOutcome,
} from './artifact-rules.ts';
import { compileFnmatch, compileFnmatchGeneral } from './fnmatch.ts';

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
function hashDictsEqual(a: DigestSet, b: DigestSet): boolean {
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
  const match = compileFnmatchGeneral(rule.pattern);
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
  return [...queue].filter(compileFnmatchGeneral(pattern));
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

/** (original) Applies an item's material or product rules in order (verifylib.verify_item_rules). */
function evaluateOriginal(input: RuleEvaluationInput): RuleEvaluation {
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

// Small alphabets so that paths collide with patterns and with each other's prefixes.
const segment = fc.constantFrom('a', 'b', 'a.c', 'é', '😀', '\ue000', '[x', '10', '9', '__proto__');
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
const odd = fc.constantFrom('src//x', 'a\\b', '/abs');
const digests: fc.Arbitrary<DigestSet> = fc.oneof(
  fc.constantFrom({ sha256: 'aa' }, { sha256: 'bb' }, { sha256: 'AA' }),
  fc.constant({ sha256: 'aa', sha512: 'cc' }),
);
const artifacts = fc.dictionary(fc.oneof({ weight: 9, arbitrary: path }, { weight: 1, arbitrary: odd }), digests, { maxKeys: 8 });
const sets = fc.record({ materials: artifacts, products: artifacts });
const pattern = fc.oneof(
  fc.constantFrom('*', '*.c', 'a/*', '*a*', 'a', 'a/b', '?', '?/*', '[ab]*', '[!a]*', '*/[a-c].c', '😀*', '*\ue000', '[x', '10', '__proto__'),
  path,
);
const prefix = fc.constantFrom('', 'a', 'a/', 'src', 'b/');
const rule = fc.oneof(
  fc.tuple(fc.constantFrom('CREATE', 'DELETE', 'MODIFY', 'ALLOW', 'DISALLOW', 'REQUIRE'), pattern).map(([t, p]) => `${t} ${p}`),
  fc
    .tuple(pattern, prefix, fc.constantFrom('MATERIALS', 'PRODUCTS'), prefix, fc.constantFrom('self', 'other', 'missing'))
    .map(([p, src, type, dst, from]) => `MATCH ${p}${src === '' ? '' : ` IN ${src}`} WITH ${type}${dst === '' ? '' : ` IN ${dst}`} FROM ${from}`),
);

describe('evaluateArtifactRules (differential)', () => {
  it('reports exactly what the original engine reports', () => {
    fc.assert(
      fc.property(sets, sets, fc.array(rule, { maxLength: 5 }), fc.constantFrom('materials' as const, 'products' as const), (self, other, rules, sourceType) => {
        const input: RuleEvaluationInput = {
          itemName: 'self',
          sourceType,
          rules: rules.map(parseArtifactRuleString),
          artifacts: self,
          links: { self, other },
        };
        assert.deepStrictEqual(evaluateArtifactRules(input), evaluateOriginal(input));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees on JSON-parsed (sorted) artifact maps, the shape real links have', () => {
    fc.assert(
      fc.property(sets, fc.array(rule, { maxLength: 4 }), (self, rules) => {
        const sorted = (m: ArtifactPathMap): ArtifactPathMap => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));
        const item = { materials: sorted(self.materials), products: sorted(self.products) };
        const input: RuleEvaluationInput = { itemName: 'self', sourceType: 'products', rules: rules.map(parseArtifactRuleString), artifacts: item, links: { self: item, other: item } };
        assert.deepStrictEqual(evaluateArtifactRules(input), evaluateOriginal(input));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('compileFnmatch fast paths', () => {
  it('do not match half of a surrogate pair', () => {
    // U+10000 is one code point (two UTF-16 units); a pattern's lone surrogate is not part of it.
    for (const p of ['*\udc00', '\ud800*', '*\udc00*']) assert.equal(compileFnmatch(p)('\ud800\udc00'), false, JSON.stringify(p));
    assert.equal(compileFnmatch('*\udc00')('x\udc00'), true);
  });
  it('match exactly what the general matcher matches', () => {
    const unit = fc.constantFrom('a', 'b', '/', '.', '*', '?', '[', ']', '!', '-', 'é', '😀', '\ue000', '\ud800', '\udc00');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 6 }), fc.string({ unit, maxLength: 8 }), (p, name) => {
        assert.equal(compileFnmatch(p)(name), compileFnmatchGeneral(p)(name), `${JSON.stringify(p)} ${JSON.stringify(name)}`);
      }),
      { numRuns: 5000 },
    );
  });
});
