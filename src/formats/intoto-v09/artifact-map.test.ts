// parseArtifactMap checks JSON-parsed maps in place instead of copying them; these tests hold it
// to the copying parser it replaced (kept below as the model): the same maps accepted, the same
// error codes, the same content; and they pin the sharing and the sortedness note it makes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError, type DigestSet } from '../../core/index.ts';
import { canonicalJsonFast } from './canonical-fast.ts';
import { canonicalJson } from '../../core/index.ts';
import { isHexString } from './json-value.ts';
import { checkArtifactPath, parseArtifactMap } from './link.ts';

/** The parser before this change: copy every hash dict into fresh objects. */
function modelParseArtifactMap(value: unknown, where: string): Record<string, DigestSet> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('LINK_INVALID', `${where} must be an object`);
  const out: Record<string, DigestSet> = {};
  for (const path of Object.keys(value)) {
    checkArtifactPath(path, `${where} path`);
    const hashes = (value as Record<string, unknown>)[path];
    if (typeof hashes !== 'object' || hashes === null || Array.isArray(hashes)) throw new InputError('LINK_INVALID', `${where} bad hash dict`);
    const copy: DigestSet = {};
    for (const algorithm of Object.keys(hashes)) {
      const digest = (hashes as Record<string, unknown>)[algorithm];
      if (typeof digest !== 'string' || !/^[0-9a-fA-F]+$/.test(digest)) throw new InputError('LINK_INVALID', `${where} bad digest`);
      Object.defineProperty(copy, algorithm, { value: digest, enumerable: true, writable: true, configurable: true });
    }
    Object.defineProperty(out, path, { value: copy, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function outcome(parse: () => unknown): string {
  try {
    return `ok ${JSON.stringify(parse())}`;
  } catch (e) {
    return `error ${e instanceof InputError ? e.code : String(e)}`;
  }
}

const path = fc.oneof(
  fc.array(fc.constantFrom('a', 'b.c', '10', '9', '__proto__', 'constructor', 'é', '😀', '\ue000', '"q"', 'x\\y'), { minLength: 1, maxLength: 3 }).map((s) => s.join('/')),
  fc.constantFrom('', '/abs', 'a/../b', './a', 'a//b', 'a\0b'),
);
const digest = fc.oneof(fc.constantFrom('ab', 'AB', 'aB09', '0'), fc.constantFrom('', 'xyz', 'ab ', 'é'), fc.constantFrom(1, null, [] as unknown[]));
const hashDict = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(fc.constantFrom('sha256', 'sha512', 'md5', '__proto__'), digest, { minKeys: 1, maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('ab', null, ['ab'], {}) },
);
const artifactMap = fc.dictionary(path, hashDict, { maxKeys: 6 });
const validPath = fc.array(fc.constantFrom('a', 'b.c', '10', '9', '__proto__', 'é', '😀', '\ue000', '"q"'), { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
const validMap = fc.dictionary(validPath, fc.dictionary(fc.constantFrom('sha256', 'sha512', '10', '9'), fc.constantFrom('ab', 'CD'), { minKeys: 1, maxKeys: 3 }), {
  minKeys: 2,
  maxKeys: 6,
});

describe('parseArtifactMap', () => {
  it('accepts and rejects exactly what the copying parser did, with the same content', () => {
    fc.assert(
      fc.property(fc.oneof(artifactMap, fc.jsonValue()), (value) => {
        // Through JSON text, as links arrive (own "__proto__" keys included).
        const json = JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
        assert.equal(outcome(() => parseArtifactMap(json, 'm')), outcome(() => modelParseArtifactMap(json, 'm')));
      }),
      { numRuns: 3000 },
    );
  });

  it('uses a JSON-parsed map as it is, and copies objects of other kinds', () => {
    const parsed = JSON.parse('{"a": {"sha256": "ab"}}') as Record<string, DigestSet>;
    assert.equal(parseArtifactMap(parsed, 'm'), parsed);
    class Digests {
      sha256 = 'ab';
    }
    const odd = { a: new Digests() };
    const result = parseArtifactMap(odd, 'm');
    assert.notEqual(result, odd);
    assert.equal(Object.getPrototypeOf(result['a']), Object.prototype);
    assert.deepEqual({ ...result['a'] }, { sha256: 'ab' });
  });

  it('gives maps whose canonical bytes are the reference bytes, sorted or not', () => {
    fc.assert(
      fc.property(validMap, fc.boolean(), (value, sorted) => {
        const text = JSON.stringify(sorted ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))) : value);
        const map = parseArtifactMap(JSON.parse(text), 'm');
        assert.deepEqual(canonicalJsonFast({ materials: map }), canonicalJson({ materials: map }));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isHexString', () => {
  it('is /^[0-9a-fA-F]+$/', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('0', '9', 'a', 'f', 'A', 'F', 'g', 'G', '/', ':', '@', '`', ' ', '\n', 'é', '\u0660', '😀') }), (s) => {
        assert.equal(isHexString(s), /^[0-9a-fA-F]+$/.test(s), JSON.stringify(s));
      }),
      { numRuns: 3000 },
    );
  });
});
