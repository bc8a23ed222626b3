import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isCustodyError } from '../core/index.ts';
import { parseRunExternalParameters, parseRunInternalParameters } from './build-type.ts';

const VALID = {
  step: 'build',
  command: ['sh', 'build.sh'],
  source: { uri: 'git+https://example.com/app.git', commit: 'a'.repeat(40), path: 'pkg/app' },
  materials: ['src'],
  products: ['dist'],
  env: { TSC: '/opt/tsc' },
  tools: ['/opt/typescript'],
  hermetic: true,
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!isCustodyError(e)) throw e;
    return e.code;
  }
}

describe('parseRunExternalParameters', () => {
  it('reads valid parameters and keeps extension fields', () => {
    const parsed = parseRunExternalParameters({ ...VALID, extra: 1 });
    assert.deepEqual(parsed.command, ['sh', 'build.sh']);
    assert.equal(parsed.source?.path, 'pkg/app');
    assert.equal(parsed['extra'], 1);
  });

  it('refuses what a rebuilder must not run', () => {
    for (const bad of [
      { ...VALID, command: [] },
      { ...VALID, command: 'sh build.sh' },
      { ...VALID, env: { A: 1 } },
      { ...VALID, hermetic: 'yes' },
      { ...VALID, source: { ...VALID.source, commit: 'HEAD' } },
      { ...VALID, source: { ...VALID.source, uri: 'https://example.com/app.git' } },
      { ...VALID, source: { ...VALID.source, path: '../outside' } },
      { ...VALID, source: { ...VALID.source, path: '/abs' } },
      { ...VALID, step: '' },
      null,
      [],
    ]) {
      assert.equal(code(() => parseRunExternalParameters(bad)), 'PREDICATE_INVALID', JSON.stringify(bad));
    }
  });

  it('never throws anything but PREDICATE_INVALID on arbitrary JSON (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ step: fc.string(), command: fc.array(fc.string()), materials: fc.array(fc.string()), products: fc.array(fc.string()), env: fc.dictionary(fc.string(), fc.string()), tools: fc.array(fc.string()), hermetic: fc.boolean(), source: fc.jsonValue() }, { requiredKeys: [] })), (value) => {
        const c = code(() => parseRunExternalParameters(value));
        assert.ok(c === undefined || c === 'PREDICATE_INVALID');
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseRunInternalParameters', () => {
  it('needs a non-negative integer SOURCE_DATE_EPOCH', () => {
    assert.equal(parseRunInternalParameters({ sourceDateEpoch: 1767225600 }).sourceDateEpoch, 1767225600);
    assert.equal(code(() => parseRunInternalParameters({ sourceDateEpoch: -1 })), 'PREDICATE_INVALID');
    assert.equal(code(() => parseRunInternalParameters({ sourceDateEpoch: 1.5 })), 'PREDICATE_INVALID');
    assert.equal(code(() => parseRunInternalParameters({})), 'PREDICATE_INVALID');
  });
});
