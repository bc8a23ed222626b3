// Version orderings per ecosystem: each list is strictly increasing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import { compareDpkg } from './version-dpkg.ts';
import { comparePep440 } from './version-pep440.ts';
import { compareGo, compareSemver } from './version-semver.ts';

function assertIncreasing(compare: (a: string, b: string) => number, list: string[]): void {
  for (let i = 0; i < list.length; i++) {
    for (let j = 0; j < list.length; j++) {
      const want = Math.sign(i - j);
      assert.equal(Math.sign(compare(list[i]!, list[j]!)), want, `${list[i]} vs ${list[j]}`);
    }
  }
}

describe('compareSemver', () => {
  it('orders pre-releases before their release (SemVer 2.0.0 §11)', () => {
    assertIncreasing(compareSemver, ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0', '2.0.0']);
  });
  it('ignores build metadata and rejects non-versions', () => {
    assert.equal(compareSemver('1.0.0+build.1', '1.0.0'), 0);
    assert.throws(() => compareSemver('1.0', '1.0.0'), (e: unknown) => e instanceof InputError && e.code === 'VERSION_INVALID');
  });
});

describe('compareGo', () => {
  it('orders v-prefixed versions, pseudo-versions and +incompatible', () => {
    assertIncreasing(compareGo, ['v0.0.0-20190101000000-abcdefabcdef', 'v0.1.0', 'v1.2.3-pre', 'v1.2.3', 'v2.0.0+incompatible', 'v2.1.0']);
  });
});

describe('comparePep440', () => {
  it('orders dev, pre, release, post and local versions as packaging does', () => {
    assertIncreasing(comparePep440, [
      '1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345',
      '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.1.dev1', '1!0.1',
    ]);
  });
  it('normalises spellings and ignores trailing zeros', () => {
    assert.equal(comparePep440('1.0', '1.0.0'), 0);
    assert.equal(comparePep440('1.0alpha1', '1.0a1'), 0);
    assert.equal(comparePep440('1.0-1', '1.0.post1'), 0);
    assert.equal(comparePep440('v1.0c1', '1.0rc1'), 0);
    assert.throws(() => comparePep440('not a version', '1'), (e: unknown) => e instanceof InputError && e.code === 'VERSION_INVALID');
  });
});

describe('compareDpkg', () => {
  it('orders epochs, tildes, letters and revisions as dpkg does', () => {
    assertIncreasing(compareDpkg, ['1.0~rc1-1', '1.0-1', '1.0-1+deb12u1', '1.0-2', '1.0a-1', '1.0+dfsg-1', '1.0.1-1', '1.2-1', '1.10-1', '1:0.9-1', '2:0.1-1']);
  });
  it('treats a missing revision as 0 and leading zeros as equal', () => {
    assert.equal(compareDpkg('1.0', '1.0-0'), 0);
    assert.equal(compareDpkg('1.01', '1.1'), 0);
    assert.ok(compareDpkg('1.0~~', '1.0~') < 0);
    assert.throws(() => compareDpkg('a1.0', '1'), (e: unknown) => e instanceof InputError && e.code === 'VERSION_INVALID');
  });
  it('is antisymmetric and never throws anything but VERSION_INVALID on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => {
      try {
        assert.equal(Math.sign(compareDpkg(a, b)) + Math.sign(compareDpkg(b, a)), 0);
      } catch (e) {
        if (!(e instanceof InputError) || e.code !== 'VERSION_INVALID') throw e;
      }
    }), { numRuns: 500 });
  });
});
