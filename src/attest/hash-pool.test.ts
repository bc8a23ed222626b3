import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { workerExecArgv } from './hash-pool.ts';

describe('workerExecArgv', () => {
  it('keeps inheriting flags unless --input-type is among them', () => {
    assert.equal(workerExecArgv(['--stack-trace-limit=10']), undefined);
  });

  it('drops --input-type and the eval script, which a worker refuses', () => {
    assert.deepEqual(workerExecArgv(['--input-type=module', '-e', 'code', '--no-warnings']), ['--no-warnings']);
    assert.deepEqual(workerExecArgv(['--input-type', 'module', '--eval=x', '--trace-warnings']), ['--trace-warnings']);
  });
});
