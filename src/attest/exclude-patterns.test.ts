import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import { compileExcludePatterns, DEFAULT_EXCLUDE_PATTERNS } from './exclude-patterns.ts';

// [patterns, path, expected]: expected is what pathspec 0.11 (in-toto 1.3.1's matcher) answers,
// taken from it with PathSpec.from_lines('gitwildmatch', patterns).match_files([path]);
// 'PATTERN_INVALID' where pathspec raises. test/interop/record-artifacts.test.ts checks random
// patterns against pathspec itself.
const REFERENCE: [string[], string, boolean | 'PATTERN_INVALID'][] = [
  [["*.link*"], "step.1234abcd.link", true],
  [["*.link*"], "a/b/x.link-unfinished", true],
  [["*.link*"], "linkfile", false],
  [[".git"], ".git", true],
  [[".git"], "a/.git/config", true],
  [[".git"], ".gitignore", false],
  [["*~"], "notes~", true],
  [["*.pyc"], "a/b.pyc", true],
  [["sub/"], "sub", false],
  [["sub/"], "sub/x", true],
  [["sub/"], "a/sub/x", true],
  [["/x"], "x", true],
  [["/x"], "a/x", false],
  [["a/b"], "a/b", true],
  [["a/b"], "z/a/b", false],
  [["a/b"], "a/b/c", true],
  [["a/**/b"], "a/b", true],
  [["a/**/b"], "a/x/y/b", true],
  [["**/b"], "x/b", true],
  [["**"], "anything/at/all", true],
  [["a/**"], "a", false],
  [["a/**"], "a/x", true],
  [["**/"], "file", false],
  [["**/"], "dir/file", true],
  [[".*"], ".", true],
  [["*"], ".", true],
  [[".*"], ".hidden", true],
  [["."], ".", true],
  [["foo "], "foo", true],
  [["  foo"], "foo", true],
  [["\\#x"], "#x", true],
  [["#x"], "#x", false],
  [["!x"], "x", false],
  [["x", "!x"], "x", false],
  [["!x", "x"], "x", true],
  [["[!]a-]"], "b", true],
  [["[!]a-]"], "a", false],
  [["[!]a-]"], "-", false],
  [["[]]"], "]", true],
  [["[^]"], "^", true],
  [["[a-c]x"], "bx", true],
  [["[a-c]x"], "dx", false],
  [["a[/]b"], "a/b", false],
  [["a[!x]b"], "a/b", true],
  [["[[:alpha:]]"], "[:]", false],
  [["[z-a]"], "z", 'PATTERN_INVALID'],
  [["a\\"], "a", 'PATTERN_INVALID'],
  [["x?z"], "x/z", false],
  [["x?z"], "xyz", true],
  [["foo"], "foo\n", true],
  [["foo"], "a/foo\n", true],
  [["*.pyc"], "x.pyc\n", true],
  [["foo"], "foo\r", false],
  [["f*"], "f\nx", true],
  [["\u00e9"], "\u00e9", true],
  [["?"], "\ud83d\ude00", true],
  [["[\ud83d\ude00-\ud83d\ude4f]"], "\ud83d\ude03", true],
  [["a\\*"], "a*", true],
  [["a\\*"], "ab", false],
  [["/"], "x", false],
  [["!"], "x", 'PATTERN_INVALID'],
  [["\u001cfoo"], "foo", true],
  [["\ufefffoo"], "foo", false],
  [["*.js", "!keep.js"], "keep.js", false],
  [["dir", "!dir/a"], "dir/a", false],
];

function matches(patterns: string[], path: string): boolean | string {
  try {
    return compileExcludePatterns(patterns).path(path);
  } catch (e) {
    assert.ok(e instanceof InputError);
    return e.code;
  }
}

describe('compileExcludePatterns', () => {
  describe('when compared with pathspec gitwildmatch', () => {
    for (const [patterns, path, expected] of REFERENCE) {
      it(`${JSON.stringify(patterns)} on ${JSON.stringify(path)} → ${String(expected)}`, () => {
        assert.equal(matches(patterns, path), expected);
      });
    }
  });

  describe('when given no patterns', () => {
    it('excludes nothing (empty strings and comments are no patterns)', () => {
      const m = compileExcludePatterns(['', '# comment', '   ']);
      assert.equal(m.path('anything'), false);
      assert.equal(m.child('.', 'x'), false);
    });
  });

  describe('child()', () => {
    it("checks only the name for in-toto's defaults", () => {
      const m = compileExcludePatterns(DEFAULT_EXCLUDE_PATTERNS);
      assert.equal(m.child('deep/dir', 'x.link'), true);
      assert.equal(m.child('deep/dir', 'keep.txt'), false);
      assert.equal(m.child('.', '.git'), true);
    });

    it('lets the whole path decide below a name with a newline (Python\'s . does not match "\\n")', () => {
      const m = compileExcludePatterns(['*~']);
      assert.equal(m.path('\n./~'), false);
      assert.equal(m.child('\n.', '~'), false);
      assert.equal(m.child('x', '~'), true);
    });

    it('agrees with path() whenever no ancestor directory is excluded (the walk never enters one)', () => {
      const segment = fc.stringMatching(/^[a-c.*~!\-[\]\\?\n]{1,4}$/).filter((s) => s !== '.' && s !== '..');
      const pattern = fc.oneof(
        fc.stringMatching(/^!?\/?[a-c.*?[\]!\\/-]{1,6}\/?$/),
        fc.constantFrom(...DEFAULT_EXCLUDE_PATTERNS, '*', '**/b', 'a/**', '[!a]', 'a*b', '!a'),
      );
      fc.assert(
        fc.property(fc.array(pattern, { minLength: 1, maxLength: 3 }), fc.array(segment, { minLength: 1, maxLength: 4 }), (patterns, segments) => {
          let m;
          try {
            m = compileExcludePatterns(patterns);
          } catch {
            return true; // invalid patterns are covered above
          }
          const ancestors = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('/'));
          if (ancestors.some((a) => m.path(a))) return true;
          const parent = segments.length === 1 ? '.' : segments.slice(0, -1).join('/');
          assert.equal(m.child(parent, segments.at(-1)!), m.path(segments.join('/')));
          return true;
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('when given arbitrary patterns', () => {
    it('either compiles or throws InputError PATTERN_INVALID, never anything else', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ maxLength: 12 }), (pattern, path) => {
          try {
            const m = compileExcludePatterns([pattern]);
            assert.equal(typeof m.path(path), 'boolean');
          } catch (e) {
            assert.ok(e instanceof InputError);
            assert.equal(e.code, 'PATTERN_INVALID');
          }
        }),
        { numRuns: 3000 },
      );
    });
  });
});
