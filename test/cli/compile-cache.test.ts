// bin/custody.js turns on Node's module compile cache in the user's own cache directory
// ($XDG_CACHE_HOME or ~/.cache), never in a shared place, and stays out of the way when Node's
// own variables say so.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CUSTODY_BIN, tempDir } from '../support/cli.ts';

function run(env: Record<string, string>, cwd?: string): { status: number | null; stdout: string } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE', 'XDG_CACHE_HOME'].includes(k)));
  const r = spawnSync(process.execPath, [CUSTODY_BIN, '--version'], { cwd, env: { ...base, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout };
}

describe('custody compile cache', () => {
  it('is written under $XDG_CACHE_HOME/custody and used by the next run with the same result', () => {
    using cache = tempDir();
    const first = run({ XDG_CACHE_HOME: cache.path });
    assert.equal(first.status, 0);
    const dir = join(cache.path, 'custody', 'node-compile-cache');
    assert.ok(existsSync(dir) && readdirSync(dir).length > 0, 'cache directory filled');
    assert.deepEqual(run({ XDG_CACHE_HOME: cache.path }), first);
  });

  it('keeps its directory private (mode 0700)', () => {
    using cache = tempDir();
    assert.equal(run({ XDG_CACHE_HOME: cache.path }).status, 0);
    for (const d of [join(cache.path, 'custody'), join(cache.path, 'custody', 'node-compile-cache')]) assert.equal(statSync(d).mode & 0o077, 0, d);
  });

  it('is not used from a directory others can write', () => {
    using cache = tempDir();
    const dir = join(cache.path, 'custody', 'node-compile-cache');
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    assert.equal(run({ XDG_CACHE_HOME: cache.path }).status, 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('is not written when NODE_DISABLE_COMPILE_CACHE is set', () => {
    using cache = tempDir();
    assert.equal(run({ XDG_CACHE_HOME: cache.path, NODE_DISABLE_COMPILE_CACHE: '1' }).status, 0);
    assert.equal(existsSync(join(cache.path, 'custody')), false);
  });

  it('ignores a relative XDG_CACHE_HOME and uses ~/.cache (the working directory is no cache)', () => {
    using cwd = tempDir();
    using home = tempDir();
    assert.equal(run({ XDG_CACHE_HOME: 'rel', HOME: home.path }, cwd.path).status, 0);
    assert.equal(existsSync(join(cwd.path, 'rel')), false);
    assert.ok(existsSync(join(home.path, '.cache', 'custody', 'node-compile-cache')));
  });
});
