// Differential tests: custody's fnmatch, artifact-rule engine, rule parser and parameter
// substitution against the in-toto reference implementation's own code, on randomized inputs.
// Reproduce a failure with CUSTODY_FC_SEED=<seed printed in the assertion message>.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseArtifactRule, type ArtifactRule } from '../../src/formats/index.ts';
import { evaluateArtifactRules, fnmatch, formatPythonTemplate, type ArtifactSets } from '../../src/policy/index.ts';
import { haveReference, oracle, seed } from './reference.ts';

const RUNS = Number(process.env['CUSTODY_DIFF_RUNS'] ?? 1500);

// Small alphabets so that patterns and paths collide often.
const patternChar = fc.constantFrom('*', '?', '[', ']', '!', '-', '^', '\\', '/', 'a', 'b', 'c', 'z', '.', 'é', '😀', '&', '~');
const nameChar = fc.constantFrom('a', 'b', 'c', 'z', '/', '.', '-', '[', ']', '!', '*', '?', '\\', 'é', '😀', '\n');
const bracketPiece = fc.constantFrom('[a-c]', '[!a]', '[]a]', '[!]a]', '[c-a]', '[a-]', '[-a]', '[a-c-e]', '[!b-a]', '[\\]', '[a--c]', '[^a]', '[[]');

const patternArb = fc
  .array(fc.oneof({ weight: 4, arbitrary: patternChar }, { weight: 1, arbitrary: bracketPiece }), { maxLength: 8 })
  .map((parts) => parts.join(''));
const nameArb = fc.array(nameChar, { maxLength: 8 }).map((parts) => parts.join(''));

describe('fnmatch (vs Python fnmatch.fnmatchcase)', () => {
  it('agrees on random patterns and names', (t) => {
    if (!haveReference(t)) return;
    const s = seed();
    const cases = fc.sample(fc.tuple(nameArb, patternArb), { numRuns: RUNS * 4, seed: s });
    const expected = oracle<boolean>('fnmatch', cases);
    cases.forEach(([name, pattern], i) => {
      assert.equal(fnmatch(name, pattern), expected[i], `seed ${s}: fnmatch(${JSON.stringify(name)}, ${JSON.stringify(pattern)})`);
    });
  });
});

// --- artifact rules ---------------------------------------------------------------------------

const segment = fc.constantFrom('a', 'b', 'src', 'dist', 'x.py', 'foo.txt', 'é', '[x]', '*');
const pathArb = fc.oneof(
  {
    weight: 15,
    arbitrary: fc
      .tuple(fc.constantFrom('src', 'src', 'dist', 'a', 'x.py'), fc.array(segment, { minLength: 1, maxLength: 2 }))
      .map(([first, rest]) => [first, ...rest].join('/')),
  },
  { weight: 5, arbitrary: segment },
  // Paths the reference itself would never record, to exercise prefix joining corner cases.
  { weight: 1, arbitrary: fc.constantFrom('src//a', 'src/a\\b', 'src\\a', '/abs', 'src/') },
);
const hashArb = fc.constantFrom({ sha256: 'aa' }, { sha256: 'bb' }, { sha256: 'AA' }, { sha256: 'aa', sha512: 'cc' }, { sha512: 'cc' });
const artifactsArb = fc.dictionary(pathArb, hashArb, { minKeys: 1, maxKeys: 6 });
const setsArb = fc.record({ materials: artifactsArb, products: artifactsArb });

const kw = (word: string): fc.Arbitrary<string> => fc.constantFrom(word, word.toLowerCase(), word[0] + word.slice(1).toLowerCase());
const rulePattern = fc.oneof(patternArb, pathArb, fc.constantFrom('*', 'src/*', '*.py', 'a'));
const prefixArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('src', 'dist', 'src/', 'dist/') },
  { weight: 1, arbitrary: fc.constantFrom('a', 'src\\', '', 'sr') },
);
const genericRuleArb = fc
  .tuple(fc.constantFrom('CREATE', 'DELETE', 'MODIFY', 'ALLOW', 'DISALLOW', 'REQUIRE').chain(kw), rulePattern)
  .map(([k, p]) => [k, p]);
const matchRuleArb = fc
  .tuple(
    kw('MATCH'),
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom('*', '*.py', 'a', 'x.py', '*/*', '[a-c]*') }, { weight: 1, arbitrary: rulePattern }),
    fc.option(prefixArb, { nil: undefined, freq: 2 }),
    fc.constantFrom('MATERIALS', 'PRODUCTS').chain(kw),
    fc.option(prefixArb, { nil: undefined, freq: 2 }),
    fc.constantFrom('self', 'other', 'other', 'absent'),
  )
  .map(([m, pattern, src, type, dest, from]) => {
    const rule = [m, pattern];
    if (src !== undefined) rule.push('IN', src);
    rule.push('WITH', type);
    if (dest !== undefined) rule.push('in', dest);
    rule.push('FROM', from);
    return rule;
  });
