import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseArtifactRuleString } from '../formats/index.ts';
import { evaluateArtifactRules, type ArtifactSets, type RuleEvaluationInput } from './artifact-rules.ts';

const A = { sha256: 'aa' };
const B = { sha256: 'bb' };

function run(
  rules: string[],
  self: ArtifactSets,
  sourceType: 'materials' | 'products' = 'products',
  others: Record<string, ArtifactSets> = {},
): ReturnType<typeof evaluateArtifactRules> {
  const input: RuleEvaluationInput = {
    itemName: 'self',
    sourceType,
    rules: rules.map(parseArtifactRuleString),
    artifacts: self,
    links: { ...others, self },
  };
  return evaluateArtifactRules(input);
}

const consumed = (r: ReturnType<typeof run>): string[][] => r.outcomes.map((o) => [...o.consumed]);

describe('evaluateArtifactRules', () => {
  describe('generic rules', () => {
    const self = { materials: { kept: A, changed: A, gone: A }, products: { kept: A, changed: B, fresh: A } };

    it('CREATE consumes products that are not materials', () => {
      assert.deepEqual(consumed(run(['CREATE *'], self)), [['fresh']]);
    });
    it('DELETE consumes materials that are not products', () => {
      assert.deepEqual(consumed(run(['DELETE *'], self, 'materials')), [['gone']]);
      assert.deepEqual(consumed(run(['DELETE *'], self, 'products')), [[]]);
    });
    it('MODIFY consumes artifacts whose hashes changed', () => {
      assert.deepEqual(consumed(run(['MODIFY *'], self)), [['changed']]);
      assert.deepEqual(consumed(run(['MODIFY *'], self, 'materials')), [['changed']]);
    });
    it('ALLOW consumes whatever its pattern matches', () => {
      assert.deepEqual(consumed(run(['ALLOW *e*'], self)), [['changed', 'fresh', 'kept']]);
    });
    it('DISALLOW fails for every artifact left that it matches, and consumes nothing', () => {
      const r = run(['ALLOW kept', 'DISALLOW *'], self);
      assert.equal(r.passed, false);
      assert.deepEqual(
        r.failures.map((f) => [f.code, f.artifact, f.ruleIndex, f.rule]),
        [
          ['DISALLOWED', 'changed', 1, 'DISALLOW *'],
          ['DISALLOWED', 'fresh', 1, 'DISALLOW *'],
        ],
      );
      assert.deepEqual(r.unconsumed, ['changed', 'fresh']);
    });
    it('REQUIRE needs its literal path in the queue', () => {
      assert.equal(run(['REQUIRE kept'], self).passed, true);
      // A pattern is not a pattern for REQUIRE.
      assert.equal(run(['REQUIRE k*'], self).failures[0]?.code, 'REQUIRED_MISSING');
      // Consumed earlier = not there.
      const r = run(['ALLOW kept', 'REQUIRE kept'], self);
      assert.deepEqual([r.failures[0]?.code, r.failures[0]?.artifact], ['REQUIRED_MISSING', 'kept']);
    });
    it('matches patterns with fnmatch, where * crosses directories', () => {
      const r = run(['ALLOW src/*.c', 'DISALLOW *'], { materials: {}, products: { 'src/a/b.c': A, 'src/x.h': A } });
      assert.deepEqual(r.failures.map((f) => f.artifact), ['src/x.h']);
    });
  });

  describe('rule order', () => {
    const self = { materials: {}, products: { 'a.c': A, 'b.c': A } };
    it('lets an earlier rule consume what a later DISALLOW would catch', () => {
      assert.equal(run(['ALLOW a.c', 'ALLOW b.c', 'DISALLOW *.c'], self).passed, true);
      assert.equal(run(['DISALLOW *.c', 'ALLOW *'], self).passed, false);
    });
    it('records the queue after every rule', () => {
      const r = run(['ALLOW a.c', 'DISALLOW nothing', 'ALLOW *'], self);
      assert.deepEqual(
        r.outcomes.map((o) => o.queueAfter),
        [['b.c'], ['b.c'], []],
      );
    });
    it('reports every failure but names the first as where the reference stops', () => {
      const r = run(['REQUIRE missing', 'DISALLOW a.c', 'REQUIRE also-missing'], self);
      assert.deepEqual(r.failures.map((f) => f.ruleIndex), [0, 1, 2]);
      assert.equal(r.referenceStop?.ruleIndex, 0);
    });
    it('passes with no rules at all', () => {
      assert.equal(run([], self).passed, true);
    });
  });

  describe('MATCH', () => {
    const build = { materials: {}, products: { 'dist/app': A, 'dist/lib': B, 'README': A } };

    it('consumes artifacts whose path and hashes equal the other step’s', () => {
      const self = { materials: { 'dist/app': A, 'dist/lib': A, README: A }, products: {} };
      const r = run(['MATCH dist/* WITH PRODUCTS FROM build', 'DISALLOW *'], self, 'materials', { build });
      assert.deepEqual(r.outcomes[0]?.consumed, ['dist/app']);
      assert.deepEqual(r.failures.map((f) => f.artifact), ['README', 'dist/lib']);
    });

    it('compares hash dicts as a whole (an extra algorithm is a mismatch)', () => {
      const self = { materials: { 'dist/app': { sha256: 'aa', sha512: 'cc' } }, products: {} };
      assert.deepEqual(run(['MATCH * WITH PRODUCTS FROM build'], self, 'materials', { build }).outcomes[0]?.consumed, []);
    });

    it('compares digests as strings (case matters, as in the reference)', () => {
      const self = { materials: { 'dist/app': { sha256: 'AA' } }, products: {} };
      assert.deepEqual(run(['MATCH * WITH PRODUCTS FROM build'], self, 'materials', { build }).outcomes[0]?.consumed, []);
    });

    it('applies the source prefix before globbing and the destination prefix after', () => {
      const self = { materials: { 'in/app': A, 'in/x/app': A, app: A }, products: {} };
      const r = run(['MATCH app IN in WITH PRODUCTS IN dist FROM build'], self, 'materials', { build });
      assert.deepEqual(r.outcomes[0]?.consumed, ['in/app']);
      // The pattern does not glob into the prefix.
      assert.deepEqual(run(['MATCH *app IN in/ WITH PRODUCTS IN dist/ FROM build'], self, 'materials', { build }).outcomes[0]?.consumed, [
        'in/app',
      ]);
    });

    it('matches against materials of the other step when told to', () => {
      const clone = { materials: { 'x.c': A }, products: {} };
      const self = { materials: {}, products: { 'x.c': A } };
      assert.deepEqual(run(['MATCH * WITH MATERIALS FROM clone'], self, 'products', { clone }).outcomes[0]?.consumed, ['x.c']);
      assert.deepEqual(run(['MATCH * WITH PRODUCTS FROM clone'], self, 'products', { clone }).outcomes[0]?.consumed, []);
    });

    it('can match the item against itself', () => {
      const self = { materials: { a: A, b: A }, products: { a: A, b: B } };
      assert.deepEqual(run(['MATCH * WITH MATERIALS FROM self'], self).outcomes[0]?.consumed, ['a']);
    });

    it('consumes nothing when the named step has no link', () => {
      const self = { materials: { a: A }, products: {} };
      const r = run(['MATCH * WITH PRODUCTS FROM nowhere', 'DISALLOW *'], self, 'materials');
      assert.deepEqual(r.outcomes[0]?.consumed, []);
      assert.equal(r.passed, false);
    });

    it('accepts the links as a Map too', () => {
      const self = { materials: { 'dist/app': A }, products: {} };
      const r = evaluateArtifactRules({
        itemName: 'self',
        sourceType: 'materials',
        rules: [parseArtifactRuleString('MATCH * WITH PRODUCTS FROM build')],
        artifacts: self,
        links: new Map([['build', build]]),
      });
      assert.deepEqual(r.outcomes[0]?.consumed, ['dist/app']);
    });

    it('reports the reference’s KeyError case as an unresolvable source path', () => {
      // os.path.join('src', '/x') is '/x': the stripped path of 'src//x' re-joins to a different path.
      const self = { materials: { 'src//x': A }, products: {} };
      const r = run(['MATCH * IN src WITH PRODUCTS FROM build'], self, 'materials', { build });
      assert.deepEqual([r.referenceStop?.code, r.referenceStop?.artifact], ['MATCH_SOURCE_UNRESOLVABLE', '/x']);
    });
  });

  it('treats artifact names like __proto__ and constructor as plain paths', () => {
    const products = JSON.parse('{"__proto__": {"sha256": "aa"}, "constructor": {"sha256": "aa"}}') as Record<string, { sha256: string }>;
    const r = run(['CREATE __proto__', 'DISALLOW *'], { materials: {}, products });
    assert.deepEqual(r.outcomes[0]?.consumed, ['__proto__']);
    assert.deepEqual(r.failures.map((f) => f.artifact), ['constructor']);
  });
});
