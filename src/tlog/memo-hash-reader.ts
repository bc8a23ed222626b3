// A HashReader that remembers every node hash it has read: proofs for many entries of one tree
// (a sequencer answering a whole batch) share most of their nodes, and a tile reader recomputes
// an inner node from its leaves on every request. Requests in flight are shared too.
import { InputError } from '../core/index.ts';
import type { HashReader, NodeId } from './merkle-proof.ts';

const MAX_INDEX = 2 ** 47;

export class MemoHashReader implements HashReader {
  readonly #inner: HashReader;
  readonly #known = new Map<number, Uint8Array>();
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #limit: number;

  /** `limit`: most node hashes kept (then the memo starts over). */
  constructor(inner: HashReader, limit = 1_000_000) {
    this.#inner = inner;
    this.#limit = limit;
  }

  async readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
    // A number per node: levels stay below 64, and indexes below 2^47 (larger ones are refused).
    const keys = nodes.map((n) => {
      if (n.index >= MAX_INDEX || n.level >= 64) throw new InputError('INPUT_INVALID', `node ${n.level}/${n.index} is beyond what the memo keys`);
      return n.index * 64 + n.level;
    });
    // Most calls of a batch find every node known already.
    const hit: Uint8Array[] = [];
    for (const k of keys) {
      const h = this.#known.get(k);
      if (h === undefined) break;
      hit.push(h);
    }
    if (hit.length === keys.length) return hit;
    const waits = new Set<Promise<void>>();
    const missing: NodeId[] = [];
    const missingKeys: number[] = [];
    const asked = new Set<number>(); // a batch of proofs asks for thousands of nodes at once
    keys.forEach((k, i) => {
      if (this.#known.has(k)) return;
      const pending = this.#inFlight.get(k);
      if (pending !== undefined) {
        waits.add(pending);
        return;
      }
      if (!asked.has(k)) {
        asked.add(k);
        missing.push(nodes[i]!);
        missingKeys.push(k);
      }
    });
    if (missing.length > 0) {
      if (this.#known.size + missing.length > this.#limit) this.#known.clear();
      const fetched = this.#inner.readHashes(missing).then(
        (hashes) => {
          missingKeys.forEach((k, i) => {
            this.#known.set(k, hashes[i]!);
            this.#inFlight.delete(k);
          });
        },
        (e: unknown) => {
          for (const k of missingKeys) this.#inFlight.delete(k);
          throw e;
        },
      );
      for (const k of missingKeys) this.#inFlight.set(k, fetched);
      waits.add(fetched);
    }
    if (waits.size > 0) await Promise.all(waits);
    const out = keys.map((k) => this.#known.get(k));
    // A node evicted between its fetch and now (the memo went over its limit): read it again.
    const lost = nodes.filter((_, i) => out[i] === undefined);
    if (lost.length > 0) {
      const again = await this.#inner.readHashes(lost);
      let j = 0;
      return out.map((h) => h ?? again[j++]!);
    }
    return out as Uint8Array[];
  }
}
