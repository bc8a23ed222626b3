// A one-line progress display for recording large trees, on a terminal only (stderr by default).
// Kept apart from the hashing: pass `line.update` as `onProgress`.
import type { RecordProgress } from './tree-hasher.ts';

export interface ProgressLine {
  update(progress: RecordProgress): void;
  /** Clears the line. */
  done(): void;
}

interface TtyLike {
  isTTY?: boolean;
  write(text: string): boolean;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes < 1e8 ? 1 : 0);
}

/** Formats progress as one line of text, e.g. "hashing 1200/5000 files, 12.5 MB". */
export function formatProgress(label: string, p: RecordProgress): string {
  const total = p.walking ? `${p.filesFound}+` : String(p.filesFound);
  return `${label} ${p.filesDone}/${total} files, ${megabytes(p.bytesDone)} MB`;
}

/** A progress line that redraws at most every `intervalMs`; does nothing unless the stream is a TTY. */
export function createProgressLine(
  stream: TtyLike = process.stderr,
  options: { label?: string; intervalMs?: number } = {},
): ProgressLine {
  const label = options.label ?? 'hashing';
  const interval = options.intervalMs ?? 100;
  let last = -Infinity;
  let shown = false;
  if (stream.isTTY !== true) return { update: () => undefined, done: () => undefined };
  return {
    update(progress) {
      const now = performance.now();
      if (now - last < interval) return;
      last = now;
      shown = true;
      stream.write(`\r\x1b[K${formatProgress(label, progress)}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

/**
 * An `onProgress` callback that draws a progress line on stderr when it is a terminal and clears
 * it at the final report (walk over, every file done).
 */
export function progressReporter(
  stream: TtyLike = process.stderr,
  options: { label?: string; intervalMs?: number } = {},
): (progress: RecordProgress) => void {
  const line = createProgressLine(stream, options);
  return (progress) => {
    if (!progress.walking && progress.filesDone >= progress.filesFound) line.done();
    else line.update(progress);
  };
}
