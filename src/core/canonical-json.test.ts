// Tests for canonical-json.ts: OLPC canonical JSON byte-for-byte against securesystemslib's
// encode_canonical (differential, on generated values), RFC 8785 JCS against the RFC's examples, and
// properties of both forms.
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, canonicalJsonString, compareCodePoints, jcsBytes, jcsString, parseJson } from './canonical-json.ts';
import { InputError, isCustodyError } from './errors.ts';
import { haveComponents } from '../../test/support/components.ts';

// The system Python carries securesystemslib (Debian python3-securesystemslib, pulled in by in-toto);
// the python3 first on PATH may not.
const PYTHON = '/usr/bin/python3';

const SSLIB_ENCODE = `
import json, sys
from securesystemslib.formats import encode_canonical
out = []
for value in json.loads(sys.stdin.buffer.read().decode('utf-8')):
    try:
        out.append(encode_canonical(value).encode('utf-8').hex())
    except Exception as e:
        out.append('error:' + type(e).__name__)
sys.stdout.write(json.dumps(out))
`;

/** securesystemslib's bytes (hex) for each value, or `error:<Exception>`. */
function sslibEncode(values: unknown[]): string[] {
  const out = execFileSync(PYTHON, ['-c', SSLIB_ENCODE], { input: JSON.stringify(values), encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

function ours(value: unknown): string {
  try {
    return Buffer.from(canonicalJson(value)).toString('hex');
  } catch (e) {
    assert.ok(e instanceof InputError && e.code === 'CANONICAL_JSON_INVALID', String(e));
    return 'error';
  }
}

function expectInvalid(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.code === 'CANONICAL_JSON_INVALID');
}

// Characters that break naive encoders: quotes, backslashes, C0 controls and DEL, the first
// private-use character (sorts after every surrogate pair in UTF-16, before them by code point),
// astral characters, combining marks, U+2028/2029, the BOM and U+FFFF.
const TRICKY = ['"', '\\', '\u0000', '\b', '\t', '\n', '\f', '\r', '\u001f', '\u007f', '/', '\uE000', '\uFFFF', '\uFEFF',
  '\u2028', '\u2029', '😀', '\u{10FFFF}', '\u{1F600}\u0301', 'é', 'e\u0301', 'ß', 'A', 'a', '0', ' ', '\u0080'];

const trickyString = fc.string({
  unit: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TRICKY) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 1 }) }),
  maxLength: 12,
});
const integer = fc.oneof(fc.integer(), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, -1, 1));

/** JSON values canonical JSON can encode: no floats, well-formed strings (optionally without C0 controls). */
function canonicalValue(str: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      str,
      integer,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(str, tie('value'), { maxKeys: 6, noNullPrototype: true }),
    ),
  }));
  return value;
}

// C0 control characters (U+0000..U+001F) replaced: OLPC writes them raw, which JSON.parse refuses.
const withoutControls = trickyString.map((s) => [...s].map((ch) => (ch.charCodeAt(0) < 0x20 ? '·' : ch)).join(''));

/** UTF-8 byte order is code point order: an oracle independent of the implementation's comparator. */
const byCodePoint = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
/** UTF-16 code unit order, as big-endian UTF-16 bytes. */
const byUtf16Units = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf16le').swap16(), Buffer.from(b, 'utf16le').swap16());

