import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../core/index.ts';
import { parseConfig } from './config.ts';
import { defaultTlogConfig, parseTlogConfig } from './log-config.ts';

const at = (p: string): string => `/base/${p}`;
const invalid = (e: unknown): boolean => e instanceof InputError && e.code === 'INPUT_INVALID';

describe('tlog server configuration', () => {
  it('defaults to an enabled log with no witnesses, and reads every key', () => {
    assert.deepEqual(parseTlogConfig(undefined, at), defaultTlogConfig());
    const c = parseTlogConfig(
      { origin: 'log.example/a', keyFile: 'k', batchIntervalMs: 1000, batchMaxEntries: 10, baseUrl: 'https://log.example/a', witnesses: [{ url: 'http://w', key: 'w+00000000+AA==' }], witnessThreshold: 1 },
      at,
    );
    assert.equal(c.keyFile, '/base/k');
    assert.equal(c.witnessThreshold, 1);
    assert.equal(parseConfig({ tlog: { enabled: false } }, '/x').tlog.enabled, false);
  });

  it('refuses unknown keys, bad origins, bad numbers and a threshold above the witnesses', () => {
    assert.throws(() => parseTlogConfig({ orign: 'x' }, at), invalid);
    assert.throws(() => parseTlogConfig({ origin: 'has space' }, at), invalid);
    assert.throws(() => parseTlogConfig({ origin: 'a+b' }, at), invalid);
    assert.throws(() => parseTlogConfig({ batchMaxEntries: 0 }, at), invalid);
    assert.throws(() => parseTlogConfig({ batchIntervalMs: -1 }, at), invalid);
    assert.throws(() => parseTlogConfig({ witnessThreshold: 1 }, at), invalid);
    assert.throws(() => parseTlogConfig({ witnesses: [{ url: 'http://w' }] }, at), invalid);
  });
});
