import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressLine, formatProgress, progressReporter } from './progress-line.ts';

function fakeStream(isTTY: boolean): { isTTY: boolean; written: string[]; write(s: string): boolean } {
  const written: string[] = [];
  return { isTTY, written, write: (s) => (written.push(s), true) };
}

const running = { filesFound: 10, filesDone: 3, bytesDone: 1_500_000, walking: true };

describe('progress line', () => {
  it('formats files and megabytes, marking an unfinished count', () => {
    assert.equal(formatProgress('hashing', running), 'hashing 3/10+ files, 1.5 MB');
    assert.equal(formatProgress('x', { ...running, walking: false, bytesDone: 2_000_000_000 }), 'x 3/10 files, 2000 MB');
  });

  it('writes nothing when the stream is not a terminal', () => {
    const stream = fakeStream(false);
    const line = createProgressLine(stream);
    line.update(running);
    line.done();
    assert.deepEqual(stream.written, []);
  });

  it('redraws one line on a terminal, at most once per interval, and clears it when done', () => {
    const stream = fakeStream(true);
    const line = createProgressLine(stream, { intervalMs: 60_000 });
    line.update(running);
    line.update({ ...running, filesDone: 4 });
    line.done();
    assert.deepEqual(stream.written, ['\r\x1b[Khashing 3/10+ files, 1.5 MB', '\r\x1b[K']);
  });

  it('progressReporter clears the line at the final report', () => {
    const stream = fakeStream(true);
    const report = progressReporter(stream, { intervalMs: 0 });
    report(running);
    report({ filesFound: 10, filesDone: 10, bytesDone: 5, walking: false });
    assert.equal(stream.written.length, 2);
    assert.equal(stream.written[1], '\r\x1b[K');
  });
});
