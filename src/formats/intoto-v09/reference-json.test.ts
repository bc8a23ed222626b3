import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { haveComponents } from '../../../test/support/components.ts';
import { formatLikeReference } from './reference-json.ts';

const PYTHON = '/usr/bin/python3';
const DUMPS = `import json,sys
for line in sys.stdin:
    print(json.dumps(json.dumps(json.loads(line), indent=1, separators=(',', ': '), sort_keys=True)))`;

describe('formatLikeReference', () => {
  it('writes the layout of json.dumps(indent=1, sort_keys=True)', () => {
    assert.equal(formatLikeReference({ b: [1, {}], a: { y: [], x: 'é' } }), '{\n "a": {\n  "x": "\\u00e9",\n  "y": []\n },\n "b": [\n  1,\n  {}\n ]\n}');
  });

  it('sorts keys by code point and escapes like ensure_ascii', () => {
    assert.equal(formatLikeReference({ '\uff5e': 1, '😀': 2 }), '{\n "\\uff5e": 1,\n "\\ud83d\\ude00": 2\n}');
    assert.equal(formatLikeReference('\u0000\u001f\u007f"\\\n\t'), '"\\u0000\\u001f\\u007f\\"\\\\\\n\\t"');
  });

  it('writes floats like Python repr', () => {
    assert.equal(formatLikeReference([0.1, 1e-7, 1e16, 1.5e300, -2.5, 1e-4]), '[\n 0.1,\n 1e-07,\n 1e+16,\n 1.5e+300,\n -2.5,\n 0.0001\n]');
  });

  it('matches Python json.dumps byte for byte on random JSON', (t) => {
    if (!haveComponents(t, PYTHON)) return;
    // Integers beyond 2^53 are excluded: JavaScript cannot tell 1e20 from 100000000000000000000.
    const value = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }).filter((v) => JSON.stringify(v).length < 5000);
    const samples = fc.sample(value, { numRuns: 400 }).filter((v) => !/\d{16,}/.test(JSON.stringify(v)));
    const out = execFileSync(PYTHON, ['-c', DUMPS], { input: samples.map((s) => JSON.stringify(s)).join('\n') + '\n', encoding: 'utf8' });
    const expected = out.trimEnd().split('\n').map((l) => JSON.parse(l) as string);
    assert.equal(expected.length, samples.length);
    samples.forEach((s, i) => assert.equal(formatLikeReference(s), expected[i], JSON.stringify(s)));
  });
});
