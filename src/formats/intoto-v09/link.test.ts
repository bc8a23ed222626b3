import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../../core/index.ts';
import { LINK_FIELDS, checkArtifactPath, linkToJson, makeLink, parseLink } from './link.ts';

const H = 'ab'.repeat(32);
const valid = {
  _type: 'link',
  name: 'build',
  materials: { 'src/a.c': { sha256: H } },
  products: { 'dist/a': { sha256: H, sha512: 'CD' } },
  byproducts: { stdout: '', stderr: '', 'return-value': 0 },
  command: ['make', 'all'],
  environment: { workdir: '/w' },
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    return e.code;
  }
}

describe('parseLink', () => {
  describe('when the link is well formed', () => {
    it('reads every field', () => {
      const link = parseLink(valid);
      assert.equal(link.name, 'build');
      assert.deepEqual(link.materials, { 'src/a.c': { sha256: H } });
      assert.deepEqual(link.products['dist/a'], { sha256: H, sha512: 'CD' });
      assert.deepEqual(link.command, ['make', 'all']);
      assert.equal(link.byproducts['return-value'], 0);
    });

    it('re-serializes exactly the reference fields and drops unknown ones', () => {
      const json = linkToJson(parseLink({ ...valid, extra: 1, signatures: [] }));
      assert.deepEqual(Object.keys(json).sort(), [...LINK_FIELDS].sort());
      assert.deepEqual(json, valid);
    });

    it('fills the reference defaults for absent optional fields', () => {
      assert.deepEqual(linkToJson(parseLink({ _type: 'link', name: 'x' })), linkToJson(makeLink({ name: 'x' })));
      assert.deepEqual(linkToJson(makeLink({ name: 'x' })), {
        _type: 'link',
        name: 'x',
        materials: {},
        products: {},
        byproducts: {},
        command: [],
        environment: {},
      });
    });

    it('keeps an artifact named __proto__ as an ordinary path', () => {
      const link = parseLink(JSON.parse(`{"_type":"link","name":"x","products":{"__proto__":{"sha256":"aa"}}}`));
      assert.deepEqual(Object.keys(link.products), ['__proto__']);
      assert.equal(Object.getPrototypeOf(link.products), Object.prototype);
      assert.ok(Object.hasOwn(linkToJson(link)['products'] as object, '__proto__'));
    });
  });

  describe('when the link is malformed', () => {
    const cases: [string, unknown, string][] = [
      ['not an object', [], 'LINK_INVALID'],
      ['wrong _type', { ...valid, _type: 'layout' }, 'LINK_INVALID'],
      ['no name', { ...valid, name: undefined }, 'LINK_INVALID'],
      ['null materials', { ...valid, materials: null }, 'LINK_INVALID'],
      ['hash not hex', { ...valid, products: { a: { sha256: 'xyz' } } }, 'LINK_INVALID'],
      ['hash with newline', { ...valid, products: { a: { sha256: 'ab\n' } } }, 'LINK_INVALID'],
      ['hash dict not an object', { ...valid, products: { a: 'ab' } }, 'LINK_INVALID'],
      ['command not strings', { ...valid, command: ['a', 1] }, 'LINK_INVALID'],
      ['byproducts a list', { ...valid, byproducts: [] }, 'LINK_INVALID'],
      ['absolute path', { ...valid, products: { '/etc/passwd': { sha256: H } } }, 'PATH_INVALID'],
      ['escaping path', { ...valid, materials: { '../x': { sha256: H } } }, 'PATH_INVALID'],
      ['inner .. path', { ...valid, materials: { 'a/../../x': { sha256: H } } }, 'PATH_INVALID'],
    ];
    for (const [what, json, expected] of cases) {
      it(`rejects ${what} with ${expected}`, () => assert.equal(code(() => parseLink(json)), expected));
    }
  });
});

describe('checkArtifactPath', () => {
  it('accepts normalized relative paths', () => {
    for (const p of ['a', 'a/b.c', '.hidden', 'a/..b', 'é/😀', 'a b']) assert.equal(code(() => checkArtifactPath(p)), undefined, p);
  });
  it('refuses absolute, escaping and unnormalized paths', () => {
    for (const p of ['', '/a', '..', '../a', 'a/..', 'a//b', './a', 'a/./b', 'a/', 'a\\b', 'a\0b']) {
      assert.equal(code(() => checkArtifactPath(p)), 'PATH_INVALID', JSON.stringify(p));
    }
  });
});

describe('parseLink on random input', () => {
  it('returns a link or throws an InputError, never anything else', () => {
    const nearValid = fc
      .record({ field: fc.constantFrom(...Object.keys(valid), 'extra'), value: fc.jsonValue() })
      .map(({ field, value }) => ({ ...valid, [field]: value }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearValid), (json) => {
        try {
          const link = parseLink(json);
          // Whatever parses also re-parses to the same thing.
          assert.deepEqual(parseLink(linkToJson(link)), link);
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
          assert.ok(['LINK_INVALID', 'PATH_INVALID'].includes(e.code), e.code);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('checkArtifactPath fast path', () => {
  // The one-regex fast path must accept exactly the paths the segment-by-segment rules accept.
  const segmentRules = (path: string): boolean =>
    path !== '' && !path.startsWith('/') && !path.includes('\0') && !path.includes('\\') && path.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
  it('agrees with the segment rules on random paths', () => {
    const part = fc.constantFrom('a', 'b.c', '.', '..', '...', '', '\\', '\0', 'é', '.x');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 6 }), (parts) => {
        const path = parts.join('/');
        let accepted = true;
        try {
          checkArtifactPath(path);
        } catch {
          accepted = false;
        }
        assert.equal(accepted, segmentRules(path), JSON.stringify(path));
      }),
    );
  });
});
