import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCelRuntime, jsonToCel } from './cel-environment.ts';
import { DEFAULT_CEL_LIMITS } from './cel-limits.ts';
import type { CelInput } from '@bufbuild/cel';

const VARS = ['x', 'now'];

function input(json: unknown): CelInput {
  const c = jsonToCel(json);
  assert.ok(c.ok);
  return c.value;
}

function evaluate(expr: string, x: unknown, limits = DEFAULT_CEL_LIMITS) {
  const runtime = createCelRuntime(limits);
  return runtime.evaluate(runtime.compile(expr, VARS, 'test'), { x: input(x), now: runtime.timestamp(new Date('2026-06-01T00:00:00Z')) });
}

function assertPolicyInvalid(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => (e as { code?: string }).code === 'POLICY_INVALID');
}

describe('CEL runtime', () => {
  describe('when converting JSON', () => {
    it('leaves out undefined members (absent optional fields)', () => {
      assert.equal(evaluate('!has(x.b) && x.a == 1', { a: 1, b: undefined }).kind, 'true');
    });

    it('makes integral numbers int and others double, objects maps', () => {
      assert.equal(evaluate('x.a == 2 && x.a * 2 == 4 && x.b > 1.4 && x.c.d == "e"', { a: 2, b: 1.5, c: { d: 'e' } }).kind, 'true');
    });

    it('refuses input that is too deep, too large or has too much string content', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = [deep];
      assert.equal(jsonToCel(deep).ok, false);
      assert.equal(jsonToCel(Array.from({ length: 11 }, () => 1), { ...DEFAULT_CEL_LIMITS, maxInputNodes: 10 }).ok, false);
      assert.equal(jsonToCel({ k: 'x'.repeat(50) }, { ...DEFAULT_CEL_LIMITS, maxInputStringChars: 40 }).ok, false);
    });
  });

  describe('when compiling', () => {
    it('rejects unknown variables, syntax errors, long and deeply nested rules', () => {
      const runtime = createCelRuntime();
      assertPolicyInvalid(() => runtime.compile('predicat.x == 1', VARS, 't'));
      assertPolicyInvalid(() => runtime.compile('x ==', VARS, 't'));
      assertPolicyInvalid(() => runtime.compile(`x == "${'a'.repeat(5000)}"`, VARS, 't'));
      assertPolicyInvalid(() => runtime.compile(`${'('.repeat(3000)}1${')'.repeat(3000)} == 1`, VARS, 't'));
      assertPolicyInvalid(() => runtime.compile(Array.from({ length: 600 }, () => 'x').join(' + '), VARS, 't'));
    });

    it('accepts comprehension variables within their scope only', () => {
      const runtime = createCelRuntime();
      runtime.compile('x.all(e, e > 0)', VARS, 't');
      assertPolicyInvalid(() => runtime.compile('x.all(e, e > 0) && e > 0', VARS, 't'));
    });
  });

  describe('when evaluating', () => {
    it('distinguishes true, false, non-bool and errors', () => {
      assert.equal(evaluate('x.a == 1', { a: 1 }).kind, 'true');
      assert.equal(evaluate('x.a == 2', { a: 1 }).kind, 'false');
      assert.equal(evaluate('x.a', { a: 1 }).kind, 'not-bool');
      assert.equal(evaluate('x.missing == 1', { a: 1 }).kind, 'error');
    });

    it('compares times against now', () => {
      assert.equal(evaluate('now - timestamp(x.t) < duration("48h")', { t: '2026-05-31T00:00:00Z' }).kind, 'true');
      assert.equal(evaluate('timestamp(x.t) < now', { t: '2027-01-01T00:00:00Z' }).kind, 'false');
    });

    it('stops nested comprehensions at the cost limit', () => {
      const list = Array.from({ length: 100 }, (_, i) => i);
      const limits = { ...DEFAULT_CEL_LIMITS, maxCost: 5000 };
      const r = evaluate('x.all(a, x.all(b, x.all(c, true)))', list, limits);
      assert.equal(r.kind, 'cost-exceeded');
      assert.ok(r.cost <= 5001);
      assert.equal(evaluate('x.all(a, a >= 0)', list, limits).kind, 'true');
    });

    it('charges concatenation by size, so doubling chains cannot grow without bound', () => {
      const doubling = `[x.s]${'.map(a, a + a)'.repeat(30)}.size() == 1`;
      assert.equal(evaluate(doubling, { s: 'abcdefgh' }).kind, 'cost-exceeded');
      const lists = `[x.l]${'.map(a, a + a)'.repeat(30)}.size() == 1`;
      assert.equal(evaluate(lists, { l: [1, 2, 3] }).kind, 'cost-exceeded');
    });

    it('gives lists built by map and filter ordinary list semantics', () => {
      for (const expr of [
        'x.map(a, a * 2)[1] == 4',
        'x.map(a, a) == [1, 2, 3]',
        '2 in x.map(a, a)',
        'type(x.map(a, a)) == list',
        'x.map(a, a) + x.map(b, b) == [1, 2, 3, 1, 2, 3]',
        '[x.map(a, a)].map(l, l + l)[0].size() == 6',
        'x.map(a, a).map(b, [b]).map(c, c + c)[2] == [3, 3]',
      ]) {
        assert.equal(evaluate(expr, [1, 2, 3]).kind, 'true', expr);
      }
      assert.equal(evaluate('x.map(a, a)[3] == 1', [1, 2, 3]).kind, 'error');
    });

    it('keeps map and filter over long lists linear enough to finish within the default budget', () => {
      const list = Array.from({ length: 20_000 }, (_, i) => i);
      assert.equal(evaluate('x.map(a, a * 2).filter(a, a % 4 == 0).size() == 10000', list).kind, 'true');
    });
  });

  describe('helpers', () => {
    it('digestEquals needs a shared algorithm and equal values', () => {
      assert.equal(evaluate('digestEquals(x.a, x.b)', { a: { sha256: 'ab' }, b: { sha256: 'ab', sha512: 'cd' } }).kind, 'true');
      assert.equal(evaluate('digestEquals(x.a, x.b)', { a: { sha256: 'ab' }, b: { sha256: 'ac' } }).kind, 'false');
      assert.equal(evaluate('digestEquals(x.a, x.b)', { a: { sha256: 'ab' }, b: { sha512: 'ab' } }).kind, 'false');
      assert.equal(evaluate('digestEquals(x.a, 1)', { a: { sha256: 'ab' } }).kind, 'error');
    });

    it('hasSubject finds a descriptor with a matching digest', () => {
      const subjects = [{ name: 'a', digest: { sha256: '11' } }, { name: 'b', digest: { sha256: '22' } }];
      assert.equal(evaluate('hasSubject(x.s, {"sha256": "22"})', { s: subjects }).kind, 'true');
      assert.equal(evaluate('hasSubject(x.s, {"sha256": "33"})', { s: subjects }).kind, 'false');
    });

    it('distinctSigners and countDistinct count distinct values', () => {
      const atts = [{ signers: ['k1', 'k2'] }, { signers: ['k2'] }, { signers: ['k3'] }];
      assert.equal(evaluate('distinctSigners(x) == 3', atts).kind, 'true');
      assert.equal(evaluate('countDistinct(x.map(a, a.signers[0])) == 3', atts).kind, 'true');
      assert.equal(evaluate('countDistinct(["a", "a", "b"]) == 2', null).kind, 'true');
    });
  });
});
