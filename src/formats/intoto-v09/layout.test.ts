import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../../core/index.ts';
import { INSPECTION_FIELDS, LAYOUT_FIELDS, STEP_FIELDS, formatExpires, layoutToJson, parseExpires, parseLayout } from './layout.ts';

const KEYID = 'ab'.repeat(32);
const key = { keytype: 'ed25519', scheme: 'ed25519', keyid: KEYID, keyid_hash_algorithms: ['sha256', 'sha512'], keyval: { public: 'cd'.repeat(32) } };
const valid = {
  _type: 'layout',
  expires: '2030-01-02T03:04:05Z',
  readme: 'demo',
  keys: { [KEYID]: key },
  steps: [
    {
      _type: 'step',
      name: 'build',
      expected_materials: [['match', '*', 'with', 'products', 'from', 'clone'], ['DISALLOW', '*']],
      expected_products: [['CREATE', 'dist/*'], ['ALLOW', '*']],
      pubkeys: [KEYID],
      expected_command: ['make'],
      threshold: 1,
    },
  ],
  inspect: [
    {
      _type: 'inspection',
      name: 'untar',
      expected_materials: [['REQUIRE', 'a.tar']],
      expected_products: [],
      run: ['tar', 'xf', 'a.tar'],
    },
  ],
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

describe('parseLayout', () => {
  describe('when the layout is well formed', () => {
    it('reads steps, inspections, rules and keys', () => {
      const layout = parseLayout(valid);
      const build = layout.steps[0];
      assert.equal(build?.name, 'build');
      assert.equal(build.expectedMaterials[0]?.type, 'MATCH');
      assert.equal(build.expectedProducts[0]?.type, 'CREATE');
      assert.deepEqual(layout.inspect[0]?.run, ['tar', 'xf', 'a.tar']);
      assert.deepEqual(layout.keys[KEYID], key);
    });

    it('re-serializes to the identical document, keyword case and key fields included', () => {
      assert.deepEqual(layoutToJson(parseLayout(valid)), valid);
    });

    it('emits exactly the reference fields for layout, steps and inspections', () => {
      const json = layoutToJson(parseLayout({ ...valid, unknown: true }));
      assert.deepEqual(Object.keys(json).sort(), [...LAYOUT_FIELDS].sort());
      assert.deepEqual(Object.keys((json['steps'] as object[])[0] as object).sort(), [...STEP_FIELDS].sort());
      assert.deepEqual(Object.keys((json['inspect'] as object[])[0] as object).sort(), [...INSPECTION_FIELDS].sort());
    });

    it('fills step defaults like the reference (threshold 1, empty lists)', () => {
      const layout = parseLayout({ ...valid, steps: [{ name: 's' }], inspect: [] });
      assert.deepEqual(layoutToJson(layout)['steps'], [
        { _type: 'step', name: 's', expected_materials: [], expected_products: [], pubkeys: [], expected_command: [], threshold: 1 },
      ]);
    });
  });

  describe('when the layout is malformed', () => {
    const step = valid.steps[0] as Record<string, unknown>;
    const cases: [string, unknown][] = [
      ['a link', { ...valid, _type: 'link' }],
      ['no steps', { ...valid, steps: undefined }],
      ['no inspect', { ...valid, inspect: undefined }],
      ['no expires', { ...valid, expires: undefined }],
      ['expires with offset', { ...valid, expires: '2030-01-02T03:04:05+00:00' }],
      ['expires with fraction', { ...valid, expires: '2030-01-02T03:04:05.1Z' }],
      ['expires on Feb 30', { ...valid, expires: '2030-02-30T03:04:05Z' }],
      ['expires at hour 24', { ...valid, expires: '2030-02-01T24:00:00Z' }],
      ['expires in year 0', { ...valid, expires: '0000-01-01T00:00:00Z' }],
      ['readme not a string', { ...valid, readme: 1 }],
      ['duplicate step names', { ...valid, steps: [step, step] }],
      ['inspection named like a step', { ...valid, inspect: [{ ...valid.inspect[0], name: 'build' }] }],
      ['threshold not an integer', { ...valid, steps: [{ ...step, threshold: 1.5 }] }],
      ['threshold a boolean', { ...valid, steps: [{ ...step, threshold: true }] }],
      ['pubkey not hex', { ...valid, steps: [{ ...step, pubkeys: ['xyz'] }] }],
      ['a step _type other than step', { ...valid, steps: [{ ...step, _type: 'inspection' }] }],
      ['a generic rule with two patterns', { ...valid, steps: [{ ...step, expected_products: [['ALLOW', 'a', 'b']] }] }],
      ['an unknown rule', { ...valid, steps: [{ ...step, expected_products: [['PERMIT', 'a']] }] }],
      ['a MATCH without FROM', { ...valid, steps: [{ ...step, expected_products: [['MATCH', 'a', 'WITH', 'PRODUCTS']] }] }],
      ['a MATCH WITH something else', { ...valid, steps: [{ ...step, expected_products: [['MATCH', 'a', 'WITH', 'BYPRODUCTS', 'FROM', 'x']] }] }],
      ['a rule not of strings', { ...valid, steps: [{ ...step, expected_products: [['ALLOW', 1]] }] }],
      ['key id not hex', { ...valid, keys: { nothex: key } }],
      ['a key with a private part', { ...valid, keys: { [KEYID]: { ...key, keyval: { public: 'x', private: 'secret' } } } }],
      ['a key without keyval', { ...valid, keys: { [KEYID]: { keytype: 'ed25519' } } }],
    ];
    for (const [what, json] of cases) {
      it(`rejects ${what} with LAYOUT_INVALID`, () => assert.equal(code(() => parseLayout(json)), 'LAYOUT_INVALID'));
    }
  });
});

describe('expires', () => {
  it('parses the strict form and formats it back', () => {
    const d = parseExpires('2024-02-29T23:59:59Z');
    assert.equal(d.toISOString(), '2024-02-29T23:59:59.000Z');
    assert.equal(formatExpires(d), '2024-02-29T23:59:59Z');
    assert.equal(formatExpires(new Date('2030-01-01T00:00:00.999Z')), '2030-01-01T00:00:00Z');
  });
  it('refuses non-ASCII digits and trailing text', () => {
    assert.equal(code(() => parseExpires('2030-01-01T00:00:00Z\n')), 'LAYOUT_INVALID');
    assert.equal(code(() => parseExpires('٢٠٣٠-01-01T00:00:00Z')), 'LAYOUT_INVALID');
  });
});

describe('parseLayout on random input', () => {
  it('returns a layout or throws an InputError, never anything else', () => {
    const stepFields = ['name', 'expected_materials', 'expected_products', 'pubkeys', 'expected_command', 'threshold', '_type'];
    const nearValid = fc.oneof(
      fc.record({ field: fc.constantFrom(...Object.keys(valid)), value: fc.jsonValue() }).map(({ field, value }) => ({ ...valid, [field]: value })),
      fc
        .record({ field: fc.constantFrom(...stepFields), value: fc.jsonValue() })
        .map(({ field, value }) => ({ ...valid, steps: [{ ...valid.steps[0], [field]: value }] })),
      fc
        .array(fc.oneof(fc.constantFrom('MATCH', 'IN', 'WITH', 'FROM', 'ALLOW', 'products', 'x'), fc.string()), { maxLength: 11 })
        .map((rule) => ({ ...valid, steps: [{ ...valid.steps[0], expected_products: [rule] }] })),
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), nearValid), (json) => {
        try {
          const layout = parseLayout(json);
          assert.deepEqual(parseLayout(layoutToJson(layout)), layout);
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
          assert.equal(e.code, 'LAYOUT_INVALID');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
