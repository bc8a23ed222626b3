// Audit administration: verify the whole chain of a store, page by page (offline or via the API).
import { AuditChainVerifier, type AuditHead, type AuditProblem, type Store } from '../store/index.ts';

export interface AuditVerification {
  ok: boolean;
  entries: number;
  head: AuditHead;
  problems: AuditProblem[];
}

/**
 * Reads every entry, then the head, then checks nothing was appended in between (the head moves
 * in the same transaction as each append). Works while the server keeps writing.
 */
export async function verifyStoreAudit(store: Pick<Store, 'readAudit' | 'auditHead'>, pageSize = 1000): Promise<AuditVerification> {
  const verifier = new AuditChainVerifier();
  let after = 0;
  let head: AuditHead;
  for (;;) {
    const page = await store.readAudit(after, pageSize);
    for (const entry of page) verifier.add(entry);
    after = page.at(-1)?.seq ?? after;
    if (page.length === pageSize) continue;
    head = await store.auditHead();
    if (head.seq <= after) break;
    // Entries were committed after our last page (or are missing at the end): look once more.
    const more = await store.readAudit(after, 1);
    if (more.length === 0) break;
  }
  const problems = verifier.finish(head);
  return { ok: problems.length === 0, entries: verifier.count, head, problems };
}
