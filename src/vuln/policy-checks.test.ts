// License policy and dependency-risk checks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../core/index.ts';
import { editDistance, findDependencyRisks, type RiskSubject } from './dependency-risks.ts';
import { evaluateLicenses } from './licenses.ts';

const L = (name: string, license?: string) => ({ ref: name, name, ...(license !== undefined ? { license } : {}) });

describe('evaluateLicenses', () => {
  const verdicts = (allow: string[], deny: string[], items: ReturnType<typeof L>[]): string[] => evaluateLicenses(items, allow, deny).map((r) => `${r.component.name}:${r.verdict}`);
  it('allows expressions satisfiable with allowed licenses, including OR choices and + ranges', () => {
    assert.deepEqual(verdicts(['MIT', 'Apache-2.0', 'GPL-2.0+'], [], [L('a', 'MIT'), L('b', 'GPL-2.0-only OR MIT'), L('c', 'MIT AND BSD-3-Clause'), L('d', 'GPL-3.0-only'), L('e', '(MIT OR Apache-2.0) AND Apache-2.0')]), [
      'a:allowed', 'b:allowed', 'c:not-allowed', 'd:allowed', 'e:allowed',
    ]);
  });
  it('denies only what cannot be avoided', () => {
    assert.deepEqual(verdicts([], ['GPL-3.0-only'], [L('a', 'MIT OR GPL-3.0-only'), L('b', 'MIT AND GPL-3.0-only'), L('c', 'GPL-3.0-only')]), ['a:allowed', 'b:denied', 'c:denied']);
  });
  it('reports missing and non-SPDX licenses as unknown', () => {
    assert.deepEqual(verdicts(['MIT'], [], [L('a'), L('b', 'NOASSERTION'), L('c', 'Some Custom License')]), ['a:unknown', 'b:unknown', 'c:unknown']);
  });
  it('refuses compound or invalid policy entries', () => {
    assert.throws(() => evaluateLicenses([], ['MIT OR ISC'], []), (e: unknown) => e instanceof InputError && e.code === 'USAGE');
    assert.throws(() => evaluateLicenses([], [], ['not a license']), (e: unknown) => e instanceof InputError && e.code === 'USAGE');
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and transpositions', () => {
    assert.equal(editDistance('lodash', 'lodahs', 2), 1);
    assert.equal(editDistance('lodash', 'lodas', 2), 1);
    assert.equal(editDistance('lodash', 'l0dash', 2), 1);
    assert.equal(editDistance('lodash', 'underscore', 2), 3);
  });
});

describe('findDependencyRisks', () => {
  const c = (name: string, extra: Partial<RiskSubject> = {}): RiskSubject => ({ ref: `pkg:npm/${name}@1.0.0`, name, purl: `pkg:npm/${name.replace('@', '%40')}@1.0.0`, hashes: { 'SHA-512': 'aa' }, ...extra });
  it('flags names one edit from another component or an allowlisted name', () => {
    const risks = findDependencyRisks([c('express'), c('expres'), c('lodahs'), c('react'), c('@types/node'), c('@types/nodes')], { allowlist: ['lodash'] });
    assert.deepEqual(risks.filter((r) => r.kind === 'typosquat').map((r) => `${r.component.name}: ${r.detail}`), [
      'expres: name is close to express',
      'express: name is close to expres',
      'lodahs: name is close to allowlisted lodash',
    ]);
  });
  it('flags untrusted registries, internal names from public registries and missing integrity', () => {
    const risks = findDependencyRisks([
      c('evil', { purl: 'pkg:npm/evil@1.0.0?download_url=https%3A%2F%2Fevil.example.com%2Fevil.tgz' }),
      c('@corp/tool'),
      c('@corp/ok', { downloadLocation: 'https://npm.corp.example/@corp/ok/-/ok-1.0.0.tgz' }),
      c('nohash', { hashes: {} }),
    ], { internalPrefixes: ['@corp/'], trustedRegistries: ['registry.npmjs.org', 'npm.corp.example'] });
    assert.deepEqual(risks.map((r) => `${r.kind} ${r.component.name}`), ['dependency-confusion @corp/tool', 'missing-integrity nohash', 'untrusted-registry evil']);
  });
});
