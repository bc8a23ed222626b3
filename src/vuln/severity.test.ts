import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../core/index.ts';
import { atLeast, scoreCvss } from './severity.ts';

describe('scoreCvss', () => {
  // Scores from FIRST's calculators and the specification documents' examples.
  const cases: [string, number, string][] = [
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8, 'critical'],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1, 'low'],
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4, 'medium'],
    ['CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10, 'critical'],
    ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8, 'high'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0, 'none'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3, 'critical'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N', 0, 'none'],
    ['CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 8.5, 'high'],
    ['AV:N/AC:L/Au:N/C:P/I:P/A:P', 7.5, 'high'],
  ];
  for (const [vector, score, rating] of cases) {
    it(`scores ${vector} as ${score} (${rating})`, () => {
      const s = scoreCvss(vector);
      assert.equal(s.score, score);
      assert.equal(s.rating, rating);
    });
  }
  it('rejects partial, duplicated and unknown vectors', () => {
    for (const bad of ['CVSS:3.1/AV:N', 'CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'CVSS:4.0/AV:N', 'CVSS:5.0/AV:N', 'hello']) {
      assert.throws(() => scoreCvss(bad), (e: unknown) => e instanceof InputError && e.code === 'CVSS_INVALID', bad);
    }
  });
  it('orders ratings', () => {
    assert.ok(atLeast('critical', 'high'));
    assert.ok(!atLeast('medium', 'high'));
  });
});
