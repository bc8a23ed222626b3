// Parsers of untrusted input in src/tuf: times, durations, target paths, role names, metadata.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetadataKind } from '@tufjs/models';
import { checkRoleName, checkTargetPath, formatTufTime, parseDuration, parseMetadata, parseReferenceTime, parseTufTime } from '../../src/tuf/index.ts';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? 'UNTYPED';
  }
};

describe('TUF input parsing', () => {
  it('formats and parses strict times round trip', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const text = formatTufTime(d);
        assert.match(text, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        assert.equal(parseTufTime(text, 't').getTime(), Math.floor(d.getTime() / 1000) * 1000);
      }),
    );
    assert.equal(code(() => parseTufTime('2026-01-01T00:00:00.5Z', 't')), 'REPOSITORY_INVALID');
    assert.equal(code(() => parseTufTime('2026-01-01T00:00:00+00:00', 't')), 'REPOSITORY_INVALID');
  });

  it('refuses anything but typed errors on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        for (const fn of [() => parseReferenceTime(s), () => parseDuration(s), () => checkTargetPath(s), () => checkRoleName(s), () => parseTufTime(s, 'x')]) {
          const c = code(fn);
          assert.ok(c === undefined || ['USAGE', 'PATH_INVALID', 'REPOSITORY_INVALID'].includes(c), c);
        }
      }),
    );
    assert.equal(parseDuration('2w'), 14 * 86400);
    assert.equal(code(() => checkTargetPath('a/../b')), 'PATH_INVALID');
    assert.equal(code(() => checkTargetPath('/etc/passwd')), 'PATH_INVALID');
    assert.equal(code(() => checkRoleName('../x')), 'USAGE');
  });

  it('parses arbitrary JSON as metadata only into typed errors', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(MetadataKind.Root, MetadataKind.Targets, MetadataKind.Snapshot, MetadataKind.Timestamp), (v, kind) => {
        assert.equal(code(() => parseMetadata(kind, v, 'x')), 'REPOSITORY_INVALID');
      }),
    );
  });
});
