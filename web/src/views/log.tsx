// Transparency log: origin and verifier key (GET /v1/log), the latest signed checkpoint
// (C2SP tlog-checkpoint at /log/checkpoint): size, root hash, the log's signature and witness
// cosignatures (C2SP signed-note: one "— name sig" line each).
import type { ReactNode } from 'react';
import { ApiError, getJson, getText } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { Status } from '../ui.tsx';

interface LogState {
  enabled: boolean;
  origin?: string;
  verifierKey?: string;
  checkpoint?: { origin: string; size: number; rootHash: string; signers: string[]; text: string };
}

export function parseCheckpoint(text: string): { origin: string; size: number; rootHash: string; signers: string[] } {
  const [body = '', sigs = ''] = text.split('\n\n');
  const [origin = '', size = '0', rootHash = ''] = body.split('\n');
  const signers = sigs
    .split('\n')
    .filter((l) => l.startsWith('\u2014 '))
    .map((l) => l.slice(2).split(' ')[0] ?? '');
  return { origin, size: Number(size), rootHash, signers };
}

async function loadLog(): Promise<LogState> {
  let info: { origin: string; verifierKey: string };
  try {
    info = await getJson<{ origin: string; verifierKey: string }>('/v1/log');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { enabled: false };
    throw e;
  }
  try {
    const { text } = await getText('/log/checkpoint');
    return { enabled: true, ...info, checkpoint: { ...parseCheckpoint(text), text } };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { enabled: true, ...info };
    throw e;
  }
}

export function LogView(): ReactNode {
  const { data, error, loading } = useLoad('log', loadLog);
  const cp = data?.checkpoint;
  const logName = data?.origin ?? '';
  return (
    <section aria-labelledby="log-h">
      <h2 id="log-h">Transparency log</h2>
      <Status loading={loading && data === undefined} error={error} what="the log" />
      {data !== undefined && !data.enabled && <p>This server runs no transparency log (tlog.enabled: false).</p>}
      {data?.enabled === true && (
        <dl data-testid="log-state">
          <dt>Origin</dt>
          <dd>
            <code>{data.origin}</code>
          </dd>
          <dt>Verifier key</dt>
          <dd>
            <code className="digest">{data.verifierKey}</code>
          </dd>
          <dt>Size</dt>
          <dd>{cp === undefined ? 'no checkpoint yet' : `${cp.size} entries`}</dd>
          {cp !== undefined && (
            <>
              <dt>Root hash</dt>
              <dd>
                <code className="digest">{cp.rootHash}</code>
              </dd>
              <dt>Signatures</dt>
              <dd>
                log: {cp.signers.filter((s) => s === logName).length > 0 ? 'signed' : 'missing'}; witness cosignatures: {cp.signers.filter((s) => s !== logName).length}
                {cp.signers.filter((s) => s !== logName).length > 0 && ` (${cp.signers.filter((s) => s !== logName).join(', ')})`}
              </dd>
              <dt>Checkpoint</dt>
              <dd>
                <pre>{cp.text}</pre>
              </dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}
