// Transparency log monitor alarms, live: GET /v1/log/monitor (public API, permission log.monitor)
// polled every 5 s; a new alarm (latestAlarmId grew) refreshes the views, and a banner on every
// view says which logs are in alarm until a check passes again, or until the user acknowledges
// alarms that are over. Tokens without log.monitor (403) or servers without it (404): no banner.
import { useState, type ReactNode } from 'react';
import { usePolling } from './hooks.ts';
import { ApiError, getJson } from './api.ts';
import { Link } from './ui.tsx';

export interface MonitorAlarm {
  id: number;
  log: string;
  kind: string;
  code: string;
  message: string;
  size: number | null;
  checkpoint: string | null;
  raisedAt: string;
}

export interface MonitoredLog {
  name: string;
  origin: string;
  source: string;
  self: boolean;
  status: 'ok' | 'alarm' | 'pending';
  verified: { size: number; rootHash: string; checkpoint: string; cosignatures: string[]; verifiedAt: string } | null;
  checkedAt: string | null;
  witnesses: { required: number; keys: string[] };
  openAlarm: MonitorAlarm | null;
}

export interface MonitorAnswer {
  enabled: boolean;
  intervalMs: number;
  logs: MonitoredLog[];
  alarms: MonitorAlarm[];
  next: number | null;
  alarmsTotal: number;
  latestAlarmId: number | null;
}

/** What each alarm kind means, for people (docs/transparency-log.md has the same list). */
export const ALARM_KINDS: Record<string, string> = {
  'bad-signature': 'checkpoint not signed by the log key',
  'bad-checkpoint': 'malformed checkpoint or wrong origin',
  'missing-witness': 'witness cosignatures missing',
  rollback: 'the log shrank (rolled back)',
  fork: 'inconsistent history (fork or split view)',
  'tile-mismatch': 'tiles do not match the checkpoint',
  unavailable: 'checkpoint or tiles unreadable',
};

export function loadMonitor(params: { limit?: number; before?: number } = {}): Promise<MonitorAnswer> {
  const sp = new URLSearchParams({ limit: String(params.limit ?? 20) });
  if (params.before !== undefined) sp.set('before', String(params.before));
  return getJson<MonitorAnswer>(`/v1/log/monitor?${sp.toString()}`);
}

const SEEN_KEY = 'custody.alarmsSeen';

/** Polls the monitor; `tick` grows when a new alarm arrives. */
export function useAlarms(enabled: boolean): { monitor: MonitorAnswer | undefined; tick: number; news: string | undefined } {
  const [monitor, setMonitor] = useState<MonitorAnswer | undefined>();
  const [tick, setTick] = useState(0);
  const [news, setNews] = useState<string | undefined>();
  usePolling(enabled, () => {
    let last: number | null | undefined;
    return async (ended) => {
      try {
        const answer = await loadMonitor({ limit: 1 });
        if (ended()) return undefined;
        if (last !== undefined && answer.latestAlarmId !== last && answer.alarms[0] !== undefined) {
          const a = answer.alarms[0];
          setNews(`Transparency log alarm: ${a.log}: ${ALARM_KINDS[a.kind] ?? a.kind}`);
          setTick((t) => t + 1);
        }
        last = answer.latestAlarmId;
        setMonitor(answer);
      } catch (e) {
        // Not allowed to read the monitor, or no such route: stop asking.
        if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return 'stop';
      }
      return undefined;
    };
  });
  return { monitor, tick, news };
}

/** The banner on every view: logs in alarm now, or alarms newer than the acknowledged one. */
export function AlarmBanner({ monitor }: { monitor: MonitorAnswer | undefined }): ReactNode {
  const [seen, setSeen] = useState(() => Number(localStorage.getItem(SEEN_KEY) ?? '0'));
  if (monitor === undefined || !monitor.enabled) return null;
  const failing = monitor.logs.filter((l) => l.status === 'alarm');
  const latest = monitor.latestAlarmId ?? 0;
  const unseen = latest > seen;
  if (failing.length === 0 && !unseen) return null;
  const acknowledge = (): void => {
    localStorage.setItem(SEEN_KEY, String(latest));
    setSeen(latest);
  };
  return (
    <div className="alarm-banner" role="alert" aria-labelledby="alarm-banner-title" data-testid="alarm-banner">
      <strong id="alarm-banner-title">Transparency log alarm</strong>{' '}
      {failing.length > 0 ? (
        <span>
          {failing.map((l) => `${l.name}: ${ALARM_KINDS[l.openAlarm?.kind ?? ''] ?? l.openAlarm?.kind ?? 'failing'}`).join('; ')} — {failing.length === 1 ? 'its' : 'their'} last
          check failed.
        </span>
      ) : (
        <span>New alarms since you last looked ({monitor.alarmsTotal} in total); the logs pass their checks again.</span>
      )}{' '}
      <Link to="/log">See the monitor</Link>
      {failing.length === 0 && (
        <button type="button" onClick={acknowledge}>
          Acknowledge
        </button>
      )}
    </div>
  );
}
