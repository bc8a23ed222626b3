// The provenance graph of an artifact: the attestations naming it as a subject, the materials
// those attestations list, the attestations naming those materials, and so on, to a depth. One
// query per level (a batch of digests), whatever the number of artifacts on the level.
import { uniqueDigestRefs } from './ingest.ts';
import type { AttestationSummary, DigestRef, ProvenanceGraph, Store } from './types.ts';

export interface GraphOptions {
  namespace: string;
  root: DigestRef;
  depth: number;
  /** Stop after this many attestations (the graph is then marked truncated). */
  maxAttestations: number;
}

const key = (d: DigestRef): string => `${d.algorithm}:${d.value}`;

export async function provenanceGraph(store: Pick<Store, 'attestationsBySubjects'>, options: GraphOptions): Promise<ProvenanceGraph> {
  const artifacts = new Map<string, { digest: DigestRef; depth: number }>([[key(options.root), { digest: options.root, depth: 0 }]]);
  const attestations = new Map<number, AttestationSummary>();
  let frontier: DigestRef[] = [options.root];
  let truncated = false;
  // Level L holds artifacts L material hops from the root; their attestations' materials form
  // level L + 1. `depth` is the number of hops followed.
  for (let level = 0; level <= options.depth && frontier.length > 0; level++) {
    const room = options.maxAttestations - attestations.size;
    if (room <= 0) {
      truncated = true;
      break;
    }
    const found = await store.attestationsBySubjects(options.namespace, frontier, room + 1);
    const fresh = found.filter((a) => !attestations.has(a.seq));
    if (fresh.length > room) truncated = true;
    const next: DigestRef[] = [];
    for (const a of fresh.slice(0, room)) {
      attestations.set(a.seq, a);
      if (level === options.depth) continue;
      for (const d of uniqueDigestRefs(a.materials)) {
        if (artifacts.has(key(d))) continue;
        artifacts.set(key(d), { digest: d, depth: level + 1 });
        next.push(d);
      }
    }
    frontier = next;
  }
  return {
    root: options.root,
    depth: options.depth,
    artifacts: [...artifacts.values()],
    attestations: [...attestations.values()],
    truncated,
  };
}