describe('canonical-json', () => {
  describe('when encoding as securesystemslib does (OLPC)', () => {
    it('sorts keys, writes no whitespace and escapes only backslash and double quote', () => {
      assert.equal(
        canonicalJsonString({ b: 1, a: [true, false, null, -7], c: 'x"\\/\n\t\u0001é' }),
        '{"a":[true,false,null,-7],"b":1,"c":"x\\"\\\\/\n\t\u0001é"}',
      );
    });

    it('orders keys by code point, not by UTF-16 code unit', () => {
      // U+E000 < U+1F600 by code point, but 0xE000 > 0xD83D (the high surrogate of U+1F600).
      assert.equal(canonicalJsonString({ '😀': 2, '\uE000': 1, '~': 0 }), '{"~":0,"\uE000":1,"😀":2}');
      assert.equal(jcsString({ '😀': 2, '\uE000': 1, '~': 0 }), '{"~":0,"😀":2,"\uE000":1}');
    });

    it('returns UTF-8 bytes', () => {
      assert.deepEqual([...canonicalJson({ k: 'é😀' })], [...Buffer.from('{"k":"é😀"}', 'utf8')]);
    });

    it('writes safe integers, including negative ones, and bigints as digits', () => {
      assert.equal(canonicalJsonString([0, -0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]), '[0,0,-1,9007199254740991,-9007199254740991]');
      assert.equal(canonicalJsonString(123456789012345678901234567890n), '123456789012345678901234567890');
    });

    it('rejects floats, NaN, infinities and integers beyond 2^53 with CANONICAL_JSON_INVALID', () => {
      for (const n of [1.5, -0.25, 1e-7, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e21]) expectInvalid(() => canonicalJsonString(n));
      expectInvalid(() => canonicalJsonString({ a: [1, { b: 0.1 }] }));
    });

    it('rejects lone surrogates in values and in keys', () => {
      for (const s of ['\uD800', 'a\uDC00b', '\uDBFF\uDBFF', '\uDE00\uD83D']) {
        expectInvalid(() => canonicalJsonString(s));
        expectInvalid(() => canonicalJsonString({ [s]: 1 }));
        expectInvalid(() => jcsString(s));
      }
    });

    it('rejects values with no JSON form', () => {
      class Point {
        x = 1;
      }
      for (const v of [undefined, () => 1, Symbol('s'), new Date(0), new Map(), new Point(), [undefined], new Uint8Array(2)]) {
        expectInvalid(() => canonicalJsonString(v));
      }
    });

    it('drops object members whose value is undefined, as JSON.stringify does', () => {
      assert.equal(canonicalJsonString({ a: undefined, b: 2 }), '{"b":2}');
    });

    it('accepts objects without a prototype', () => {
      const o = Object.create(null) as Record<string, unknown>;
      o['z'] = 1;
      o['a'] = 2;
      assert.equal(canonicalJsonString(o), '{"a":2,"z":1}');
    });

    it('refuses nesting deeper than 512 levels with a typed error, not a stack overflow', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 100_000; i++) deep = [deep];
      expectInvalid(() => canonicalJsonString(deep));
      expectInvalid(() => jcsString(deep));
      let ok: unknown = 1;
      for (let i = 0; i < 500; i++) ok = { k: ok };
      assert.ok(canonicalJsonString(ok).startsWith('{"k":{"k":'));
    });
  });

  describe('when compared with securesystemslib encode_canonical', () => {
    it('gives the same bytes for generated values with tricky strings, keys and integers', (t) => {
      if (!haveComponents(t, PYTHON)) return;
      fc.assert(
        fc.property(fc.array(canonicalValue(trickyString), { minLength: 40, maxLength: 40 }), (values) => {
          const theirs = sslibEncode(values);
          values.forEach((value, i) => assert.equal(ours(value), theirs[i], `value ${JSON.stringify(value)}`));
        }),
        { numRuns: 8 },
      );
    });

    it('gives the same bytes for hand-picked edge cases, and refuses floats as it does', (t) => {
      if (!haveComponents(t, PYTHON)) return;
      const values: unknown[] = [
        {},
        [],
        '',
        { '\uE000': 'private use', '\uD83D\uDE00': 'astral', '\uFFFF': 'max BMP', 'Z': 'ascii', '\u00e9': 'latin' },
        { a: { c: [1, { z: null, y: [] }], b: '\\"' } },
        '\u0000\u0001\u001f\u007f"\\',
        -9007199254740991,
        9007199254740991,
        { x: 1.5 },
        [0.5],
      ];
      const theirs = sslibEncode(values);
      assert.deepEqual(values.map(ours), theirs.map((h) => (h.startsWith('error:') ? 'error' : h)));
      assert.equal(theirs[8], 'error:FormatError');
    });
  });

  describe('when checking properties of the OLPC form', () => {
    it('orders members by code point whatever the insertion order (UTF-8 byte order as oracle)', () => {
      fc.assert(
        fc.property(fc.uniqueArray(fc.tuple(trickyString, integer), { selector: ([k]) => k, maxLength: 10 }), (entries) => {
          const expected = `{${[...entries]
            .sort(([a], [b]) => byCodePoint(a, b))
            .map(([k, v]) => `${canonicalJsonString(k)}:${v}`)
            .join(',')}}`;
          assert.equal(canonicalJsonString(Object.fromEntries(entries)), expected);
          assert.equal(canonicalJsonString(Object.fromEntries([...entries].reverse())), expected);
        }),
      );
    });

    it('escapes exactly backslash and double quote, and nothing else', () => {
      fc.assert(
        fc.property(trickyString, (s) => {
          const out = canonicalJsonString(s);
          assert.ok(out.startsWith('"') && out.endsWith('"'));
          const inner = out.slice(1, -1);
          assert.match(inner, /^(?:[^"\\]|\\["\\])*$/su);
          assert.equal(inner.replace(/\\(["\\])/g, '$1'), s);
        }),
      );
    });

    it('accepts every safe integer and nothing that is not an integer', () => {
      fc.assert(
        fc.property(fc.double(), (n) => {
          if (Number.isSafeInteger(n)) assert.equal(BigInt(canonicalJsonString(n)), BigInt(n));
          else expectInvalid(() => canonicalJsonString(n));
        }),
      );
      fc.assert(fc.property(integer, (n) => assert.equal(canonicalJsonString(n), String(n))));
    });

    it('round-trips: JSON.parse of the output deep-equals the input (strings without C0 controls, which OLPC leaves raw)', () => {
      fc.assert(
        fc.property(canonicalValue(withoutControls), (v) => {
          assert.deepStrictEqual(JSON.parse(canonicalJsonString(v)), v);
        }),
      );
    });

    it('is idempotent over parse and re-encode', () => {
      fc.assert(
        fc.property(canonicalValue(withoutControls), (v) => {
          const once = canonicalJsonString(v);
          assert.equal(canonicalJsonString(JSON.parse(once)), once);
        }),
      );
    });
  });

  describe('when encoding as RFC 8785 JCS', () => {
    it('serializes the numbers of RFC 8785 appendix B', () => {
      const cases: [string, string][] = [
        ['0000000000000000', '0'],
        ['8000000000000000', '0'],
        ['0000000000000001', '5e-324'],
        ['8000000000000001', '-5e-324'],
        ['7fefffffffffffff', '1.7976931348623157e+308'],
        ['ffefffffffffffff', '-1.7976931348623157e+308'],
        ['4340000000000000', '9007199254740992'],
        ['c340000000000000', '-9007199254740992'],
        ['4430000000000000', '295147905179352830000'],
        ['44b52d02c7e14af5', '9.999999999999997e+22'],
        ['44b52d02c7e14af6', '1e+23'],
        ['44b52d02c7e14af7', '1.0000000000000001e+23'],
        ['444b1ae4d6e2ef4e', '999999999999999700000'],
        ['444b1ae4d6e2ef4f', '999999999999999900000'],
        ['444b1ae4d6e2ef50', '1e+21'],
        ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
        ['3eb0c6f7a0b5ed8d', '0.000001'],
        ['41b3de4355555553', '333333333.3333332'],
        ['41b3de4355555554', '333333333.33333325'],
        ['41b3de4355555555', '333333333.3333333'],
        ['41b3de4355555556', '333333333.3333334'],
        ['41b3de4355555557', '333333333.33333343'],
        ['becbf647612f3696', '-0.0000033333333333333333'],
        ['43143ff3c1cb0959', '1424953923781206.2'],
      ];
      for (const [bits, expected] of cases) {
        assert.equal(jcsString(Buffer.from(bits, 'hex').readDoubleBE(0)), expected, bits);
      }
    });

    it('rejects NaN and the infinities (RFC 8785 appendix B, §3.2.2.2)', () => {
      for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
        expectInvalid(() => jcsString(Buffer.from(bits, 'hex').readDoubleBE(0)));
      }
    });

    it('sorts members by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
      const input = {
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      };
      assert.equal(
        jcsString(input),
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
          '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
      );
    });

    it('reproduces the RFC 8785 §3.2.4 example byte for byte', () => {
      const input = JSON.parse(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
          ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
      ) as unknown;
      const expected =
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
      assert.equal(jcsString(input), expected);
      // RFC 8785 §3.2.4: the UTF-8 bytes of the result, in hex.
      const rfcHex = `
        7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
        75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
        5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
        65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
        5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
        30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`;
      assert.equal(Buffer.from(jcsBytes(input)).toString('hex'), rfcHex.replace(/\s+/g, ''));
    });

    it('orders members of generated objects by UTF-16 code units (UTF-16BE byte order as oracle)', () => {
      fc.assert(
        fc.property(fc.uniqueArray(fc.tuple(trickyString, integer), { selector: ([k]) => k, maxLength: 10 }), (entries) => {
          const expected = `{${[...entries]
            .sort(([a], [b]) => byUtf16Units(a, b))
            .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
            .join(',')}}`;
          assert.equal(jcsString(Object.fromEntries(entries)), expected);
        }),
      );
    });

    it('round-trips any JSON value and is idempotent', () => {
      fc.assert(
        fc.property(fc.jsonValue({ noUnicodeString: false }), (v) => {
          const once = jcsString(v);
          // JSON has no -0: compare against the value as JSON sees it.
          assert.deepStrictEqual(JSON.parse(once), JSON.parse(JSON.stringify(v)));
          assert.equal(jcsString(JSON.parse(once)), once);
        }),
      );
    });
  });

  describe('when parsing JSON from untrusted text', () => {
    it('parses strings and UTF-8 bytes', () => {
      assert.deepEqual(parseJson('{"a":[1,"é"]}'), { a: [1, 'é'] });
      assert.deepEqual(parseJson(Buffer.from('{"a":[1,"é"]}', 'utf8')), { a: [1, 'é'] });
    });

    it('rejects anything that is not JSON with JSON_INVALID', () => {
      for (const text of ['', '{', '{"a":1,}', "{'a':1}", 'NaN', '[1] x', '\u0000']) {
        assert.throws(() => parseJson(text, 'the thing'), (e: unknown) => e instanceof InputError && e.code === 'JSON_INVALID');
      }
    });

    it('never fails with anything but JSON_INVALID', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.uint8Array()), (input) => {
          try {
            parseJson(input);
          } catch (e) {
            assert.ok(isCustodyError(e) && e.code === 'JSON_INVALID');
          }
        }),
      );
    });
  });
});

