// Transparency log: origin and verifier key (GET /v1/log), the latest signed checkpoint
// (C2SP tlog-checkpoint at /log/checkpoint): size, root hash, the log's signature and witness
// cosignatures (C2SP signed-note: one "— name sig" line each); and the server's log monitor
// (GET /v1/log/monitor): each monitored log's last verified checkpoint and its alarms.
import { useState, type ReactNode } from 'react';
import { ALARM_KINDS, loadMonitor, type MonitorAlarm, type MonitoredLog } from '../alarms.tsx';
import { ApiError, getJson, getText } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { Badge, Status, when } from '../ui.tsx';

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
      <MonitorSection />
    </section>
  );
}

function MonitoredLogCard({ log }: { log: MonitoredLog }): ReactNode {
  const v = log.verified;
  const label = log.status === 'alarm' ? 'ALARM' : log.status === 'ok' ? 'consistent' : 'nothing verified yet';
  return (
    <div className={`monitor-log ${log.status}`} data-testid="monitored-log">
      <h4>
        {log.name} <Badge ok={log.status === 'pending' ? undefined : log.status === 'ok'}>{label}</Badge>
      </h4>
      {log.openAlarm !== null && (
        <p className="error">
          {ALARM_KINDS[log.openAlarm.kind] ?? log.openAlarm.kind}: {log.openAlarm.message} [{log.openAlarm.code}]
        </p>
      )}
      <dl>
        <dt>Source</dt>
        <dd>{log.self ? 'this server\'s log' : <code>{log.source}</code>}</dd>
        <dt>Last verified checkpoint</dt>
        <dd>{v === null ? 'none' : `${v.size} entries, verified ${when(v.verifiedAt)}`}</dd>
        {v !== null && (
          <>
            <dt>Verified root hash</dt>
            <dd>
              <code className="digest">{v.rootHash}</code>
            </dd>
          </>
        )}
        <dt>Witnesses</dt>
        <dd>
          {log.witnesses.required === 0 && log.witnesses.keys.length === 0
            ? 'none required'
            : `${v?.cosignatures.length ?? 0} cosigned (${v?.cosignatures.join(', ') || 'none'}); ${log.witnesses.required} of ${log.witnesses.keys.length} required`}
        </dd>
        <dt>Last check</dt>
        <dd>{log.checkedAt === null ? 'not yet' : when(log.checkedAt)}</dd>
      </dl>
    </div>
  );
}

function AlarmTable({ alarms }: { alarms: MonitorAlarm[] }): ReactNode {
  return (
    <table data-testid="alarms">
      <caption className="sr-only">Monitor alarms, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Kind</th>
          <th scope="col">Log</th>
          <th scope="col">Raised</th>
          <th scope="col">Size</th>
          <th scope="col">What</th>
        </tr>
      </thead>
      <tbody>
        {alarms.map((a) => (
          <tr key={a.id} className="alarm-row">
            <td title={ALARM_KINDS[a.kind] ?? a.kind}>{a.kind}</td>
            <td>{a.log}</td>
            <td>{when(a.raisedAt)}</td>
            <td>{a.size ?? '—'}</td>
            <td>
              {a.message} <code>[{a.code}]</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The monitor: logs and alarms (pages of 20, newest first; "Older alarms" follows `next`). */
function MonitorSection(): ReactNode {
  const [pages, setPages] = useState<number[]>([]);
  const before = pages[pages.length - 1];
  const { data, error, loading } = useLoad(`monitor:${before ?? ''}`, () => loadMonitor(before === undefined ? {} : { before }));
  return (
    <section aria-labelledby="monitor-h">
      <h3 id="monitor-h">Monitor</h3>
      <Status loading={loading && data === undefined} error={error} what="the log monitor" />
      {data !== undefined && !data.enabled && <p>The log monitor is off (monitor.enabled: false, or no log to monitor).</p>}
      {data?.enabled === true && (
        <>
          <p className="muted">
            Every {data.intervalMs < 1000 ? `${data.intervalMs} ms` : `${Math.round(data.intervalMs / 1000)} s`} each log's checkpoint is checked: signature, witness cosignatures, consistency with the last verified one, and the tiles
            re-derived.
          </p>
          {data.logs.map((l) => (
            <MonitoredLogCard key={l.name} log={l} />
          ))}
          <h4>Alarms ({data.alarmsTotal})</h4>
          {data.alarms.length === 0 ? <p>No alarms{pages.length > 0 ? ' on this page' : ''}.</p> : <AlarmTable alarms={data.alarms} />}
          <div className="row">
            {pages.length > 0 && (
              <button type="button" onClick={() => setPages((p) => p.slice(0, -1))}>
                Newer alarms
              </button>
            )}
            {data.next !== null && (
              <button type="button" onClick={() => setPages((p) => [...p, data.next!])}>
                Older alarms
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
