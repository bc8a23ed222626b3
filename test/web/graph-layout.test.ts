// The dashboard's evidence-graph model and layered layout (web/src/graph-layout.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ROW, addDeployments, buildGraph, layout, type GraphEdge, type GraphNode } from '../../web/src/graph-layout.ts';

const d = (hex: string): Record<string, string> => ({ sha256: hex.padEnd(64, '0') });

describe('evidence graph model', () => {
  it('links materials → attestation → subjects, marks sources, the root and reused names', () => {
    const g = buildGraph(
      [
        { id: 'p1', predicateType: 'https://slsa.dev/provenance/v1', subjects: [{ name: 'app.tgz', digest: d('a1') }], materials: [{ uri: 'git+https://x/app', digest: { gitCommit: 'c'.repeat(40) } }, { name: 'lib.tgz', digest: d('b1') }, { name: 'lib.tgz', digest: d('b2') }] },
        { id: 'p2', predicateType: 'https://slsa.dev/provenance/v1', step: 'lib-build', subjects: [{ name: 'lib.tgz', digest: d('b1') }], materials: [] },
      ],
      `sha256:${'a1'.padEnd(64, '0')}`,
    );
    const byRef = new Map(g.nodes.map((n) => [n.ref, n]));
    assert.equal(byRef.get(`gitCommit:${'c'.repeat(40)}`)?.kind, 'source');
    assert.equal(byRef.get(`sha256:${'a1'.padEnd(64, '0')}`)?.root, true);
    assert.equal(byRef.get(`sha256:${'b1'.padEnd(64, '0')}`)?.mismatch, true);
    assert.equal(byRef.get(`sha256:${'b2'.padEnd(64, '0')}`)?.mismatch, true);
    assert.equal(byRef.get(`sha256:${'a1'.padEnd(64, '0')}`)?.mismatch, undefined);
    assert.equal(byRef.get('p2')?.label, 'lib-build');
    assert.equal(g.nodes.length, 6);
    assert.equal(g.edges.length, 5);
    const l = layout(g.nodes, g.edges);
    const layer = new Map(l.nodes.map((n) => [n.id, n.layer]));
    assert.equal(layer.get('t:p2'), 0);
    assert.equal(layer.get('t:p1'), 2); // after lib.tgz (b1), which p2 produced
  });

  it('adds deployments after the artifact they admitted or denied; decisions about other digests are left out', () => {
    const app = `sha256:${'a1'.padEnd(64, '0')}`;
    const g = buildGraph([{ id: 'p1', predicateType: 'https://slsa.dev/provenance/v1', subjects: [{ name: 'app.tgz', digest: d('a1') }], materials: [] }], app);
    const withDeployments = addDeployments(g, [
      { seq: 7, digest: app, allowed: true, image: `registry.example/team/app@${app}` },
      { seq: 9, digest: app, allowed: false, image: `registry.example/team/app@${app}` },
      { seq: 11, digest: `sha256:${'ff'.padEnd(64, '0')}`, allowed: true, image: 'other' },
    ]);
    const deployments = withDeployments.nodes.filter((n) => n.kind === 'deployment');
    assert.deepEqual(deployments.map((n) => [n.ref, n.label, n.denied]), [['7', 'admitted: app', undefined], ['9', 'denied: app', true]]);
    assert.equal(g.nodes.length, 2, 'the input graph is not changed');
    const l = layout(withDeployments.nodes, withDeployments.edges);
    const layer = new Map(l.nodes.map((n) => [n.id, n.layer]));
    assert.equal(layer.get('d:7'), (layer.get(`a:${app}`) ?? -1) + 1);
  });
});

const graphs = fc
  .integer({ min: 1, max: 60 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })), { maxLength: n * 3 }),
    }),
  );

describe('layered layout', () => {
  it('places every node once, on distinct cells, edges that survive point to later layers, cycles cut', () => {
    fc.assert(
      fc.property(graphs, ({ n, edges }) => {
        const nodes: GraphNode[] = Array.from({ length: n }, (_, i) => ({ id: `n${i}`, kind: 'artifact', label: `n${i}`, ref: `n${i}` }));
        const es: GraphEdge[] = edges.map(([a, b]) => ({ from: `n${a}`, to: `n${b}` }));
        const l = layout(nodes, es);
        assert.equal(l.nodes.length, n);
        assert.equal(new Set(l.nodes.map((x) => x.id)).size, n);
        assert.equal(new Set(l.nodes.map((x) => `${x.x},${x.y}`)).size, n);
        for (const p of l.nodes) {
          assert.ok(p.x >= 0 && p.x < l.width && p.y >= 0 && p.y + ROW <= l.height + ROW);
        }
        const layer = new Map(l.nodes.map((x) => [x.id, x.layer]));
        // In an acyclic input every edge goes strictly rightwards.
        const acyclic = edges.every(([a, b]) => a < b);
        if (acyclic) for (const [a, b] of edges) assert.ok(layer.get(`n${a}`)! < layer.get(`n${b}`)!);
      }),
      { numRuns: 200 },
    );
  });

  it('lays out 1,000 nodes', () => {
    const nodes: GraphNode[] = [];
    const edges: GraphEdge[] = [];
    for (let i = 0; i < 333; i++) {
      nodes.push({ id: `s${i}`, kind: 'source', label: 's', ref: `s${i}` }, { id: `t${i}`, kind: 'attestation', label: 't', ref: `t${i}` }, { id: `m${i}`, kind: 'artifact', label: 'm', ref: `m${i}` });
      edges.push({ from: `s${i}`, to: `t${i}` }, { from: `t${i}`, to: `m${i}` }, { from: `m${i}`, to: 'build' });
    }
    nodes.push({ id: 'build', kind: 'attestation', label: 'b', ref: 'build' });
    const l = layout(nodes, edges);
    assert.equal(l.nodes.length, 1000);
    assert.equal(Math.max(...l.nodes.map((x) => x.layer)), 3);
  });
});
