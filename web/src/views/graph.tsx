// Evidence graph: from source commits through steps (attestations) and materials to the
// artifact, from one GET /v1/artifacts/{digest}/graph, and on to its deployments: the deploy
// gate's admission decisions, from the audit log (admin tokens; src/admissions.ts). A node opens
// what it is: an attestation (signer, identity, time, predicate), an artifact or a deployment.
// Attestations a failed rule names, denied deployments and digests seen under a reused name are
// drawn in red.
import { useMemo, useState, type KeyboardEvent, type ReactNode } from 'react';
import { loadAdmissions, type Admission } from '../admissions.ts';
import { getJson, getNamespace, q, short, type Graph, type Summary } from '../api.ts';
import { addDeployments, buildGraph, layout, type PlacedNode } from '../graph-layout.ts';
import { useLoad } from '../hooks.ts';
import { navigate } from '../router.ts';
import { Link, Status } from '../ui.tsx';
import { AttestationDetails } from './attestation.tsx';
import { VerdictPanel, useVerdict } from './artifacts.tsx';

const W = 200;
const H = 22;

function NodeShape({ n, failed, selected, onOpen }: { n: PlacedNode; failed: boolean; selected: boolean; onOpen: (n: PlacedNode) => void }): ReactNode {
  const cls = ['node', n.kind, failed ? 'failed' : '', n.denied === true ? 'denied' : '', n.mismatch === true ? 'mismatch' : '', n.root === true ? 'root' : '', selected ? 'selected' : ''].filter((c) => c !== '').join(' ');
  const key = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onOpen(n);
    }
  };
  const what = n.kind === 'attestation' ? 'attestation' : n.kind === 'source' ? 'source commit' : n.kind === 'deployment' ? 'deployment' : 'artifact';
  const flags = `${failed ? ', failed rule' : ''}${n.mismatch === true ? ', digest mismatch' : ''}`;
  return (
    <g className={cls} transform={`translate(${n.x},${n.y})`} tabIndex={0} role="button" aria-label={`${what} ${n.label}${flags}`} data-ref={n.ref} onClick={() => onOpen(n)} onKeyDown={key}>
      <rect width={W} height={H} rx={n.kind === 'attestation' ? 3 : n.kind === 'deployment' ? 0 : 11} />
      <text x={8} y={15}>
        {n.label.length > 28 ? `${n.label.slice(0, 27)}…` : n.label}
      </text>
    </g>
  );
}

/** "N nodes, M edges", the steps found through their materials (lint, scans), and whether the server cut the graph. */
function countText(nodes: number, edges: number, data: Graph | undefined): string {
  const consumers = data?.consumers?.length ?? 0;
  const skipped = data?.skippedMaterials?.length ?? 0;
  return (
    `${nodes} nodes, ${edges} edges${consumers > 0 ? `, ${consumers} steps reached through the materials they checked` : ''}` +
    `${skipped > 0 ? `, ${skipped} materials consumed too widely to follow` : ''}${data?.truncated === true ? ' (truncated by the server)' : ''}`
  );
}

