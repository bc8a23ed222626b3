// The provenance graph of an artifact: the attestations naming it as a subject, the materials
// those attestations list, the attestations naming those materials, and so on, to a depth. One
// query per level (a batch of digests), whatever the number of artifacts on the level.
//
// Then one more query for the steps that only consumed those materials: a lint, a secret scan or
// a dependency review names its inputs as materials and produces nothing on the artifact's path
// (in-toto layouts chain such steps with `MATCH … WITH PRODUCTS FROM checkout`), so no subject
// leads to it. They are found through the material index, and kept only when they consumed
// nothing but artifacts of the graph and do not compete with a step that produced one (another
// build from the same sources made another artifact: its evidence is that artifact's, not this one's).
//
// Likewise a producer reached through a material it shares with other runs is left out when it
// produced, under a name the consuming step listed, other bytes than that step consumed (competing()).
import { uniqueDigestRefs } from './ingest.ts';
import type { AttestationSummary, DigestRef, ProvenanceGraph, Store } from './types.ts';

export interface GraphOptions {
  namespace: string;
  root: DigestRef;
  depth: number;
  /** Stop after this many attestations, consumers included (the graph is then marked truncated). */
  maxAttestations: number;
  /**
   * A material more attestations than this consumed (a shell, a compiler, a long-unchanged
   * lockfile) is not followed to its consumers; the graph lists it in skippedMaterials. Default 1000.
   */
  maxConsumersPerMaterial?: number;
}

export const DEFAULT_MAX_CONSUMERS_PER_MATERIAL = 1000;

const key = (d: DigestRef): string => `${d.algorithm}:${d.value}`;
/** What a competing run shares with a producer: the predicate type and the step name. */
const kind = (a: AttestationSummary): string => `${a.predicateType}\u0000${a.step ?? ''}`;

export async function provenanceGraph(store: Pick<Store, 'attestationsBySubjects' | 'attestationsByMaterials'>, options: GraphOptions): Promise<ProvenanceGraph> {
  const artifacts = new Map<string, { digest: DigestRef; depth: number }>([[key(options.root), { digest: options.root, depth: 0 }]]);
  const attestations = new Map<number, AttestationSummary>();
  let frontier: DigestRef[] = [options.root];
  let truncated = false;
  /** Digest → the accepted attestations of the level before that list it as a material. */
  let consumedBy = new Map<string, AttestationSummary[]>();
  // Level L holds artifacts L material hops from the root; their attestations' materials form
  // level L + 1. `depth` is the number of hops followed.
  for (let level = 0; level <= options.depth && frontier.length > 0; level++) {
    const room = options.maxAttestations - attestations.size;
    if (room <= 0) {
      truncated = true;
      break;
    }
    const found = await store.attestationsBySubjects(options.namespace, frontier, room + 1);
    const fresh = found.filter((a) => !attestations.has(a.seq) && !competing(a, consumedBy));
    if (fresh.length > room) truncated = true;
    const next: DigestRef[] = [];
    const accepted = fresh.slice(0, room);
    consumedBy = new Map();
    for (const a of accepted) {
      attestations.set(a.seq, a);
      if (level === options.depth) continue;
      for (const d of uniqueDigestRefs(a.materials)) {
        const list = consumedBy.get(key(d));
        if (list === undefined) consumedBy.set(key(d), [a]);
        else list.push(a);
        if (artifacts.has(key(d))) continue;
        artifacts.set(key(d), { digest: d, depth: level + 1 });
        next.push(d);
      }
    }
    frontier = next;
  }
  const consumers = truncated ? { ids: [], skipped: [], truncated: false } : await consumersOf(store, options, artifacts, attestations);
  return {
    root: options.root,
    depth: options.depth,
    artifacts: [...artifacts.values()],
    attestations: [...attestations.values()],
    consumers: consumers.ids,
    skippedMaterials: consumers.skipped,
    truncated: truncated || consumers.truncated,
  };
}

/**
 * A producer of a material that also produced, under a name the step consuming that material
 * listed, other bytes than that step consumed: another run (a checkout of another commit that
 * left src/index.ts alone but changed package.json). Its products are another artifact's inputs,
 * and in-toto would see two disagreeing links for one step. Judged against the consuming steps
 * only, so unrelated projects' files of the same name deeper in the graph do not collide.
 */
function competing(a: AttestationSummary, consumedBy: ReadonlyMap<string, readonly AttestationSummary[]>): boolean {
  const names = new Map<string, Set<string>>();
  for (const d of uniqueDigestRefs(a.subjects)) {
    for (const consumer of consumedBy.get(key(d)) ?? []) {
      for (const m of consumer.materials) {
        const name = m.name ?? m.uri;
        if (name === undefined || name === '') continue;
        let set = names.get(name);
        if (set === undefined) names.set(name, (set = new Set()));
        for (const ref of uniqueDigestRefs([m])) set.add(key(ref));
      }
    }
  }
  return a.subjects.some((s) => {
    const seen = s.name === undefined ? undefined : names.get(s.name);
    return seen !== undefined && !uniqueDigestRefs([s]).some((ref) => seen.has(key(ref)));
  });
}

/**
 * Adds the attestations that consumed the graph's materials (depth ≥ 1; consumers of the root
 * itself are its dependents, not its evidence), within the attestation budget left.
 */
async function consumersOf(
  store: Pick<Store, 'attestationsByMaterials'>,
  options: GraphOptions,
  artifacts: ReadonlyMap<string, { digest: DigestRef; depth: number }>,
  attestations: Map<number, AttestationSummary>,
): Promise<{ ids: string[]; skipped: DigestRef[]; truncated: boolean }> {
  const materials = [...artifacts.values()].filter((a) => a.depth >= 1).map((a) => a.digest);
  const room = options.maxAttestations - attestations.size;
  if (materials.length === 0) return { ids: [], skipped: [], truncated: false };
  const producers = new Set([...attestations.values()].map(kind));
  // The producers that consumed these materials too (every build) come back as well: room for them.
  const limit = options.maxAttestations + 1;
  const maxPerDigest = options.maxConsumersPerMaterial ?? DEFAULT_MAX_CONSUMERS_PER_MATERIAL;
  const { items: found, skipped } = await store.attestationsByMaterials(options.namespace, materials, limit, { within: materials, maxPerDigest });
  const fresh = found.filter((a) => !attestations.has(a.seq) && !producers.has(kind(a)));
  const ids: string[] = [];
  for (const a of fresh.slice(0, room)) {
    attestations.set(a.seq, a);
    ids.push(a.id);
  }
  return { ids, skipped, truncated: found.length >= limit || fresh.length > room };
}
