// The audit log's hash chain: each entry's hash covers its own fields and the previous entry's
// hash, so editing, inserting or deleting an entry breaks every hash after it. Deleting entries
// at the end is caught against the stored head (seq, hash) that each append updates.
import { digestBytes, jcsBytes } from '../core/index.ts';
import type { AuditDraft, AuditEntry, AuditHead } from './types.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** sha256 over the RFC 8785 (JCS) form of the entry's fields, including seq and prevHash. */
export function auditEntryHash(draft: AuditDraft, seq: number, prevHash: string): string {
  return digestBytes(
    jcsBytes({
      seq,
      prevHash,
      at: draft.at,
      actor: draft.actor,
      action: draft.action,
      namespace: draft.namespace,
      target: draft.target,
      outcome: draft.outcome,
      status: draft.status,
      detail: draft.detail,
    }),
  );
}

/** Gives drafts their place after `head`: the drivers call this inside the appending transaction. */
export function chainEntries(head: AuditHead, drafts: readonly AuditDraft[]): AuditEntry[] {
  let { seq, hash } = head;
  return drafts.map((draft) => {
    seq += 1;
    const entry: AuditEntry = { ...draft, seq, prevHash: hash, hash: auditEntryHash(draft, seq, hash) };
    hash = entry.hash;
    return entry;
  });
}

export type AuditProblemCode = 'HASH_MISMATCH' | 'PREV_HASH_MISMATCH' | 'SEQ_GAP' | 'HEAD_MISMATCH';

export interface AuditProblem {
  code: AuditProblemCode;
  /** The entry where the chain breaks (for HEAD_MISMATCH: the head's seq). */
  seq: number;
  message: string;
}

/**
 * Incremental verifier: feed entries in ascending order (page by page), then `finish(head)`.
 * Collects every problem rather than stopping at the first (STYLE.md §9).
 */
export class AuditChainVerifier {
  #expectedSeq = 1;
  #prevHash = GENESIS_HASH;
  #count = 0;
  readonly problems: AuditProblem[] = [];

  get count(): number {
    return this.#count;
  }

  add(entry: AuditEntry): void {
    this.#count += 1;
    if (entry.seq !== this.#expectedSeq) {
      // A deleted entry leaves a gap; an inserted one repeats or skips a number.
      this.problems.push({
        code: 'SEQ_GAP',
        seq: entry.seq,
        message: `entry ${entry.seq} follows entry ${this.#expectedSeq - 1} (expected ${this.#expectedSeq})`,
      });
    }
    if (entry.prevHash !== this.#prevHash) {
      this.problems.push({
        code: 'PREV_HASH_MISMATCH',
        seq: entry.seq,
        message: `entry ${entry.seq} does not link to the entry before it`,
      });
    }
    const recomputed = auditEntryHash(entry, entry.seq, entry.prevHash);
    if (recomputed !== entry.hash) {
      this.problems.push({ code: 'HASH_MISMATCH', seq: entry.seq, message: `entry ${entry.seq} was altered after it was written` });
    }
    // Continue from what the entry claims, so one edit is reported once, not at every later entry.
    this.#expectedSeq = entry.seq + 1;
    this.#prevHash = entry.hash;
  }

  finish(head: AuditHead): AuditProblem[] {
    const lastSeq = this.#expectedSeq - 1;
    if (head.seq !== lastSeq || head.hash !== (lastSeq === 0 ? GENESIS_HASH : this.#prevHash)) {
      this.problems.push({
        code: 'HEAD_MISMATCH',
        seq: head.seq,
        message: `the log ends at entry ${lastSeq} but its head records entry ${head.seq} (entries removed from the end, or head altered)`,
      });
    }
    return this.problems;
  }
}

/** Verifies a whole chain held in memory. */
export function verifyAuditEntries(entries: readonly AuditEntry[], head: AuditHead): AuditProblem[] {
  const verifier = new AuditChainVerifier();
  for (const entry of entries) verifier.add(entry);
  return verifier.finish(head);
}
