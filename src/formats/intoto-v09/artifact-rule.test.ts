import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../core/index.ts';
import { genericRule, matchRule, parseArtifactRule, parseArtifactRuleString, ruleToString, shlexSplit } from './artifact-rule.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    return e.code;
  }
}

describe('parseArtifactRule', () => {
  it('reads every generic rule type, case-insensitively, keeping the original spelling', () => {
    for (const t of ['CREATE', 'delete', 'Modify', 'ALLOW', 'disallow', 'REQUIRE']) {
      const rule = parseArtifactRule([t, 'Src/*.C']);
      assert.equal(rule.type, t.toUpperCase());
      assert.equal(rule.pattern, 'Src/*.C');
      assert.deepEqual(rule.raw, [t, 'Src/*.C']);
    }
  });

  it('reads the four MATCH forms', () => {
    assert.deepEqual(parseArtifactRule(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'build']), {
      type: 'MATCH',
      pattern: '*',
      sourcePrefix: '',
      destType: 'products',
      destPrefix: '',
      destName: 'build',
      raw: ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'build'],
    });
    const full = parseArtifactRule(['match', 'foo', 'in', 'Src', 'with', 'Materials', 'in', 'Dst', 'from', 'Step']);
    assert.equal(full.type, 'MATCH');
    assert.ok(full.type === 'MATCH');
    assert.deepEqual([full.sourcePrefix, full.destType, full.destPrefix, full.destName], ['Src', 'materials', 'Dst', 'Step']);
    const src = parseArtifactRule(['MATCH', 'x', 'IN', 's', 'WITH', 'PRODUCTS', 'FROM', 'a']);
    assert.ok(src.type === 'MATCH' && src.sourcePrefix === 's' && src.destPrefix === '');
    const dst = parseArtifactRule(['MATCH', 'x', 'WITH', 'PRODUCTS', 'IN', 'd', 'FROM', 'a']);
    assert.ok(dst.type === 'MATCH' && dst.sourcePrefix === '' && dst.destPrefix === 'd');
  });

  it('rejects what unpack_rule rejects', () => {
    const bad: unknown[] = [
      'ALLOW *',
      [],
      ['ALLOW'],
      ['ALLOW', '*', '*'],
      ['PERMIT', '*'],
      ['ALLOW', 3],
      ['MATCH', '*'],
      ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM'],
      ['MATCH', '*', 'WITH', 'ARTIFACTS', 'FROM', 'a'],
      ['MATCH', '*', 'FROM', 'a', 'WITH', 'PRODUCTS'],
      ['MATCH', '*', 'IN', 'a', 'WITH', 'PRODUCTS', 'IN', 'b', 'FROM'],
    ];
    for (const rule of bad) assert.equal(code(() => parseArtifactRule(rule)), 'LAYOUT_INVALID', JSON.stringify(rule));
  });
});

describe('building rules', () => {
  it('writes the reference spelling (rulelib.pack_rule)', () => {
    assert.deepEqual(genericRule('ALLOW', '*').raw, ['ALLOW', '*']);
    assert.deepEqual(matchRule({ pattern: '*', destType: 'products', destName: 'b' }).raw, ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'b']);
    assert.deepEqual(matchRule({ pattern: '*', sourcePrefix: 's', destType: 'materials', destPrefix: 'd', destName: 'b' }).raw, [
      'MATCH', '*', 'IN', 's', 'WITH', 'MATERIALS', 'IN', 'd', 'FROM', 'b',
    ]);
    assert.equal(code(() => matchRule({ pattern: '*', destType: 'products', destName: '' })), 'LAYOUT_INVALID');
  });

  it('parses rules written as one string like the reference (shlex)', () => {
    const rule = parseArtifactRuleString('MATCH "dir with space/*" WITH PRODUCTS FROM build');
    assert.equal(rule.pattern, 'dir with space/*');
    assert.equal(ruleToString(rule), 'MATCH dir with space/* WITH PRODUCTS FROM build');
  });
});

describe('shlexSplit', () => {
  it('splits like Python shlex.split', () => {
    assert.deepEqual(shlexSplit(`a  'b c' "d \\" e" f\\ g ''`), ['a', 'b c', 'd " e', 'f g', '']);
    assert.deepEqual(shlexSplit('"a\\b" x"y"z'), ['a\\b', 'xyz']);
    assert.deepEqual(shlexSplit(' \t\n'), []);
  });
  it('refuses unterminated quotes and a trailing backslash', () => {
    assert.equal(code(() => shlexSplit('"abc')), 'INPUT_INVALID');
    assert.equal(code(() => shlexSplit('abc\\')), 'INPUT_INVALID');
  });
});
