// The JSON text of a log append's answer, built directly. A batch answer is about 2 KB per entry
// (the checkpoint twice, a proof of ~24 base64 hashes); JSON.stringify and its UTF-8 encoding took
// about 11 ms per 1,000 entries, this takes about 4. The text is ASCII (non-ASCII characters
// escaped as \uXXXX) and parses to exactly what JSON.stringify of the same objects does, keys in
// the same order (tested). Strings that are not digits or base64 made by sigstoreTlogEntry go
// through JSON.stringify, the checkpoint once per answer.
import type { LogEntryResult } from './log-service.ts';

const NON_ASCII = /[\u0080-\uffff]/g;
const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The answer of POST /v1/log/entries: one result, or {"results": [...]} for a batch; UTF-8. */
export function appendAnswer(results: readonly LogEntryResult[], batch: boolean): Buffer {
  let lastCheckpoint: string | undefined;
  let checkpointJson = '';
  // JSON text with every non-ASCII character escaped: the answer is then one-byte (a checkpoint's
  // signature lines start with an em dash, which would make the whole text two-byte) and latin1
  // encodes it as a plain copy.
  const quote = (s: string): string => JSON.stringify(s).replace(NON_ASCII, escape);
  const one = (r: LogEntryResult): string => {
    if (r.checkpoint !== lastCheckpoint) {
      lastCheckpoint = r.checkpoint;
      checkpointJson = quote(r.checkpoint);
    }
    const e = r.tlogEntry;
    const p = e.inclusionProof;
    // Digits (String of a number) and base64 need no escaping; every other string is quoted by JSON.stringify.
    const envelope = p.checkpoint.envelope === r.checkpoint ? checkpointJson : quote(p.checkpoint.envelope);
    return (
      `{"index":${r.index},"duplicate":${r.duplicate},"checkpoint":${checkpointJson},"tlogEntry":{` +
      `"logIndex":"${e.logIndex}","logId":{"keyId":"${e.logId.keyId}"},` +
      `"kindVersion":{"kind":${quote(e.kindVersion.kind)},"version":${quote(e.kindVersion.version)}},` +
      `"integratedTime":"${e.integratedTime}","canonicalizedBody":"${e.canonicalizedBody}",` +
      `"inclusionProof":{"logIndex":"${p.logIndex}","rootHash":"${p.rootHash}","treeSize":"${p.treeSize}",` +
      `"hashes":[${p.hashes.length === 0 ? '' : `"${p.hashes.join('","')}"`}],"checkpoint":{"envelope":${envelope}}}}}`
    );
  };
  if (!batch) return Buffer.from(one(results[0]!), 'latin1');
  // One buffer of the exact size, each entry's text copied in (no joined string to flatten).
  const parts = results.map(one);
  const head = '{"results":[';
  const out = Buffer.allocUnsafe(head.length + parts.reduce((n, p) => n + p.length + 1, 0) + 1);
  let at = out.write(head, 0, 'latin1');
  parts.forEach((p, i) => {
    if (i > 0) at += out.write(',', at, 'latin1');
    at += out.write(p, at, 'latin1');
  });
  at += out.write(']}', at, 'latin1');
  return out.subarray(0, at);
}
