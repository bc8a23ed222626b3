// Artifacts: search by name or digest; per artifact its subjects, attestations with signatures
// and log inclusion, the policy verdict with every failed rule, and TUF publication.
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, attestationLeafHash, digestText, getJson, getNamespace, getPolicyText, postJson, q, short, type ArtifactItem, type Summary, type Verdict } from '../api.ts';
import { loadAdmissions } from '../admissions.ts';
import { useLoad } from '../hooks.ts';
import { navigate } from '../router.ts';
import { Badge, Digest, Link, Status, when } from '../ui.tsx';
import { findTufTarget } from './repository.tsx';

export function ArtifactsView({ query }: { query: string }): ReactNode {
  const [text, setText] = useState(query);
  const { data, error, loading } = useLoad(`artifacts:${query}`, () => getJson<{ items: ArtifactItem[]; scanned: number; truncated: boolean }>(q('/v1/artifacts', { q: query, limit: 200 })));
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    navigate(`/artifacts${text.trim() === '' ? '' : `?q=${encodeURIComponent(text.trim())}`}`);
  };
  return (
    <section aria-labelledby="artifacts-h">
      <h2 id="artifacts-h">Artifacts</h2>
      <form role="search" onSubmit={submit} className="row">
        <label htmlFor="artifact-q">Name or digest</label>
        <input id="artifact-q" type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="app.tgz or sha256:…" />
        <button type="submit">Search</button>
      </form>
      <Status loading={loading && data === undefined} error={error} what="artifacts" />
      {data !== undefined && (
        <>
          <p className="muted">
            {data.items.length} artifact{data.items.length === 1 ? '' : 's'}
            {query === '' ? ', newest first' : ` matching “${query}”`}
            {data.truncated ? ` (searched the newest ${data.scanned} attestations)` : ''}
          </p>
          <table className="artifacts">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Digest</th>
                <th scope="col">Attestations</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((a) => {
                const d = digestText(a.digest);
                return (
                  <tr key={d}>
                    <td>
                      <Link to={`/artifacts/${d}`}>{a.name === '' ? short(d) : a.name}</Link>
                    </td>
                    <td>
                      <Digest value={short(d)} />
                    </td>
                    <td>{a.attestations}</td>
                    <td>{when(a.lastSeen)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

interface LogInclusion {
  index?: number;
  missing?: boolean;
  error?: string;
}

async function logInclusion(s: Summary): Promise<LogInclusion> {
  try {
    const leaf = await attestationLeafHash(s.namespace, s.id, s.predicateType);
    const found = await getJson<{ index: number }>(`/v1/log/leaves/${leaf}`);
    return { index: found.index };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { missing: true };
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

export function VerdictPanel({ digest, verdict, error }: { digest: string; verdict: Verdict | undefined; error: Error | undefined }): ReactNode {
  if (getPolicyText() === null) {
    return (
      <p className="muted">
        No policy loaded. <Link to="/policy">Load a policy</Link> to see this artifact's verdict.
      </p>
    );
  }
  if (error !== undefined) return <Status loading={false} error={error} what="the verdict" />;
  if (verdict === undefined) return <p className="muted">Evaluating the policy…</p>;
  const failed = verdict.issues.filter((i) => i.severity === 'error');
  const warnings = verdict.issues.filter((i) => i.severity === 'warning');
  return (
    <div className={`verdict ${verdict.passed ? 'pass' : 'fail'}`} data-testid="verdict">
      <p>
        <Badge ok={verdict.passed}>{verdict.passed ? 'PASSED' : 'FAILED'}</Badge> policy <strong>{verdict.policy.name ?? '(unnamed)'}</strong> for <Digest value={short(digest)} />, evaluated {when(verdict.evaluatedAt)}
        {verdict.evidence !== undefined && (
          <span className="muted" data-testid="verdict-evidence">
            {' '}
            over {verdict.evidence.attestations} attestations ({verdict.evidence.consumers} reached through their materials)
            {verdict.evidence.truncated ? '; the evidence graph was cut at the server limit, a missing step may be one not read' : ''}
            {(verdict.evidence.skippedMaterials ?? 0) > 0 ? `; ${verdict.evidence.skippedMaterials ?? 0} materials consumed too widely were not followed to their consumers` : ''}
          </span>
        )}
      </p>
      {failed.length > 0 && (
        <>
          <h4>Failed rules</h4>
          <ul className="failed-rules">
            {failed.map((i, n) => (
              <li key={n} className="failed-rule">
                <strong>{[i.step, i.rule].filter((x) => x !== undefined).join(' / ') || i.code}</strong> <code>{i.code}</code>: {i.reason}
                {i.attestation !== undefined && /^[0-9a-f]{64}$/.test(i.attestation) && (
                  <>
                    {' '}
                    (<Link to={`/attestations/${i.attestation}`}>attestation {i.attestation.slice(0, 12)}</Link>)
                  </>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      {warnings.length > 0 && (
        <details>
          <summary>{warnings.length} warnings</summary>
          <ul>
            {warnings.map((i, n) => (
              <li key={n}>
                <code>{i.code}</code> {i.step ?? ''} {i.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

/** The verdict of the loaded policy over an artifact's stored evidence (POST …/verdict). */
export function useVerdict(digest: string, depth = 5): { verdict: Verdict | undefined; error: Error | undefined } {
  const policy = getPolicyText();
  const { data, error } = useLoad(policy === null ? null : `verdict:${digest}:${depth}:${policy.length}`, () =>
    postJson<Verdict>(q(`/v1/artifacts/${digest}/verdict`, { depth }), { policy: JSON.parse(policy ?? '{}') as unknown }),
  );
  return { verdict: data, error };
}

function AttestationRows({ items }: { items: Summary[] }): ReactNode {
  const { data: logs } = useLoad(`logs:${items.map((s) => s.id).join(',')}`, () => Promise.all(items.map(logInclusion)));
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Attestation</th>
          <th scope="col">Predicate</th>
          <th scope="col">Signatures</th>
          <th scope="col">Transparency log</th>
          <th scope="col">Stored</th>
        </tr>
      </thead>
      <tbody>
        {items.map((s, i) => {
          const log = logs?.[i];
          return (
            <tr key={s.id}>
              <td>
                <Link to={`/attestations/${s.id}`}>{s.step ?? s.id.slice(0, 12)}</Link>
              </td>
              <td>
                <code>{s.predicateType}</code>
              </td>
              <td>
                <Badge ok={s.verification.status === 'verified'}>{s.verification.status}</Badge>{' '}
                {s.verification.status === 'verified' ? s.verification.keyids.map((k) => k.slice(0, 16)).join(', ') : (s.verification.code ?? '')}
              </td>
              <td>{log === undefined ? '…' : log.index !== undefined ? `entry #${log.index}` : log.missing === true ? 'not in the log' : `unknown (${log.error ?? ''})`}</td>
              <td>{when(s.createdAt)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

interface GateAnswer {
  served: boolean;
  allowed?: boolean;
  checked?: boolean;
  mode?: string;
  reasons?: string[];
}

/** The deploy gate's decision for this digest now (POST /v1/gate/verify, its configured policies). */
async function admission(name: string, hex: string): Promise<GateAnswer> {
  try {
    const d = await postJson<{ allowed: boolean; checked: boolean; mode?: string; images: { reasons: string[] }[] }>('/v1/gate/verify', { images: [`${name}@sha256:${hex}`], namespace: getNamespace() });
    return { served: true, allowed: d.allowed, checked: d.checked, ...(d.mode === undefined ? {} : { mode: d.mode }), reasons: d.images.flatMap((i) => i.reasons) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { served: false };
    throw e;
  }
}

function Publication({ hex }: { hex: string }): ReactNode {
  const { data: tuf, error } = useLoad(`tuf:${hex}`, () => findTufTarget(hex));
  if (error !== undefined) return <Status loading={false} error={error} what="the TUF repository" />;
  if (tuf === undefined) return <p className="muted">TUF publication: checking…</p>;
  if (!tuf.served) return <p>This server serves no TUF repository.</p>;
  return <p>{tuf.target === undefined ? 'Not published in the TUF repository served here.' : `Published in TUF as ${tuf.target} (targets version ${tuf.version ?? '?'}).`}</p>;
}

function Admission({ name, hex }: { name: string; hex: string }): ReactNode {
  const { data, error } = useLoad(`gate:${hex}`, () => admission(name, hex));
  if (error !== undefined) return <Status loading={false} error={error} what="the deploy gate's decision" />;
  if (data === undefined) return <p className="muted">Admission: asking the deploy gate…</p>;
  if (!data.served) return <p className="muted">Admission: this server runs no deploy gate (the gate: section of its configuration, or custody gate).</p>;
  return (
    <div data-testid="admission">
      <p>
        Admission: <Badge ok={data.allowed}>{data.allowed === true ? 'admitted' : 'denied'}</Badge> by the deploy gate{data.mode === undefined ? '' : ` (${data.mode} mode)`}
        {data.checked === false ? ' — this namespace is not checked' : ''}
      </p>
      {(data.reasons ?? []).length > 0 && (
        <ul className="failed-rules">
          {(data.reasons ?? []).map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The gate's past admission decisions about this digest (the audit log; admin tokens). */
function Deployments({ digest }: { digest: string }): ReactNode {
  const ns = getNamespace();
  const { data, error } = useLoad(`admissions:${ns}`, () => loadAdmissions(ns));
  if (error !== undefined) return <Status loading={false} error={error} what="deployments" />;
  if (data === undefined) return null;
  if (data.forbidden) return <p className="muted">Past admission decisions are in the audit log, which this token may not read.</p>;
  const mine = data.items.filter((a) => a.digest === digest);
  if (mine.length === 0) return <p className="muted">No admission decision about this digest in the newest audit entries.</p>;
  return (
    <div data-testid="deployments">
      <p>Admission decisions of the deploy gate (newest first):</p>
      <ul>
        {mine.map((a) => (
          <li key={a.seq}>
            <Badge ok={a.allowed}>{a.allowed ? 'admitted' : 'denied'}</Badge> {a.image} in Kubernetes namespace {a.kubernetesNamespace || '?'} at {a.at}
            {a.reasons.length > 0 && `: ${a.reasons.join('; ')}`}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ArtifactDetail({ digest }: { digest: string }): ReactNode {
  const ns = getNamespace();
  const { data, error, loading } = useLoad(`artifact:${digest}`, () => getJson<{ items: Summary[] }>(q('/v1/attestations', { subject: digest, limit: 200 })));
  const { verdict, error: verdictError } = useVerdict(digest);
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : undefined;
  const names = new Set<string>();
  for (const s of data?.items ?? []) for (const sub of s.subjects) if (Object.values(sub.digest).some((v) => digest.endsWith(`:${v}`)) && sub.name !== undefined) names.add(sub.name);
  return (
    <section aria-labelledby="artifact-h">
      <h2 id="artifact-h">{names.size > 0 ? [...names].join(', ') : 'Artifact'}</h2>
      <p>
        <Digest value={digest} /> in namespace <strong>{ns}</strong> · <Link to={`/graph/${digest}`}>Evidence graph</Link>
      </p>
      <h3>Policy verdict</h3>
      <VerdictPanel digest={digest} verdict={verdict} error={verdictError} />
      <h3>Attestations</h3>
      <Status loading={loading && data === undefined} error={error} what="attestations" />
      {data !== undefined && (data.items.length === 0 ? <p>No attestation names this digest as a subject.</p> : <AttestationRows items={data.items} />)}
      <h3>Subjects</h3>
      <ul>
        {[...new Map((data?.items ?? []).flatMap((s) => s.subjects.map((sub) => [digestText(sub.digest), sub] as const))).values()].slice(0, 50).map((sub) => (
          <li key={digestText(sub.digest)}>
            {sub.name ?? '(unnamed)'} <Digest value={short(digestText(sub.digest))} />
          </li>
        ))}
      </ul>
      <h3>Distribution</h3>
      {hex !== undefined && <Publication hex={hex} />}
      {hex !== undefined && <Admission name={[...names][0] ?? 'artifact'} hex={hex} />}
      {hex !== undefined && <Deployments digest={`sha256:${hex}`} />}
    </section>
  );
}