const rulesArb = fc.array(fc.oneof({ weight: 1, arbitrary: genericRuleArb }, { weight: 1, arbitrary: matchRuleArb }), { minLength: 1, maxLength: 6 });

interface RulesCase {
  item: string;
  sourceType: 'materials' | 'products';
  rules: string[][];
  links: Record<string, ArtifactSets>;
}
interface RulesAnswer {
  outcome: 'pass' | 'fail' | 'format-error' | 'crash';
  trace: string[][];
  error: string | null;
}

// Often derive the other step's artifacts from this one's: the same paths moved between the
// 'src' and 'dist' prefixes or stripped of their first directory, hashes mostly kept, so MATCH
// rules (with and without prefixes) find partners.
const MOVES = [
  (p: string) => p,
  (p: string) => (p.startsWith('src/') ? `dist/${p.slice(4)}` : p),
  (p: string) => (p.startsWith('dist/') ? `src/${p.slice(5)}` : `src/${p}`),
  (p: string) => (p.includes('/') ? p.slice(p.indexOf('/') + 1) : p),
  (p: string) => `dist/${p}`,
];
const mixed = (self: ArtifactSets) => {
  const entries = [...Object.entries(self.materials), ...Object.entries(self.products)].flatMap(([p, h]) => MOVES.map((m) => [m(p), h] as const));
  return fc
    .tuple(fc.subarray(entries), fc.subarray(entries, { maxLength: 2 }))
    .map(([kept, rehashed]) => Object.fromEntries([...kept, ...rehashed.map(([p]) => [p, { sha256: 'bb' }] as const)]));
};
const otherArb = (self: ArtifactSets) => fc.oneof(setsArb, fc.record({ materials: mixed(self), products: mixed(self) }));

const rulesCaseArb: fc.Arbitrary<RulesCase> = setsArb.chain((self) =>
  fc
    .record({ other: otherArb(self), sourceType: fc.constantFrom('materials' as const, 'products' as const), rules: rulesArb })
    .map(({ other, sourceType, rules }) => ({ item: 'self', sourceType, rules, links: { self, other } })),
);

