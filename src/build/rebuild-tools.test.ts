// Which recorded toolchain paths a rebuilder binds into its sandbox.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecordedTools } from './rebuild.ts';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe('checkRecordedTools', () => {
  describe('when the operator names no tool paths', () => {
    it('refuses tools under host-state roots such as /etc, and accepts /usr/bin', () => {
      assert.throws(() => checkRecordedTools(['/etc/passwd']), code('PATH_INVALID'));
      assert.doesNotThrow(() => checkRecordedTools(['/usr/bin/env']));
    });
    it('refuses a tool this rebuilder does not have', () => {
      assert.throws(() => checkRecordedTools(['/usr/bin/no-such-tool-here']), code('FILE_UNREADABLE'));
    });
  });
  describe('when the operator names tool paths (--allow-tool)', () => {
    it('accepts only tools under them, and they override the built-in refusals', () => {
      assert.doesNotThrow(() => checkRecordedTools(['/etc/passwd'], ['/etc/passwd']));
      assert.throws(() => checkRecordedTools(['/usr/bin/env'], ['/etc']), code('PATH_INVALID'));
    });
  });
});
