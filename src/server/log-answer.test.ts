import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LogEntryResult } from './log-service.ts';
import { appendAnswer } from './log-answer.ts';

const view = (r: LogEntryResult) => ({ index: r.index, duplicate: r.duplicate, checkpoint: r.checkpoint, tlogEntry: r.tlogEntry });
const b64 = fc.uint8Array({ minLength: 0, maxLength: 48 }).map((b) => Buffer.from(b).toString('base64'));

/** Results as the log service makes them: digits and base64 where it writes them, anything in the rest. */
const result = (checkpoint: fc.Arbitrary<string>) =>
  fc.record({
    index: fc.nat(),
    duplicate: fc.boolean(),
    checkpoint,
    kind: fc.string({ unit: 'binary' }),
    version: fc.string({ unit: 'grapheme' }),
    keyId: b64,
    body: b64,
    rootHash: b64,
    treeSize: fc.nat(),
    hashes: fc.array(b64, { maxLength: 30 }),
    time: fc.nat(),
    ownEnvelope: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
  }).map(
    (r): LogEntryResult => ({
      index: r.index,
      duplicate: r.duplicate,
      checkpoint: r.checkpoint,
      tlogEntry: {
        logIndex: String(r.index),
        logId: { keyId: r.keyId },
        kindVersion: { kind: r.kind, version: r.version },
        integratedTime: String(r.time),
        canonicalizedBody: r.body,
        inclusionProof: { logIndex: String(r.index), rootHash: r.rootHash, treeSize: String(r.treeSize), hashes: r.hashes, checkpoint: { envelope: r.ownEnvelope ?? r.checkpoint } },
      },
    }),
  );

describe('appendAnswer', () => {
  it('writes ASCII JSON that parses to exactly what JSON.stringify of the same objects does, with the same key order (property)', () => {
    const checkpoints = fc.oneof(fc.constant('custody.local/log\n42\nq83+aGVsbG8=\n\n— custody.local/log AbCd\n'), fc.string({ unit: 'binary' }));
    const ascii = (b: Buffer) => b.every((c) => c < 0x80);
    fc.assert(
      fc.property(fc.array(result(checkpoints), { minLength: 1, maxLength: 8 }), (results) => {
        const batch = appendAnswer(results, true);
        assert.ok(ascii(batch));
        // Re-serializing the parsed answer gives JSON.stringify's text: same values, same key order.
        assert.equal(JSON.stringify(JSON.parse(batch.toString('latin1'))), JSON.stringify({ results: results.map(view) }));
        const single = appendAnswer(results.slice(0, 1), false);
        assert.ok(ascii(single));
        assert.equal(JSON.stringify(JSON.parse(single.toString('latin1'))), JSON.stringify(view(results[0]!)));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a non-ASCII origin intact (escaped as \\u, read back by any JSON parser as UTF-8)', () => {
    const checkpoint = 'lög.example/ünïcode\n1\nAAAA\n\n— lög.example/ünïcode xyz\n';
    const r: LogEntryResult = {
      index: 0,
      duplicate: false,
      checkpoint,
      tlogEntry: {
        logIndex: '0',
        logId: { keyId: 'AA==' },
        kindVersion: { kind: 'custody-entry', version: '0.0.1' },
        integratedTime: '0',
        canonicalizedBody: 'eA==',
        inclusionProof: { logIndex: '0', rootHash: 'AA==', treeSize: '1', hashes: [], checkpoint: { envelope: checkpoint } },
      },
    };
    const answer = appendAnswer([r], true);
    assert.ok(answer.includes('\\u00f6'));
    const parsed = JSON.parse(answer.toString('utf8')) as { results: LogEntryResult[] };
    assert.equal(parsed.results[0]!.checkpoint, checkpoint);
    assert.equal(parsed.results[0]!.tlogEntry.inclusionProof.checkpoint.envelope, checkpoint);
  });
});