export function GraphView({ digest, depth }: { digest: string; depth: number }): ReactNode {
  const d = Number.isInteger(depth) && depth >= 0 && depth <= 16 ? depth : 5;
  const { data, error, loading } = useLoad(`graph:${digest}:${d}`, () => getJson<Graph>(q(`/v1/artifacts/${digest}/graph`, { depth: d })));
  const { verdict, error: verdictError } = useVerdict(digest, d);
  const ns = getNamespace();
  const deployments = useLoad(`admissions:${ns}`, () => loadAdmissions(ns));
  const [selected, setSelected] = useState<PlacedNode | undefined>();
  const evidence = useMemo(() => (data === undefined ? undefined : buildGraph(data.attestations, digest)), [data, digest]);
  // Laid out again only when a deployment joins the graph (the audit answer usually comes second).
  const graph = useMemo(() => {
    if (evidence === undefined) return undefined;
    const g = addDeployments(evidence, deployments.data?.items ?? []);
    return g.nodes.length === evidence.nodes.length ? evidence : g;
  }, [evidence, deployments.data]);
  const placed = useMemo(() => (graph === undefined ? undefined : layout(graph.nodes, graph.edges)), [graph]);
  const admissions = useMemo(() => new Map((deployments.data?.items ?? []).map((a) => [String(a.seq), a])), [deployments.data]);
  const failedIds = useMemo(() => new Set((verdict?.issues ?? []).filter((i) => i.severity === 'error' && i.attestation !== undefined).map((i) => i.attestation!)), [verdict]);
  const byId = useMemo(() => new Map((placed?.nodes ?? []).map((n) => [n.id, n])), [placed]);
  const summaries = useMemo(() => new Map((data?.attestations ?? []).map((s) => [s.id, s])), [data]);
  const open = (n: PlacedNode): void => setSelected(n);
  const summary: Summary | undefined = selected?.kind === 'attestation' ? summaries.get(selected.ref) : undefined;
  return (
    <section aria-labelledby="graph-h" className="graph-view">
      <h2 id="graph-h">Evidence graph</h2>
      <p>
        Artifact <Link to={`/artifacts/${digest}`}>{short(digest)}</Link> · depth{' '}
        <label>
          <span className="sr-only">Graph depth</span>
          <select aria-label="Graph depth" value={d} onChange={(e) => navigate(`/graph/${digest}?depth=${e.target.value}`)}>
            {[1, 2, 3, 5, 8, 12, 16].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        {placed !== undefined && (
          <span className="muted" data-testid="graph-count">
            {' '}
            {countText(placed.nodes.length, placed.edges.length, data)}
          </span>
        )}
      </p>
      <VerdictPanel digest={digest} verdict={verdict} error={verdictError} />
      <Status loading={loading && data === undefined} error={error} what="the graph" />
      <p className="legend" aria-hidden="true">
        <span className="key source">source commit</span> <span className="key attestation">step / attestation</span> <span className="key artifact">artifact / material</span>{' '}
        <span className="key deployment">deployment</span> <span className="key failed">failed rule / denied</span> <span className="key mismatch">digest mismatch</span>
      </p>
      {deployments.data?.forbidden === true && <p className="muted">Deployments (the deploy gate&apos;s admission decisions, from the audit log) need a token that may read the audit log.</p>}
      {deployments.error !== undefined && <Status loading={false} error={deployments.error} what="deployments" />}
      <div className="graph-split">
        {placed !== undefined && (
          <div className="graph-canvas" tabIndex={-1}>
            <svg width={placed.width} height={placed.height} role="group" aria-label={`Evidence graph of ${digest}`} data-testid="graph">
              <g className="edges" aria-hidden="true">
                {placed.edges.map((e, i) => {
                  const a = byId.get(e.from);
                  const b = byId.get(e.to);
                  if (a === undefined || b === undefined) return null;
                  const x1 = a.x + W;
                  const y1 = a.y + H / 2;
                  const x2 = b.x;
                  const y2 = b.y + H / 2;
                  const mx = (x1 + x2) / 2;
                  return <path key={i} d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`} />;
                })}
              </g>
              {placed.nodes.map((n) => (
                <NodeShape key={n.id} n={n} failed={n.kind === 'attestation' && failedIds.has(n.ref)} selected={selected?.id === n.id} onOpen={open} />
              ))}
            </svg>
          </div>
        )}
        {selected !== undefined && (
          <aside className="node-panel" aria-label="Selected node">
            <button type="button" onClick={() => setSelected(undefined)}>
              Close
            </button>
            {selected.kind === 'attestation' ? (
              <AttestationDetails id={selected.ref} summary={summary} />
            ) : selected.kind === 'deployment' ? (
              <DeploymentDetails admission={admissions.get(selected.ref)} />
            ) : (
              <div>
                <h3>{selected.kind === 'source' ? 'Source commit' : 'Artifact'}</h3>
                <p>{selected.label}</p>
                <p>
                  <code className="digest">{selected.ref}</code>
                </p>
                {selected.mismatch === true && <p className="error">Another digest was seen under this name in this graph: a possible substitution.</p>}
                <Link to={`/artifacts/${selected.ref}`}>Open artifact</Link> · <Link to={`/graph/${selected.ref}`}>Its graph</Link>
              </div>
            )}
          </aside>
        )}
      </div>
    </section>
  );
}

function DeploymentDetails({ admission }: { admission: Admission | undefined }): ReactNode {
  if (admission === undefined) return <p>This decision is no longer in the audit entries read.</p>;
  return (
    <div data-testid="deployment">
      <h3>Deployment {admission.allowed ? 'admitted' : 'denied'}</h3>
      <dl>
        <dt>Image</dt>
        <dd>
          <code>{admission.image}</code>
        </dd>
        <dt>Kubernetes namespace</dt>
        <dd>{admission.kubernetesNamespace}</dd>
        <dt>Decided</dt>
        <dd>
          {admission.at} by the deploy gate{admission.mode === '' ? '' : ` (${admission.mode} mode)`}
        </dd>
      </dl>
      {admission.reasons.length > 0 && (
        <ul className="failed-rules">
          {admission.reasons.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      )}
      <Link to="/audit">Audit entry #{admission.seq}</Link>
    </div>
  );
}
