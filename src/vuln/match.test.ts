// Matching components against OSV records: ranges per ecosystem, explicit versions, withdrawn
// records, aliases and severity. The advisories are written here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOsvRecord, type OsvRecord } from '../formats/index.ts';
import { MemoryAdvisories, matchComponents, type ScanComponent } from './match.ts';

function record(json: Record<string, unknown>): OsvRecord {
  return parseOsvRecord({ modified: '2024-01-01T00:00:00Z', ...json });
}

function affected(ecosystem: string, name: string, events: Record<string, string>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { package: { ecosystem, name }, ranges: [{ type: ecosystem === 'npm' || ecosystem === 'crates.io' ? 'SEMVER' : 'ECOSYSTEM', events }], ...extra };
}

const C = (purl: string): ScanComponent => ({ ref: purl, name: purl, purl });

function ids(records: OsvRecord[], purls: string[], now?: Date): string[] {
  return matchComponents(new MemoryAdvisories(records), purls.map(C), now).findings.map((f) => `${f.id} ${f.component.purl ?? ''}`);
}

describe('matchComponents', () => {
  describe('with npm SEMVER ranges', () => {
    const adv = record({ id: 'TEST-1', affected: [affected('npm', 'left-pad', [{ introduced: '0' }, { fixed: '1.3.0' }, { introduced: '2.0.0-beta.1' }, { fixed: '2.0.1' }])] });
    it('handles introduced "0", several ranges in one list and pre-releases', () => {
      assert.deepEqual(ids([adv], ['pkg:npm/left-pad@0.0.1', 'pkg:npm/left-pad@1.2.9', 'pkg:npm/left-pad@1.3.0', 'pkg:npm/left-pad@1.9.9', 'pkg:npm/left-pad@2.0.0-alpha', 'pkg:npm/left-pad@2.0.0-beta.2', 'pkg:npm/left-pad@2.0.0', 'pkg:npm/left-pad@2.0.1']), [
        'TEST-1 pkg:npm/left-pad@0.0.1',
        'TEST-1 pkg:npm/left-pad@1.2.9',
        'TEST-1 pkg:npm/left-pad@2.0.0',
        'TEST-1 pkg:npm/left-pad@2.0.0-beta.2',
      ]);
    });
    it('matches scoped names and reports the fixed versions', () => {
      const scoped = record({ id: 'TEST-2', affected: [affected('npm', '@s/pkg', [{ introduced: '1.0.0' }, { fixed: '1.0.5' }])] });
      const r = matchComponents(new MemoryAdvisories([scoped]), [C('pkg:npm/%40s/pkg@1.0.4')]);
      assert.deepEqual(r.findings.map((f) => f.fixed), [['1.0.5']]);
    });
  });

  describe('with last_affected instead of fixed', () => {
    const adv = record({ id: 'TEST-3', affected: [affected('PyPI', 'Django', [{ introduced: '4.0' }, { last_affected: '4.2.1' }])] });
    it('includes last_affected itself and excludes what follows (PEP 440 order)', () => {
      assert.deepEqual(ids([adv], ['pkg:pypi/django@3.2', 'pkg:pypi/django@4.0rc1', 'pkg:pypi/django@4.0', 'pkg:pypi/django@4.2.1', 'pkg:pypi/django@4.2.1.post1', 'pkg:pypi/django@4.2.2']), ['TEST-3 pkg:pypi/django@4.0', 'TEST-3 pkg:pypi/django@4.2.1']);
    });
  });

  describe('with explicit versions', () => {
    const adv = record({ id: 'TEST-4', affected: [{ package: { ecosystem: 'crates.io', name: 'smallvec' }, versions: ['1.6.0', '0.6.13'] }] });
    it('matches exactly the listed versions', () => {
      assert.deepEqual(ids([adv], ['pkg:cargo/smallvec@1.6.0', 'pkg:cargo/smallvec@1.6.1']), ['TEST-4 pkg:cargo/smallvec@1.6.0']);
    });
  });

  describe('with Go and Debian ecosystems', () => {
    const go = record({ id: 'GO-TEST-1', affected: [{ package: { ecosystem: 'Go', name: 'golang.org/x/text' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.3.8' }] }] }] });
    const deb = record({ id: 'DSA-TEST-1', affected: [affected('Debian:12', 'glibc', [{ introduced: '0' }, { fixed: '2.36-9+deb12u4' }])] });
    it('uses Go versions with the v prefix and dpkg order for source packages of the release', () => {
      assert.deepEqual(ids([go], ['pkg:golang/golang.org/x/text@v0.3.7', 'pkg:golang/golang.org/x/text@v0.3.8']), ['GO-TEST-1 pkg:golang/golang.org/x/text@v0.3.7']);
      assert.deepEqual(ids([deb], [
        'pkg:deb/debian/libc6@2.36-9+deb12u3?arch=amd64&distro=debian-12&upstream=glibc',
        'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc',
        'pkg:deb/debian/libc6@2.31-13?arch=amd64&distro=debian-11&upstream=glibc',
      ]), ['DSA-TEST-1 pkg:deb/debian/libc6@2.36-9+deb12u3?arch=amd64&distro=debian-12&upstream=glibc']);
    });
  });

  describe('with withdrawn records', () => {
    const adv = record({ id: 'TEST-5', withdrawn: '2024-06-01T00:00:00Z', affected: [affected('npm', 'x', [{ introduced: '0' }])] });
    it('ignores them from the withdrawal time on', () => {
      assert.deepEqual(ids([adv], ['pkg:npm/x@1.0.0'], new Date('2024-07-01T00:00:00Z')), []);
      assert.deepEqual(ids([adv], ['pkg:npm/x@1.0.0'], new Date('2024-05-01T00:00:00Z')), ['TEST-5 pkg:npm/x@1.0.0']);
    });
  });

  describe('with records that alias each other', () => {
    const ghsa = record({ id: 'GHSA-aaaa-bbbb-cccc', aliases: ['CVE-2024-0001'], affected: [affected('npm', 'x', [{ introduced: '0' }, { fixed: '2.0.0' }])], database_specific: { severity: 'MODERATE' } });
    const cve = record({ id: 'CVE-2024-0001', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }], affected: [affected('npm', 'x', [{ introduced: '1.0.0' }, { fixed: '2.0.0' }])] });
    it('merges them into one finding with the highest CVSS severity', () => {
      const r = matchComponents(new MemoryAdvisories([ghsa, cve]), [C('pkg:npm/x@1.5.0')]);
      assert.equal(r.findings.length, 1);
      const f = r.findings[0]!;
      assert.equal(f.id, 'CVE-2024-0001');
      assert.deepEqual(f.aliases, ['GHSA-aaaa-bbbb-cccc']);
      assert.deepEqual(f.severity, { rating: 'critical', score: 9.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', source: 'cvss' });
    });
    it('falls back to the database rating when no vector applies', () => {
      const r = matchComponents(new MemoryAdvisories([ghsa, cve]), [C('pkg:npm/x@0.5.0')]);
      assert.deepEqual(r.findings.map((f) => [f.id, f.severity.rating, f.severity.source]), [['GHSA-aaaa-bbbb-cccc', 'medium', 'database']]);
    });
  });

  describe('with components it cannot look up', () => {
    it('reports them as not scanned and warns about unparsable ranges', () => {
      const adv = record({ id: 'TEST-6', affected: [affected('PyPI', 'weird', [{ introduced: '0' }, { fixed: 'not-a-version' }])] });
      const r = matchComponents(new MemoryAdvisories([adv]), [{ ref: 'x', name: 'x' }, C('pkg:generic/thing@1'), C('pkg:pypi/weird@1.0')]);
      assert.equal(r.notScanned.length, 2);
      assert.equal(r.warnings.length, 1);
    });
  });
});
