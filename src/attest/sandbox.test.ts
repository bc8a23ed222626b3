import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCustodyError } from '../core/index.ts';
import { bwrapArguments, type SandboxSpec } from './sandbox.ts';

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'custody-sandbox-args-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const spec = (dir: string, extra: Partial<SandboxSpec> = {}): SandboxSpec => ({ hostDir: dir, inputs: [], outputs: [], tools: [], env: {}, command: ['true'], ...extra });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!isCustodyError(e)) throw e;
    return e.code;
  }
}

describe('bwrapArguments', () => {
  it('binds inputs read-only and outputs writable under the workdir, parents first, then makes the workdir read-only', () => {
    withDir((dir) => {
      mkdirSync(join(dir, 'src', 'gen'), { recursive: true });
      const args = bwrapArguments(spec(dir, { inputs: ['src'], outputs: ['src/gen/out', 'dist'] }), dir);
      const at = (dest: string): number => args.findIndex((a, i) => a === dest && (args[i - 2] === '--bind' || args[i - 2] === '--ro-bind'));
      assert.equal(args[at('/build/src') - 2], '--ro-bind');
      assert.equal(args[at('/build/dist') - 2], '--bind');
      assert.equal(args[at('/build/src/gen/out') - 2], '--bind');
      assert.ok(at('/build/src') < at('/build/src/gen/out'), 'a writable output inside an input is bound after it');
      assert.ok(existsSync(join(dir, 'dist')), 'missing output directories are created');
      const remount = args.indexOf('--remount-ro');
      assert.equal(args[remount + 1], '/build');
      assert.ok(remount > at('/build/src/gen/out'));
      for (const flag of ['--unshare-all', '--die-with-parent', '--clearenv']) assert.ok(args.includes(flag), flag);
    });
  });

  it('passes exactly the given environment (plus HOME and TMPDIR), after --clearenv', () => {
    withDir((dir) => {
      const args = bwrapArguments(spec(dir, { env: { B: '2', A: '1' } }), dir);
      const set = args.flatMap((a, i) => (a === '--setenv' ? [args[i + 1]] : []));
      assert.deepEqual(set, ['A', 'B', 'HOME', 'TMPDIR']);
      assert.ok(args.indexOf('--clearenv') < args.indexOf('--setenv'));
    });
  });

  it('refuses paths outside the step directory and missing inputs', () => {
    withDir((dir) => {
      assert.equal(code(() => bwrapArguments(spec(dir, { inputs: ['../etc'] }), dir)), 'PATH_INVALID');
      assert.equal(code(() => bwrapArguments(spec(dir, { outputs: ['/tmp/x'] }), dir)), 'PATH_INVALID');
      assert.equal(code(() => bwrapArguments(spec(dir, { inputs: ['missing'] }), dir)), 'FILE_UNREADABLE');
      assert.equal(code(() => bwrapArguments(spec(dir, { tools: ['relative/tool'] }), dir)), 'PATH_INVALID');
      assert.equal(code(() => bwrapArguments(spec(dir, { workdir: '/' }), dir)), 'PATH_INVALID');
      symlinkSync('/etc', join(dir, 'sneaky'));
      assert.equal(code(() => bwrapArguments(spec(dir, { inputs: ['sneaky'] }), dir)), 'PATH_OUTSIDE_BASE');
    });
  });
});
