// The evidence graph as nodes and edges, and a layered (Sugiyama-style) layout of it, written
// here rather than taken from a graph library: the graph is a DAG by construction (materials →
// step → products), so longest-path layering, two barycenter sweeps and a grid placement are
// enough, run in a few milliseconds for 1,000 nodes, and add nothing to the bundle's supply chain.
// Pure functions (no DOM): test/web/graph-layout.test.ts checks them.

export type NodeKind = 'source' | 'artifact' | 'attestation' | 'deployment';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  /** ALG:HEX for artifacts and sources; the attestation id for attestations; the audit seq for deployments. */
  ref: string;
  /** A deployment the gate denied. */
  denied?: boolean;
  /** Another digest was seen under the same name: a possible substitution. */
  mismatch?: boolean;
  root?: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
}

export interface PlacedNode extends GraphNode {
  layer: number;
  x: number;
  y: number;
}

export interface Layout {
  nodes: PlacedNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

export interface SummaryLike {
  id: string;
  predicateType: string;
  step?: string;
  subjects: { name?: string; digest: Record<string, string> }[];
  materials: { name?: string; uri?: string; digest: Record<string, string> }[];
}

function key(d: Record<string, string>): string {
  const alg = d['sha256'] !== undefined ? 'sha256' : Object.keys(d).sort()[0];
  return alg === undefined ? '' : `${alg}:${d[alg] ?? ''}`;
}

function isSource(m: { uri?: string; digest: Record<string, string> }): boolean {
  return m.digest['gitCommit'] !== undefined || (m.uri ?? '').startsWith('git+') || (m.digest['sha1'] !== undefined && Object.keys(m.digest).length === 1);
}

function predicateLabel(s: SummaryLike): string {
  if (s.step !== undefined) return s.step;
  const parts = s.predicateType.replace(/\/$/, '').split('/');
  const type = parts.slice(-2).join('/');
  const about = s.subjects[0]?.name;
  return about === undefined ? type : `${type}: ${about}`;
}

/** Nodes and edges from attestation summaries: material → attestation → subject. */
export function buildGraph(attestations: readonly SummaryLike[], root?: string): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const digestsByName = new Map<string, Set<string>>();
  const note = (name: string | undefined, k: string): void => {
    if (name === undefined || name === '') return;
    let set = digestsByName.get(name);
    if (set === undefined) digestsByName.set(name, (set = new Set()));
    set.add(k);
  };
  const artifact = (d: Record<string, string>, name: string | undefined, source: boolean): string | undefined => {
    const k = key(d);
    if (k === '') return undefined;
    const id = `a:${k}`;
    const seen = nodes.get(id);
    if (seen === undefined) nodes.set(id, { id, kind: source ? 'source' : 'artifact', label: name ?? k.slice(0, 19), ref: k, ...(k === root ? { root: true } : {}) });
    else if (seen.label === k.slice(0, 19) && name !== undefined) seen.label = name;
    note(name, k);
    return id;
  };
  for (const s of attestations) {
    const id = `t:${s.id}`;
    nodes.set(id, { id, kind: 'attestation', label: predicateLabel(s), ref: s.id });
    for (const m of s.materials) {
      const a = artifact(m.digest, m.name ?? m.uri, isSource(m));
      if (a !== undefined) edges.push({ from: a, to: id });
    }
    for (const sub of s.subjects) {
      const a = artifact(sub.digest, sub.name, false);
      if (a !== undefined) edges.push({ from: id, to: a });
    }
  }
  // The same name under different digests is what a substituted artifact looks like.
  for (const [, digests] of digestsByName) {
    if (digests.size < 2) continue;
    for (const d of digests) {
      const n = nodes.get(`a:${d}`);
      if (n !== undefined) n.mismatch = true;
    }
  }
  return { nodes: [...nodes.values()], edges };
}

