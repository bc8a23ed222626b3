// Repository: the TUF roles served at /tuf/metadata/ (TUF spec §5 consistent snapshots):
// versions, thresholds, keys, expiries, and what expires soon. Read-only, public metadata.
import type { ReactNode } from 'react';
import { ApiError, getJson } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { Badge, Status, when } from '../ui.tsx';

interface Signed {
  _type: string;
  version: number;
  expires: string;
  roles?: Record<string, { keyids: string[]; threshold: number }>;
  meta?: Record<string, { version: number }>;
  targets?: Record<string, { length: number; hashes: Record<string, string> }>;
  delegations?: { roles?: { name: string; keyids: string[]; threshold: number; paths?: string[] }[] };
}
interface Metadata {
  signed: Signed;
  signatures: { keyid: string; sig: string }[];
}

export interface TufState {
  served: boolean;
  roles: { name: string; version: number; expires: string; threshold?: number; keys?: number; signatures: number }[];
  targets: Record<string, { length: number; hashes: Record<string, string> }>;
  targetsVersion?: number;
}

async function meta(file: string): Promise<Metadata | undefined> {
  try {
    return await getJson<Metadata>(`/tuf/metadata/${file}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

type Roles = TufState['roles'];

function roleRow(name: string, m: Metadata, threshold: number | undefined, keys: number | undefined): Roles[number] {
  return { name, version: m.signed.version, expires: m.signed.expires, signatures: m.signatures.length, ...(threshold === undefined ? {} : { threshold }), ...(keys === undefined ? {} : { keys }) };
}

/** Delegated targets roles named in snapshot (TUF spec §5.6): their rows and targets. */
async function delegated(targets: Metadata, snapshot: Metadata, roles: Roles, all: TufState['targets']): Promise<void> {
  for (const d of targets.signed.delegations?.roles ?? []) {
    const v = snapshot.signed.meta?.[`${d.name}.json`]?.version;
    const m = v === undefined ? undefined : await meta(`${v}.${d.name}.json`);
    if (m === undefined) continue;
    roles.push(roleRow(d.name, m, d.threshold, d.keyids.length));
    Object.assign(all, m.signed.targets ?? {});
  }
}

export async function loadTuf(): Promise<TufState> {
  const [root, timestamp] = await Promise.all([meta('root.json'), meta('timestamp.json')]);
  if (root === undefined || timestamp === undefined) return { served: false, roles: [], targets: {} };
  const rootRoles = root.signed.roles ?? {};
  const roles: Roles = [];
  const add = (name: string, m: Metadata | undefined): void => {
    if (m !== undefined) roles.push(roleRow(name, m, rootRoles[name]?.threshold, rootRoles[name]?.keyids.length));
  };
  add('root', root);
  add('timestamp', timestamp);
  const snapshotVersion = timestamp.signed.meta?.['snapshot.json']?.version;
  const snapshot = snapshotVersion === undefined ? undefined : await meta(`${snapshotVersion}.snapshot.json`);
  add('snapshot', snapshot);
  const targetsVersion = snapshot?.signed.meta?.['targets.json']?.version;
  const targets = targetsVersion === undefined ? undefined : await meta(`${targetsVersion}.targets.json`);
  add('targets', targets);
  const all = { ...(targets?.signed.targets ?? {}) };
  if (targets !== undefined && snapshot !== undefined) await delegated(targets, snapshot, roles, all);
  return { served: true, roles, targets: all, ...(targetsVersion === undefined ? {} : { targetsVersion }) };
}

/** Is an artifact (sha256 hex) a published TUF target? */
export async function findTufTarget(sha256: string): Promise<{ served: boolean; target?: string; version?: number }> {
  const state = await loadTuf();
  const found = Object.entries(state.targets).find(([, t]) => t.hashes['sha256'] === sha256);
  return { served: state.served, ...(found === undefined ? {} : { target: found[0] }), ...(state.targetsVersion === undefined ? {} : { version: state.targetsVersion }) };
}

const SOON_MS = 7 * 24 * 3600 * 1000;

export function RepositoryView(): ReactNode {
  const { data, error, loading } = useLoad('tuf', loadTuf);
  const now = Date.now();
  return (
    <section aria-labelledby="repo-h">
      <h2 id="repo-h">Repository (TUF)</h2>
      <Status loading={loading && data === undefined} error={error} what="TUF metadata" />
      {data !== undefined && !data.served && <p>This server serves no TUF repository at /tuf/metadata/ (see docs/distribution.md).</p>}
      {data?.served === true && (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Version</th>
                <th scope="col">Threshold</th>
                <th scope="col">Signatures</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {data.roles.map((r) => {
                const left = new Date(r.expires).getTime() - now;
                const needs = r.threshold !== undefined && r.signatures < r.threshold;
                return (
                  <tr key={r.name}>
                    <td>{r.name}</td>
                    <td>{r.version}</td>
                    <td>{r.threshold === undefined ? '' : `${r.threshold} of ${r.keys ?? '?'}`}</td>
                    <td>
                      <Badge ok={!needs}>{r.signatures}</Badge> {needs ? 'needs signatures' : ''}
                    </td>
                    <td>
                      <Badge ok={left > SOON_MS ? true : left > 0 ? undefined : false}>{when(r.expires)}</Badge>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p>{Object.keys(data.targets).length} targets published.</p>
        </>
      )}
    </section>
  );
}
