import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';

describe('writeFileAtomic', () => {
  it('writes, replaces, sets the mode and creates the parent directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custody-atomic-'));
    try {
      const path = join(dir, 'sub', 'f.key');
      writeFileAtomic(path, 'one', { mode: 0o600 });
      writeFileAtomic(path, new TextEncoder().encode('two'), { mode: 0o600 });
      assert.equal(readFileSync(path, 'utf8'), 'two');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(join(dir, 'sub')), ['f.key'], 'no temporary file left behind');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('fails with FILE_UNREADABLE and leaves nothing behind when the target cannot be written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custody-atomic-'));
    try {
      mkdirSync(join(dir, 'taken'));
      // Renaming a file over a directory fails after the temporary file was written.
      assert.throws(() => writeFileAtomic(join(dir, 'taken'), 'x'), (e: unknown) => (e as { code?: string }).code === 'FILE_UNREADABLE');
      assert.deepEqual(readdirSync(dir), ['taken']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
