// OSV range evaluation per ecosystem, in each ecosystem's own version order: pre-releases,
// introduced "0", fixed (excluded) vs last_affected (included), several ranges in one entry,
// limit, explicit versions, withdrawn records. Every case runs against both advisory sources
// (in-memory and the SQLite index, which stores per-package match entries). The fast paths
// (SemVer comparison on parsed versions, npm purls read without the general parser) are checked
// against the reference implementations with fast-check.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import semver from 'semver';
import { parseOsvRecord, type OsvRecord } from '../formats/index.ts';
import { packageKeyOfPurl, packageKeyOfPurlGeneral } from './ecosystems.ts';
import { MemoryAdvisories, matchComponents, type AdvisorySource } from './match.ts';
import { OsvDatabase } from './osv-db.ts';
import { compareParsed } from './version-semver.ts';

interface Case {
  ecosystem: string;
  name: string;
  purl: (version: string) => string;
  rangeType: 'SEMVER' | 'ECOSYSTEM';
  /** Two ranges: [introduced "0", fixed F] and [introduced I, last_affected L]. */
  fixed: string;
  introduced: string;
  lastAffected: string;
  /** version → affected? */
  expect: Record<string, boolean>;
}

const CASES: Case[] = [
  {
    ecosystem: 'npm', name: '@scope/pkg', purl: (v) => `pkg:npm/%40scope/pkg@${v}`, rangeType: 'SEMVER',
    fixed: '1.2.0', introduced: '2.0.0-rc.1', lastAffected: '2.1.0',
    expect: { '0.0.0': true, '1.1.9': true, '1.2.0-beta.1': true, '1.2.0': false, '1.9.0': false, '2.0.0-beta.5': false, '2.0.0-rc.1': true, '2.0.0-rc.10': true, '2.0.0': true, '2.1.0': true, '2.1.0+build.7': true, '2.1.1-alpha': false, '2.1.1': false },
  },
  {
    ecosystem: 'crates.io', name: 'smallvec', purl: (v) => `pkg:cargo/smallvec@${v}`, rangeType: 'ECOSYSTEM',
    fixed: '0.6.14', introduced: '1.0.0-alpha.1', lastAffected: '1.6.0',
    expect: { '0.1.0': true, '0.6.14-pre': true, '0.6.14': false, '0.7.0': false, '1.0.0-alpha': false, '1.0.0-alpha.1': true, '1.0.0-beta': true, '1.6.0': true, '1.6.1': false },
  },
  {
    ecosystem: 'Go', name: 'golang.org/x/net', purl: (v) => `pkg:golang/golang.org/x/net@${v}`, rangeType: 'SEMVER',
    fixed: '0.17.0', introduced: '1.0.0-rc.1', lastAffected: '1.1.0',
    expect: { 'v0.0.0-20190101000000-abcdefabcdef': true, 'v0.17.0-pre': true, 'v0.17.0': false, 'v0.18.0': false, 'v1.0.0-beta': false, 'v1.0.0-rc.1': true, 'v1.1.0': true, 'v1.1.0+incompatible': true, 'v1.1.1': false },
  },
  {
    ecosystem: 'PyPI', name: 'Django_Rest', purl: (v) => `pkg:pypi/django-rest@${v}`, rangeType: 'ECOSYSTEM',
    // PEP 440: dev < pre < final < post; a local version sorts after its public version, so it is past last_affected.
    fixed: '2.0', introduced: '3.0rc1', lastAffected: '3.1',
    expect: { '0.1': true, '1.9.9': true, '2.0.dev1': true, '2.0a1': true, '2.0rc1': true, '2.0': false, '2.0.0': false, '2.0.post1': false, '3.0b2': false, '3.0rc1': true, '3.0': true, '3.1.dev0': true, '3.1': true, '3.1+local.1': false, '3.1.post1': false, '3.2': false, '1!0.1': false },
  },
  {
    ecosystem: 'Debian:12', name: 'glibc', purl: (v) => `pkg:deb/debian/libc6@${v}?arch=amd64&distro=debian-12&upstream=glibc`, rangeType: 'ECOSYSTEM',
    fixed: '2.36-9+deb12u4', introduced: '3.0~rc1-1', lastAffected: '3.1-2',
    expect: { '2.31-13': true, '2.36-9+deb12u3': true, '2.36-9+deb12u4': false, '2.36-10': false, '3.0~beta1-1': false, '3.0~rc1-1': true, '3.0-1': true, '3.1-2': true, '3.1-2+b1': false, '3.1-10': false, '1:1.0-1': false },
  },
  {
    ecosystem: 'Ubuntu:22.04:LTS', name: 'openssl', purl: (v) => `pkg:deb/ubuntu/openssl@${v}?arch=amd64&upstream=openssl`, rangeType: 'ECOSYSTEM',
    fixed: '3.0.2-0ubuntu1.10', introduced: '3.1.0~pre1-1', lastAffected: '3.1.0-1',
    expect: { '3.0.2-0ubuntu1.9': true, '3.0.2-0ubuntu1.10': false, '3.1.0~pre0-1': false, '3.1.0~pre1-1': true, '3.1.0-1': true, '3.1.0-1ubuntu1': false },
  },
];