const sorted = (xs: readonly string[]): string[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

const matchHits = { plain: 0, sourcePrefix: 0, destPrefix: 0 };

function countMatchHits(rules: readonly ArtifactRule[], consumed: readonly (readonly string[])[]): void {
  rules.forEach((rule, i) => {
    if (rule.type !== 'MATCH' || (consumed[i]?.length ?? 0) === 0) return;
    if (rule.sourcePrefix !== '') matchHits.sourcePrefix++;
    if (rule.destPrefix !== '') matchHits.destPrefix++;
    if (rule.sourcePrefix === '' && rule.destPrefix === '') matchHits.plain++;
  });
}

function checkRulesCase(c: RulesCase, expected: RulesAnswer, label: string): void {
  const rules: ArtifactRule[] = c.rules.map((r) => parseArtifactRule(r));
  const links = c.links;
  const result = evaluateArtifactRules({ itemName: c.item, sourceType: c.sourceType, rules, artifacts: links[c.item] as ArtifactSets, links });
  const ours = result.outcomes.map((o) => sorted(o.queueAfter));
  countMatchHits(rules, result.outcomes.map((o) => o.consumed));
  const stop = result.referenceStop;
  switch (expected.outcome) {
    case 'pass':
      assert.equal(stop, undefined, `${label}: reference passes`);
      assert.deepEqual(ours, expected.trace.map(sorted), `${label}: queues`);
      break;
    case 'fail':
      assert.ok(stop !== undefined && stop.code !== 'MATCH_SOURCE_UNRESOLVABLE', `${label}: reference fails a rule`);
      assert.equal(stop.ruleIndex, expected.trace.length, `${label}: failing rule`);
      assert.deepEqual(ours.slice(0, expected.trace.length), expected.trace.map(sorted), `${label}: queues`);
      break;
    case 'crash':
      assert.equal(expected.error, 'KeyError', `${label}: only KeyError is expected, got ${expected.error ?? ''}`);
      assert.equal(stop?.code, 'MATCH_SOURCE_UNRESOLVABLE', `${label}: reference crashes`);
      assert.equal(stop.ruleIndex, expected.trace.length, `${label}: crashing rule`);
      break;
    default:
      assert.fail(`${label}: reference rejected a rule we accepted: ${expected.error ?? ''}`);
  }
}

describe('evaluateArtifactRules (vs verifylib.verify_item_rules)', () => {
  it('consumes, passes and fails exactly as the reference, rule by rule', (t) => {
    if (!haveReference(t)) return;
    const s = seed();
    const cases = fc.sample(rulesCaseArb, { numRuns: RUNS, seed: s });
    const expected = oracle<RulesAnswer>('rules', cases);
    const outcomes = new Set<string>();
    cases.forEach((c, i) => {
      const answer = expected[i] as RulesAnswer;
      outcomes.add(answer.outcome);
      checkRulesCase(c, answer, `seed ${s} case ${i} ${JSON.stringify(c)}`);
    });
    // The generator reaches passes and failures (guards against a vacuous comparison).
    assert.ok(outcomes.has('pass') && outcomes.has('fail'), `outcomes seen: ${[...outcomes].join(',')}`);
    // ... and MATCH rules that consume, with and without prefixes.
    // Mean counts are 1.5-5 % of RUNS each (sourcePrefix about 21 of 1500, seen as low as 13).
    // The bound only guards against a generator that stopped producing them: far below the mean.
    assert.ok(Object.values(matchHits).every((n) => n >= RUNS / 500), `MATCH rules that consumed: ${JSON.stringify(matchHits)}`);
    t.diagnostic(`MATCH rules that consumed: ${JSON.stringify(matchHits)}`);
  });
});

// --- rule parsing ----------------------------------------------------------------------------

const tokenArb = fc.constantFrom('MATCH', 'match', 'Match', 'IN', 'in', 'WITH', 'with', 'FROM', 'from', 'MATERIALS', 'products', 'Products', 'CREATE', 'delete', 'REQUIRE', 'Disallow', 'allow', 'modify', 'x', '*', 'foo', 'İn', 'ſrom');

describe('parseArtifactRule (vs rulelib.unpack_rule)', () => {
  it('accepts and rejects the same rules, with the same fields', (t) => {
    if (!haveReference(t)) return;
    const s = seed();
    const structured = fc.oneof(genericRuleArb, matchRuleArb);
    const cases = fc.sample(fc.oneof(fc.array(tokenArb, { maxLength: 11 }), structured), { numRuns: RUNS, seed: s });
    const expected = oracle<{ ok: boolean; rule?: Record<string, string> }>('unpack', cases);
    cases.forEach((c, i) => {
      const answer = expected[i] as { ok: boolean; rule?: Record<string, string> };
      let ours: ArtifactRule | undefined;
      try {
        ours = parseArtifactRule(c);
      } catch {
        ours = undefined;
      }
      const label = `seed ${s}: ${JSON.stringify(c)}`;
      assert.equal(ours !== undefined, answer.ok, label);
      if (ours === undefined || answer.rule === undefined) return;
      assert.equal(ours.type.toLowerCase(), answer.rule['rule_type'], label);
      assert.equal(ours.pattern, answer.rule['pattern'], label);
      if (ours.type === 'MATCH') {
        assert.deepEqual(
          [ours.sourcePrefix, ours.destType, ours.destPrefix, ours.destName],
          [answer.rule['source_prefix'], answer.rule['dest_type'], answer.rule['dest_prefix'], answer.rule['dest_name']],
          label,
        );
      }
    });
  });
});

// --- parameter substitution ------------------------------------------------------------------

const templatePiece = fc.constantFrom(
  '{', '}', '{{', '}}', 'a', 'x', '{a}', '{b}', '{c-d}', '{missing}', '{0}', '{}', ':', '!', 's', 'r', '<', '>', '^', '=', '0', '5', '.',
  '2', '+', '#', ',', '_', 'é', 'z', '{a:', '{a!', '{b:', ' ', '*', '10', '😀', '{x!', '[', ']', '!}', '{a!s', '{a!s:',
);
const templateArb = fc.array(templatePiece, { maxLength: 8 }).map((p) => p.join(''));
const PARAMS: Record<string, string> = { a: 'xyz', b: 'hé😀lo', 'c-d': '', '0': 'zero' };

describe('formatPythonTemplate (vs str.format(**params))', () => {
  it('produces the same string or the same kind of error', (t) => {
    if (!haveReference(t)) return;
    const s = seed();
    const cases = fc.sample(templateArb, { numRuns: RUNS * 2, seed: s });
    const expected = oracle<{ ok: boolean; value?: string; kind?: string; error?: string }>(
      'format',
      cases.map((c) => [c, PARAMS]),
    );
    const params = new Map(Object.entries(PARAMS));
    let compared = 0;
    cases.forEach((template, i) => {
      const answer = expected[i] as { ok: boolean; value?: string; kind?: string; error?: string };
      const ours = formatPythonTemplate(template, params);
      const label = `seed ${s}: ${JSON.stringify(template)} → python ${JSON.stringify(answer)}, ours ${JSON.stringify(ours)}`;
      if (!ours.ok && ours.kind === 'unsupported') return;
      compared++;
      if (answer.ok) {
        assert.ok(ours.ok, label);
        assert.equal(ours.value, answer.value, label);
      } else {
        assert.ok(!ours.ok, label);
        assert.equal(ours.kind, answer.kind, label);
      }
    });
    assert.ok(compared > cases.length / 2, `only ${compared} of ${cases.length} templates were comparable`);
  });
});