/** Deployments (the gate's admission decisions) as nodes after the artifact they admitted or denied. */
export function addDeployments(
  graph: { nodes: GraphNode[]; edges: GraphEdge[] },
  admissions: readonly { seq: number; digest: string; allowed: boolean; image: string }[],
): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const nodes = [...graph.nodes];
  const edges = [...graph.edges];
  for (const a of admissions) {
    if (!ids.has(`a:${a.digest}`)) continue;
    const id = `d:${a.seq}`;
    const image = a.image.replace(/@sha256:[0-9a-f]+$/, '');
    nodes.push({ id, kind: 'deployment', label: `${a.allowed ? 'admitted' : 'denied'}: ${image.split('/').at(-1) ?? image}`, ref: String(a.seq), ...(a.allowed ? {} : { denied: true }) });
    edges.push({ from: `a:${a.digest}`, to: id });
  }
  return { nodes, edges };
}

export const COLUMN = 240;
export const ROW = 30;

/** Longest-path layers (inputs left), barycenter ordering, grid coordinates. Cycles are cut. */
export function layout(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): Layout {
  const ids = new Set(nodes.map((n) => n.id));
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const n of nodes) {
    preds.set(n.id, []);
    succs.set(n.id, []);
  }
  const kept: GraphEdge[] = [];
  for (const e of edges) {
    if (!ids.has(e.from) || !ids.has(e.to) || e.from === e.to) continue;
    kept.push(e);
  }
  // Kahn's algorithm; nodes left over sit on a cycle: their remaining in-edges are ignored.
  const indegree = new Map<string, number>();
  for (const n of nodes) indegree.set(n.id, 0);
  for (const e of kept) indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
  for (const e of kept) succs.get(e.from)!.push(e.to);
  const layer = new Map<string, number>();
  const order: string[] = [];
  const queue = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const done = new Set<string>();
  const drain = (): void => {
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (done.has(id)) continue;
      done.add(id);
      order.push(id);
      const l = layer.get(id) ?? 0;
      for (const t of succs.get(id)!) {
        if (done.has(t)) continue;
        layer.set(t, Math.max(layer.get(t) ?? 0, l + 1));
        indegree.set(t, indegree.get(t)! - 1);
        if (indegree.get(t) === 0) queue.push(t);
      }
    }
  };
  drain();
  for (const n of nodes) {
    if (done.has(n.id)) continue;
    queue.push(n.id); // cut the cycle here
    drain();
  }
  const dag = kept.filter((e) => (layer.get(e.from) ?? 0) < (layer.get(e.to) ?? 0));
  for (const e of dag) preds.get(e.to)!.push(e.from);
  const layers: string[][] = [];
  for (const id of order) {
    const l = layer.get(id) ?? 0;
    (layers[l] ??= []).push(id);
  }
  // Barycenter sweeps: each node moves toward the mean position of its neighbours in the
  // previous layer (down), then in the next layer (up).
  const pos = new Map<string, number>();
  const place = (): void => layers.forEach((ls) => ls.forEach((id, i) => pos.set(id, i)));
  place();
  const sweep = (neighbours: Map<string, string[]>, range: number[]): void => {
    for (const l of range) {
      const ls = layers[l];
      if (ls === undefined) continue;
      const bary = new Map<string, number>();
      for (const id of ls) {
        const ns = neighbours.get(id)!.filter((n) => pos.has(n));
        bary.set(id, ns.length === 0 ? pos.get(id)! : ns.reduce((a, n) => a + pos.get(n)!, 0) / ns.length);
      }
      ls.sort((a, b) => bary.get(a)! - bary.get(b)! || a.localeCompare(b));
      ls.forEach((id, i) => pos.set(id, i));
    }
  };
  const down = layers.map((_, i) => i).slice(1);
  for (let i = 0; i < 2; i++) {
    sweep(preds, down);
    sweep(succs, [...down].reverse().map((l) => l - 1));
  }
  const tallest = Math.max(1, ...layers.map((ls) => ls.length));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const placed: PlacedNode[] = [];
  layers.forEach((ls, l) => {
    // Centre short layers against the tallest one.
    const offset = ((tallest - ls.length) * ROW) / 2;
    ls.forEach((id, i) => placed.push({ ...byId.get(id)!, layer: l, x: 20 + l * COLUMN, y: 20 + offset + i * ROW }));
  });
  return { nodes: placed, edges: kept, width: 40 + Math.max(1, layers.length) * COLUMN, height: 40 + tallest * ROW };
}