describe('parseJson on bytes', () => {
  it('refuses invalid UTF-8 instead of replacing it', () => {
    assert.throws(() => parseJson(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])), (e: unknown) => (e as { code?: string }).code === 'JSON_INVALID');
    assert.deepEqual(parseJson(new TextEncoder().encode('{"é":1}')), { é: 1 });
  });
});

describe('compareCodePoints', () => {
  it('orders by code point like Python, not by UTF-16 unit', () => {
    assert.ok(compareCodePoints('\uFFFF', '\u{1F600}') < 0); // UTF-16 order says the opposite
    assert.ok(compareCodePoints('a', 'a/') < 0);
    assert.ok(compareCodePoints('a.txt', 'a/b') < 0);
    assert.equal(compareCodePoints('same', 'same'), 0);
  });

  it('agrees with comparing arrays of code points (property)', () => {
    const reference = (a: string, b: string): number => {
      const x = Array.from(a, (c) => c.codePointAt(0)!);
      const y = Array.from(b, (c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(reference(a, b)));
      }),
      { numRuns: 5000 },
    );
  });

  it('sorts in that order', () => {
    assert.deepEqual(['\u{1F600}', '\uFFFF', 'b', 'a'].sort(compareCodePoints), ['a', 'b', '\uFFFF', '\u{1F600}']);
  });
});
