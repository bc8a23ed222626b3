import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseLayout, layoutToJson } from '../formats/index.ts';
import { SubstitutionError, formatPythonTemplate, substituteLayoutParameters } from './layout-parameters.ts';

const params = new Map([
  ['name', 'app'],
  ['v', '1.2'],
]);

const ok = (template: string): string => {
  const r = formatPythonTemplate(template, params);
  assert.ok(r.ok, `${template}: ${JSON.stringify(r)}`);
  return r.value;
};
const kind = (template: string): string => {
  const r = formatPythonTemplate(template, params);
  assert.ok(!r.ok, `${template} should fail`);
  return r.kind;
};

describe('formatPythonTemplate (str.format(**params))', () => {
  it('substitutes named fields and unescapes doubled braces', () => {
    assert.equal(ok('dist/{name}-{v}.tar'), 'dist/app-1.2.tar');
    assert.equal(ok('{{name}}'), '{name}');
    assert.equal(ok('a}}b'), 'a}b');
    assert.equal(ok('no fields'), 'no fields');
  });
  it('applies !s and string format specs', () => {
    assert.equal(ok('{name!s}'), 'app');
    assert.equal(ok('{name:>5}'), '  app');
    assert.equal(ok('{name:*^7}'), '**app**');
    assert.equal(ok('{name:.2}'), 'ap');
    assert.equal(ok('{name:05}'), 'app00');
    assert.equal(ok('{name:}'), 'app');
  });
  it('fails like Python on missing and malformed fields', () => {
    assert.equal(kind('{missing}'), 'missing');
    assert.equal(kind('{'), 'invalid');
    assert.equal(kind('}'), 'invalid');
    assert.equal(kind('{name'), 'invalid');
    assert.equal(kind('{}'), 'invalid');
    assert.equal(kind('{0}'), 'invalid');
    assert.equal(kind('{name:d}'), 'invalid');
    assert.equal(kind('{name:+}'), 'invalid');
    assert.equal(kind('{name!x}'), 'invalid');
  });
  it('refuses forms it does not reproduce', () => {
    for (const t of ['{name.upper}', '{name[0]}', '{name!r}', '{name:{v}}']) assert.equal(kind(t), 'unsupported', t);
  });
});

describe('substituteLayoutParameters', () => {
  const layout = parseLayout({
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: '',
    keys: {},
    steps: [
      {
        name: 'build',
        expected_materials: [['MATCH', '{name}/*', 'WITH', 'PRODUCTS', 'FROM', '{from}']],
        expected_products: [['CREATE', '{name}-{v}.tar']],
        expected_command: ['make', 'VERSION={v}'],
        pubkeys: [],
      },
    ],
    inspect: [{ name: 'check', run: ['tar', 'tf', '{name}-{v}.tar'], expected_materials: [['REQUIRE', '{name}']] }],
  });

  it('substitutes rules, expected commands and inspection commands, and re-parses the rules', () => {
    const out = substituteLayoutParameters(layout, { name: 'app', v: '2', from: 'fetch' });
    const step = out.steps[0];
    assert.ok(step?.expectedMaterials[0]?.type === 'MATCH');
    assert.equal(step.expectedMaterials[0].pattern, 'app/*');
    assert.equal(step.expectedMaterials[0].destName, 'fetch');
    assert.equal(step.expectedProducts[0]?.pattern, 'app-2.tar');
    assert.deepEqual(step.expectedCommand, ['make', 'VERSION=2']);
    assert.deepEqual(out.inspect[0]?.run, ['tar', 'tf', 'app-2.tar']);
    assert.equal(out.inspect[0]?.expectedMaterials[0]?.pattern, 'app');
    // The signed layout itself is untouched.
    assert.equal((layoutToJson(layout)['steps'] as { expected_command: string[] }[])[0]?.expected_command[1], 'VERSION={v}');
  });

  it('throws a SubstitutionError naming the item when a parameter is missing', () => {
    assert.throws(
      () => substituteLayoutParameters(layout, { name: 'app', v: '2' }),
      (e: unknown) => e instanceof SubstitutionError && e.code === 'INPUT_INVALID' && e.kind === 'missing' && e.item === 'build',
    );
  });
});
