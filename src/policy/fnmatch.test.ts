import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fnmatch, fnmatchFilter } from './fnmatch.ts';

// Expected values are Python 3.11 fnmatch.fnmatchcase results (the differential test in
// test/intoto-v09 checks many more against the live reference).
const cases: [string, string, boolean][] = [
  ['src/a/b.c', '*', true], // '*' crosses '/'
  ['src/a/b.c', 'src/*.c', true],
  ['src/a/b.c', '*.h', false],
  ['', '*', true],
  ['', '?', false],
  ['ab', '?b', true],
  ['😀b', '?b', true], // one code point
  ['a\nb', 'a?b', true],
  ['.hidden', '*', true],
  ['a', '[abc]', true],
  ['d', '[abc]', false],
  ['d', '[!abc]', true],
  ['b', '[a-c]', true],
  ['-', '[a-]', true],
  ['-', '[-a]', true],
  ['b', '[c-a]', false], // reversed range: never matches
  ['b', '[!c-a]', true], // negated empty range: any character
  [']', '[]]', true],
  [']', '[!]]', false],
  ['[', '[', true], // unterminated '[' is literal
  ['[ab', '[ab', true],
  ['\\', '[\\]', true], // no escaping: backslash is literal
  ['^', '[^a]', true], // '^' is literal, '!' negates
  ['d', '[a-c-e]', false], // second '-' literal
  ['-', '[a-c-e]', true],
  ['x', '[a--c]', false],
  ['A', '[a-z]', false], // case-sensitive
];

describe('fnmatch', () => {
  for (const [name, pattern, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => {
      assert.equal(fnmatch(name, pattern), expected);
    });
  }

  it('filters keeping order', () => {
    assert.deepEqual(fnmatchFilter(['b.c', 'a.h', 'a.c'], '*.c'), ['b.c', 'a.c']);
  });

  it('handles long star-heavy patterns without blowing up', () => {
    const name = 'a'.repeat(5000);
    assert.equal(fnmatch(name, `${'*a'.repeat(50)}b`), false);
  });
});