function advisoryFor(c: Case, extra: Record<string, unknown> = {}): OsvRecord {
  return parseOsvRecord({
    id: `TEST-${c.ecosystem.replace(/[^A-Za-z0-9]/g, '')}`,
    modified: '2024-01-01T00:00:00Z',
    affected: [{
      package: { ecosystem: c.ecosystem, name: c.name },
      ranges: [
        { type: c.rangeType, events: [{ introduced: '0' }, { fixed: c.fixed }] },
        { type: c.rangeType, events: [{ introduced: c.introduced }, { last_affected: c.lastAffected }] },
      ],
    }],
    ...extra,
  });
}

function withSources(records: OsvRecord[], body: (source: AdvisorySource, label: string) => void): void {
  body(new MemoryAdvisories(records), 'memory');
  const dir = mkdtempSync(join(tmpdir(), 'custody-ranges-'));
  const db = new OsvDatabase(join(dir, 'osv.sqlite'));
  try {
    db.importRecords(records.map((json, i) => ({ json, where: `#${i}` })));
    body(db, 'sqlite');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function affectedVersions(source: AdvisorySource, c: Case, now?: Date): Record<string, boolean> {
  const versions = Object.keys(c.expect);
  const hit = new Set(matchComponents(source, versions.map((v) => ({ ref: v, name: c.name, purl: c.purl(v) })), now).findings.map((f) => f.component.ref));
  return Object.fromEntries(versions.map((v) => [v, hit.has(v)]));
}

describe('OSV ranges per ecosystem', () => {
  for (const c of CASES) {
    it(`${c.ecosystem}: introduced "0", fixed excluded, pre-releases, last_affected included, two ranges`, () => {
      withSources([advisoryFor(c)], (source, label) => assert.deepEqual(affectedVersions(source, c), c.expect, label));
    });
  }

  it('ignores a withdrawn record from its withdrawal time on, in every ecosystem', () => {
    const records = CASES.map((c) => advisoryFor(c, { withdrawn: '2024-06-01T00:00:00Z' }));
    withSources(records, (source, label) => {
      for (const c of CASES) {
        assert.ok(Object.values(affectedVersions(source, c, new Date('2024-07-01T00:00:00Z'))).every((v) => !v), `${label} ${c.ecosystem} after`);
        assert.deepEqual(affectedVersions(source, c, new Date('2024-05-01T00:00:00Z')), c.expect, `${label} ${c.ecosystem} before`);
      }
    });
  });

  it('applies limit events, explicit versions, and several affected entries of one package', () => {
    const record = parseOsvRecord({
      id: 'TEST-LIMIT', modified: '2024-01-01T00:00:00Z',
      affected: [
        { package: { ecosystem: 'npm', name: 'lim' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { limit: '2.0.0' }] }] },
        { package: { ecosystem: 'npm', name: 'lim' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '3.0.0' }, { limit: '*' }] }], versions: ['2.5.0'] },
      ],
    });
    const c: Case = { ecosystem: 'npm', name: 'lim', purl: (v) => `pkg:npm/lim@${v}`, rangeType: 'SEMVER', fixed: '', introduced: '', lastAffected: '', expect: { '1.9.9': true, '2.0.0': false, '2.5.0': true, '2.5.1': false, '3.0.0': true, '9.0.0': true } };
    withSources([record], (source, label) => assert.deepEqual(affectedVersions(source, c), c.expect, label));
  });

  it('warns about versions that do not parse in the ecosystem order instead of guessing', () => {
    withSources([advisoryFor(CASES[3]!)], (source) => {
      const r = matchComponents(source, [{ ref: 'x', name: 'x', purl: 'pkg:pypi/django-rest@not.a.version!' }]);
      assert.deepEqual(r.findings, []);
      assert.equal(r.warnings.length, 1);
    });
  });
});

describe('fast paths agree with the reference implementations', () => {
  const identifier = fc.oneof(fc.nat({ max: 30 }).map(String), fc.stringMatching(/^[0-9A-Za-z-]{1,6}$/).filter((s) => !/^0\d/.test(s)));
  const version = fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 4 }), fc.nat({ max: 4 }), fc.array(identifier, { maxLength: 3 }), fc.boolean())
    .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre.length > 0 ? `-${pre.join('.')}` : ''}${build ? '+b.1' : ''}`);

  it('compares parsed SemVer versions exactly as semver.compare does', () => {
    fc.assert(fc.property(version, version, (a, b) => {
      assert.equal(Math.sign(compareParsed(semver.parse(a)!, semver.parse(b)!)), semver.compare(a, b), `${a} vs ${b}`);
    }), { numRuns: 3000 });
  });

  it('reads npm purls like packageurl-js does', () => {
    const nameChar = fc.constantFrom(...'abcxyz019-._~ABZ%@/'.split(''));
    const part = fc.array(nameChar, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
    const purl = fc.tuple(fc.option(part), part, fc.option(fc.stringMatching(/^[0-9A-Za-z.+_-]{1,10}$/)), fc.constantFrom('', '?x=1', '#sub', '%40'))
      .map(([scope, name, v, tail]) => `pkg:npm/${scope !== null ? `%40${scope}/` : ''}${name}${v !== null ? `@${v}` : ''}${tail}`);
    fc.assert(fc.property(purl, (p) => {
      assert.deepEqual(packageKeyOfPurl(p), packageKeyOfPurlGeneral(p), p);
    }), { numRuns: 3000 });
    assert.deepEqual(packageKeyOfPurl('pkg:npm/%40babel/core@7.24.0'), { ecosystem: 'npm', name: '@babel/core', version: '7.24.0' });
  });
});
