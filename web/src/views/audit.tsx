// Signing and audit: the audit chain's status (GET /v1/audit/verify), the newest entries with
// refusals picked out, who signed what (signing.sign entries), the signing keys and revocations.
import type { ReactNode } from 'react';
import { ApiError, getJson } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { Badge, Link, Status, when } from '../ui.tsx';

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  namespace: string | null;
  target: string | null;
  outcome: 'allowed' | 'denied' | 'failed';
  status: number;
  detail: Record<string, unknown>;
}
interface Verify {
  ok: boolean;
  entries: number;
  problems: { code: string; seq?: number; message: string }[];
}
interface KeyInfo {
  name: string;
  keyid: string;
  type?: string;
  revokedAt?: string;
}
interface Revocations {
  keys: { name: string; keyid: string; revokedAt: string }[];
  signatures: unknown[];
}

async function newest(): Promise<AuditEntry[]> {
  const first = await getJson<{ head: { seq: number } | null }>('/v1/audit?after=0&limit=1');
  const last = first.head?.seq ?? 0;
  const page = await getJson<{ items: AuditEntry[] }>(`/v1/audit?after=${Math.max(0, last - 300)}&limit=300`);
  return page.items.reverse();
}

async function optional<T>(path: string): Promise<T | undefined> {
  try {
    return await getJson<T>(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

function EntryRows({ items }: { items: AuditEntry[] }): ReactNode {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {items.map((e) => (
          <tr key={e.seq} className={e.outcome === 'allowed' ? '' : 'refused'}>
            <td>{e.seq}</td>
            <td>{when(e.at)}</td>
            <td>{e.actor}</td>
            <td>{e.action}</td>
            <td>
              <code>{(e.target ?? '').slice(0, 40)}</code>
            </td>
            <td>
              <Badge ok={e.outcome === 'allowed'}>{e.outcome}</Badge> {e.status}
              {typeof e.detail['code'] === 'string' ? ` ${e.detail['code']}` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Who signed what with which key: the signing.sign entries (detail: keyRef, digest, mode). */
function SigningRows({ items }: { items: AuditEntry[] }): ReactNode {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Who</th>
          <th scope="col">Key</th>
          <th scope="col">Artifact</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {items.map((e) => {
          const digest = typeof e.detail['digest'] === 'string' ? e.detail['digest'] : undefined;
          return (
            <tr key={e.seq} className={e.outcome === 'allowed' ? '' : 'refused'}>
              <td>{when(e.at)}</td>
              <td>{e.actor}</td>
              <td>{typeof e.detail['keyRef'] === 'string' ? e.detail['keyRef'] : ''}</td>
              <td>
                {e.target ?? ''} {digest !== undefined && /^[a-z0-9]+:[0-9a-f]+$/.test(digest) && <Link to={`/artifacts/${digest}`}>{digest.slice(0, 19)}</Link>}
              </td>
              <td>
                <Badge ok={e.outcome === 'allowed'}>{e.outcome}</Badge> {e.status}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function AuditView(): ReactNode {
  const verify = useLoad('audit-verify', () => getJson<Verify>('/v1/audit/verify'));
  const entries = useLoad('audit-entries', newest);
  const keys = useLoad('signing-keys', () => optional<{ keys: KeyInfo[] }>('/v1/signing/keys'));
  const revocations = useLoad('revocations', () => optional<Revocations>('/v1/revocations'));
  const items = entries.data ?? [];
  const refusals = items.filter((e) => e.outcome !== 'allowed');
  const signings = items.filter((e) => e.action.startsWith('signing.'));
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Signing and audit</h2>
      <h3>Audit chain</h3>
      <Status loading={verify.loading && verify.data === undefined} error={verify.error} what="the audit chain (admin tokens only)" />
      {verify.data !== undefined && (
        <div data-testid="audit-status">
          <p>
            <Badge ok={verify.data.ok}>{verify.data.ok ? 'intact' : 'BROKEN'}</Badge> {verify.data.entries} entries, hash chain recomputed by the server.
          </p>
          {verify.data.problems.length > 0 && (
            <ul className="failed-rules">
              {verify.data.problems.map((p, i) => (
                <li key={i}>
                  <code>{p.code}</code> {p.seq === undefined ? '' : `at #${p.seq}`}: {p.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <h3>Signing keys</h3>
      <Status loading={false} error={keys.error} what="signing keys" />
      {keys.data === undefined && !keys.loading && <p>This server does not sign (no signing configuration).</p>}
      {keys.data !== undefined && (
        <ul>
          {keys.data.keys.map((k) => (
            <li key={k.keyid}>
              {k.name} <code>{k.keyid.slice(0, 24)}</code> {k.type ?? ''} {k.revokedAt === undefined ? <Badge ok>active</Badge> : <Badge ok={false}>revoked {when(k.revokedAt)}</Badge>}
            </li>
          ))}
        </ul>
      )}
      {revocations.data !== undefined && (
        <p>
          Revocations: {revocations.data.keys.length} keys, {revocations.data.signatures.length} signatures.
        </p>
      )}
      <h3>Signatures made ({signings.length} of the newest entries)</h3>
      {signings.length > 0 ? <SigningRows items={signings} /> : <p className="muted">None among the newest audit entries.</p>}
      <h3>Refusals ({refusals.length} of the newest entries)</h3>
      <Status loading={entries.loading && entries.data === undefined} error={entries.error} what="audit entries" />
      {refusals.length > 0 ? <EntryRows items={refusals} /> : entries.data !== undefined && <p className="muted">No refusals.</p>}
      <details>
        <summary>All newest entries ({items.length})</summary>
        <EntryRows items={items} />
      </details>
    </section>
  );
}
