import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineEndingNormalizer, normalizeLineEndings } from './line-endings.ts';

/** securesystemslib: data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"). */
function reference(data: Uint8Array): Buffer {
  return Buffer.from(Buffer.from(data).toString('latin1').replace(/\r\n/g, '\n').replace(/\r/g, '\n'), 'latin1');
}

const text = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('normalizeLineEndings', () => {
  it('turns CRLF, then lone CR, into LF', () => {
    assert.deepEqual(Buffer.from(normalizeLineEndings(text('a\r\nb\rc\n\r\r\n\r'))), text('a\nb\nc\n\n\n\n'));
    assert.deepEqual(Buffer.from(normalizeLineEndings(text('no breaks'))), text('no breaks'));
    assert.deepEqual(Buffer.from(normalizeLineEndings(new Uint8Array(0))), Buffer.alloc(0));
  });

  it('gives the same bytes however the input is split into chunks (property)', () => {
    const bytes = fc.array(fc.constantFrom(0x0d, 0x0a, 0x61, 0x00, 0xff), { maxLength: 64 }).map((a) => Uint8Array.from(a));
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(64), { maxLength: 6 }), (data, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const n = new LineEndingNormalizer();
        const out: Buffer[] = [];
        let start = 0;
        for (const p of [...points, data.length]) {
          // Copy: push() may return a view of its input, valid until the next call.
          out.push(Buffer.from(n.push(data.subarray(start, p))));
          start = p;
        }
        out.push(Buffer.from(n.end()));
        assert.deepEqual(Buffer.concat(out), reference(data));
      }),
      { numRuns: 5000 },
    );
  });
});
