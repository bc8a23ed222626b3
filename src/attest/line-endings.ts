// in-toto's --normalize-line-endings, streamed: securesystemslib `digest_fileobject` replaces
// "\r\n" with "\n", then every remaining "\r" with "\n", before hashing. A "\r" at the end of a
// chunk waits for the next chunk (securesystemslib reads on while data ends in "\r").

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);

export class LineEndingNormalizer {
  #pendingCr = false;

  /** Normalizes the next chunk; the result may be a view of `chunk` and is valid until the next call. */
  push(chunk: Uint8Array): Uint8Array {
    if (chunk.length === 0) return EMPTY;
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let cr = buf.indexOf(CR);
    if (cr === -1 && !this.#pendingCr) return chunk;
    const out = Buffer.allocUnsafe(buf.length + 1);
    let o = 0;
    if (this.#pendingCr) {
      this.#pendingCr = false;
      // "\r\n" across the boundary: the "\n" is copied below, the "\r" goes.
      if (buf[0] !== LF) out[o++] = LF;
    }
    let start = 0;
    while (cr !== -1) {
      o += buf.copy(out, o, start, cr);
      if (cr + 1 === buf.length) {
        this.#pendingCr = true;
        start = buf.length;
        break;
      }
      if (buf[cr + 1] !== LF) out[o++] = LF;
      start = cr + 1;
      cr = buf.indexOf(CR, start);
    }
    o += buf.copy(out, o, start);
    return out.subarray(0, o);
  }

  /** What is left at end of input: a final "\r" becomes "\n". */
  end(): Uint8Array {
    if (!this.#pendingCr) return EMPTY;
    this.#pendingCr = false;
    return Uint8Array.of(LF);
  }
}

/** Normalizes a whole buffer at once (same result as pushing it in any number of chunks). */
export function normalizeLineEndings(data: Uint8Array): Uint8Array {
  const n = new LineEndingNormalizer();
  const body = n.push(data);
  const tail = n.end();
  return tail.length === 0 ? body : Buffer.concat([body, tail]);
}
