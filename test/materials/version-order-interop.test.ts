// Our version orderings against the reference implementations: dpkg's own
// `dpkg --compare-versions`, and Python's `packaging` (what pip uses for PEP 440).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { haveComponents, requireComponents } from '../support/components.ts';
import { compareDpkg, comparePep440 } from '../../src/vuln/index.ts';

const DEB_PART = fc.array(fc.constantFrom('0', '1', '2', '9', '10', '01', 'a', 'b', 'z', '~', '+', '.', '~~', 'rc', 'deb12u1'), { minLength: 0, maxLength: 5 }).map((p) => p.join(''));
const DEB_VERSION = fc
  .tuple(fc.constantFrom('', '0:', '1:', '2:'), fc.nat(20), DEB_PART, fc.option(fc.tuple(fc.nat(9), DEB_PART), { nil: undefined }))
  .map(([epoch, lead, rest, rev]) => `${epoch}${lead}${rest.replace(/[-:]/g, '')}${rev === undefined ? '' : `-${rev[0]}${rev[1].replace(/[-:]/g, '')}`}`);

describe('compareDpkg against dpkg --compare-versions', () => {
  it('agrees on random Debian versions', (t) => {
    if (!haveComponents(t, 'dpkg')) return;
    fc.assert(
      fc.property(DEB_VERSION, DEB_VERSION, (a, b) => {
        const ours = Math.sign(compareDpkg(a, b));
        const lt = spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0;
        const gt = spawnSync('dpkg', ['--compare-versions', a, 'gt', b]).status === 0;
        assert.equal(ours, lt ? -1 : gt ? 1 : 0, `${a} vs ${b}`);
      }),
      { numRuns: 150 },
    );
  });
});

const PEP_VERSION = fc
  .tuple(
    fc.constantFrom('', '1!'),
    fc.array(fc.nat(12), { minLength: 1, maxLength: 4 }).map((r) => r.join('.')),
    fc.constantFrom('', 'a1', 'b2', 'rc1', 'alpha3', 'c2', '.pre1'),
    fc.constantFrom('', '.post1', '-2', '.rev3'),
    fc.constantFrom('', '.dev0', '.dev5'),
    fc.constantFrom('', '+local.1', '+abc', '+5'),
  )
  .map((parts) => parts.join(''));

describe('comparePep440 against Python packaging', () => {
  it('agrees on random PEP 440 versions', (t) => {
    if (!haveComponents(t, '/usr/bin/python3')) return;
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import packaging.version']);
    if (probe.status !== 0) {
      if (requireComponents) throw new Error('python3-packaging is missing; CUSTODY_REQUIRE_COMPONENTS=1 forbids skipping');
      t.skip('python3 has no packaging module (Debian python3-packaging)');
      return;
    }
    const pairs = fc.sample(fc.tuple(PEP_VERSION, PEP_VERSION), { numRuns: 400, seed: 7 });
    const script = 'import json,sys\nfrom packaging.version import Version as V\nfor a,b in json.load(sys.stdin):\n  x,y=V(a),V(b)\n  print(-1 if x<y else 1 if x>y else 0)';
    const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(pairs), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const theirs = r.stdout.trim().split('\n').map(Number);
    pairs.forEach(([a, b], i) => assert.equal(Math.sign(comparePep440(a, b)), theirs[i], `${a} vs ${b}`));
  });
});
