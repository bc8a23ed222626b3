import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import { checkLstripPrefixes, childPath, leftStrip, normalizeArtifactPath } from './artifact-paths.ts';

function codeOf(e: unknown): string {
  assert.ok(e instanceof InputError);
  return e.code;
}

/** Any string made of path-ish pieces, including the dangerous ones. */
const pathLike = fc
  .array(fc.oneof(fc.constantFrom('', '.', '..', 'a', 'b.txt', ' ', '\\', '\0', 'é', '\u{1F600}'), fc.string({ maxLength: 4 })), {
    maxLength: 6,
  })
  .chain((parts) => fc.constantFrom(parts.join('/'), `/${parts.join('/')}`, `${parts.join('/')}/`));

describe('normalizeArtifactPath', () => {
  describe('when the path stays inside the base path', () => {
    it("drops '.' and empty segments as os.path.normpath does", () => {
      assert.equal(normalizeArtifactPath('./a//b/./c/'), 'a/b/c');
      assert.equal(normalizeArtifactPath('.'), '.');
      assert.equal(normalizeArtifactPath(''), '.');
      assert.equal(normalizeArtifactPath('./'), '.');
      assert.equal(normalizeArtifactPath('...'), '...');
    });
  });

  describe('when the path could leave the base path', () => {
    for (const bad of ['/abs', '//x', '..', 'a/..', '../a', 'a/../b', 'a\\b', 'x\0y']) {
      it(`refuses ${JSON.stringify(bad)} with PATH_INVALID`, () => {
        assert.throws(() => normalizeArtifactPath(bad), (e) => codeOf(e) === 'PATH_INVALID');
      });
    }
  });

  it('yields a relative path without ., .., empty segments or backslashes, or refuses (property)', () => {
    fc.assert(
      fc.property(pathLike, (input) => {
        let out: string;
        try {
          out = normalizeArtifactPath(input);
        } catch (e) {
          assert.equal(codeOf(e), 'PATH_INVALID');
          const segments = input.split('/');
          assert.ok(input.startsWith('/') || segments.includes('..') || input.includes('\\') || input.includes('\0'));
          return;
        }
        if (out === '.') {
          assert.ok(input.split('/').every((s) => s === '' || s === '.'));
          return;
        }
        assert.ok(!out.startsWith('/'));
        for (const segment of out.split('/')) assert.ok(segment !== '' && segment !== '.' && segment !== '..');
        // Same as Node's POSIX normalize once the trailing slash is dropped.
        assert.equal(out, posix.normalize(input).replace(/\/$/, ''));
        // Idempotent.
        assert.equal(normalizeArtifactPath(out), out);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('childPath', () => {
  it("joins names below '.' without a prefix", () => {
    assert.equal(childPath('.', 'x'), 'x');
    assert.equal(childPath('a/b', 'x'), 'a/b/x');
  });
});

describe('left-stripping', () => {
  it('cuts the first prefix that matches, as a plain string prefix', () => {
    assert.equal(leftStrip('dist/a.js', ['src/', 'dist/']), 'a.js');
    assert.equal(leftStrip('dist/a.js', ['dist']), '/a.js');
    assert.equal(leftStrip('other/a.js', ['dist/']), 'other/a.js');
  });

  it('refuses prefixes where one starts the other (in-toto PrefixError)', () => {
    assert.throws(() => checkLstripPrefixes(['a/', 'a/b/']), (e) => codeOf(e) === 'PATH_CONFLICT');
    assert.throws(() => checkLstripPrefixes(['x', 'x']), (e) => codeOf(e) === 'PATH_CONFLICT');
    checkLstripPrefixes(['a/', 'b/']);
  });
});
