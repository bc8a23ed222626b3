// The transparency log monitor inside `custody serve`: every `intervalMs` it checks each monitored
// log (this server's own log, read from <dataDir>/log, and the external logs of `monitor.logs`)
// with the tlog monitor library (src/tlog/monitor.ts, the same checks as `custody log monitor`):
// the checkpoint's signature and witness cosignatures, never shrinking, consistency with the last
// checkpoint it verified, and the tiles re-derived from the entries. The last verified checkpoint
// is kept in the database (a restart resumes from it); every failure becomes an alarm, stored and
// handed to `onAlarm` (audit, metrics, webhook: plugins/monitor.ts). A failure that persists raises
// one alarm, not one per check; the log's status stays `alarm` until a check passes again.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MonitorAlarmRecord, MonitorStateStore, MonitoredCheckpoint } from '../store/index.ts';
import {
  CHECKPOINT_PATH,
  checkLogOnce,
  monitorAlarmKind,
  parseCheckpoint,
  parseNote,
  type MonitorAlarmKind,
  type MonitorState,
  type NoteVerifier,
  type TileFetcher,
} from '../tlog/index.ts';

export interface MonitoredLog {
  /** The name in the API, alarms and metrics. */
  readonly name: string;
  readonly origin: string;
  /** Where the tiles come from: the tlog-tiles prefix URL, or `local` for the own log. */
  readonly source: string;
  readonly self: boolean;
  readonly fetcher: TileFetcher;
  readonly key: NoteVerifier;
  readonly witnesses: readonly NoteVerifier[];
  readonly witnessThreshold: number;
}

export interface MonitoredLogStatus {
  name: string;
  origin: string;
  source: string;
  self: boolean;
  /** ok: the last check passed; alarm: it failed (see `openAlarm`); pending: nothing verified yet. */
  status: 'ok' | 'alarm' | 'pending';
  verified: MonitoredCheckpoint | null;
  checkedAt: string | null;
  witnesses: { required: number; keys: string[] };
  openAlarm: MonitorAlarmRecord | null;
}

export interface LogMonitorOptions {
  readonly logs: readonly MonitoredLog[];
  readonly state: MonitorStateStore;
  readonly intervalMs: number;
  readonly witnessGraceMs: number;
  readonly now: () => Date;
  /** Called once per new alarm, after it is stored. */
  readonly onAlarm: (alarm: MonitorAlarmRecord, log: MonitoredLog) => Promise<void>;
  /** Called after every check of a log. */
  readonly onChecked?: (log: MonitoredLog, status: MonitoredLogStatus) => void;
  readonly onError?: (error: unknown) => void;
}

/** The checkpoint read once per check, so that every step of the check sees the same bytes. */
class SnapshotFetcher implements TileFetcher {
  readonly #inner: TileFetcher;
  #checkpoint: Promise<Uint8Array | undefined> | undefined;

  constructor(inner: TileFetcher) {
    this.#inner = inner;
  }

  fetchTile(path: string): Promise<Uint8Array | undefined> {
    if (path !== CHECKPOINT_PATH) return this.#inner.fetchTile(path);
    this.#checkpoint ??= this.#inner.fetchTile(path);
    return this.#checkpoint;
  }
}

interface Entry {
  readonly log: MonitoredLog;
  verified: MonitoredCheckpoint | undefined;
  checkedAt: string | undefined;
  openAlarm: MonitorAlarmRecord | undefined;
  /** What the open alarm is about: kind + checkpoint digest, so a persisting failure alarms once. */
  alarmKey: string | undefined;
  pending: boolean;
}

function text(bytes: Uint8Array | undefined): string | null {
  return bytes === undefined ? null : Buffer.from(bytes).toString('utf8');
}

/** The tree size a checkpoint claims, read without trusting it (evidence for an alarm). */
function claimedSize(checkpoint: string | null): number | null {
  if (checkpoint === null) return null;
  try {
    return parseCheckpoint(parseNote(checkpoint).text).size;
  } catch {
    return null;
  }
}

export class LogMonitor {
  readonly #o: LogMonitorOptions;
  readonly #entries: Entry[];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: LogMonitorOptions) {
    this.#o = options;
    this.#entries = options.logs.map((log) => ({ log, verified: undefined, checkedAt: undefined, openAlarm: undefined, alarmKey: undefined, pending: true }));
  }

  get logs(): readonly MonitoredLog[] {
    return this.#o.logs;
  }

  /** Loads the checkpoints verified before (by this server before a restart, or another server). */
  async load(): Promise<void> {
    const saved = new Map((await this.#o.state.checkpoints()).map((c) => [c.logId, c]));
    for (const e of this.#entries) {
      e.verified = saved.get(e.log.name);
      e.pending = e.verified === undefined;
    }
  }

  /** load(), then a check of every log now and every intervalMs after. */
  async start(): Promise<void> {
    await this.load();
    this.#schedule(0);
  }

  #schedule(delay: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.checkAll().finally(() => this.#schedule(this.#o.intervalMs));
    }, delay);
    this.#timer.unref();
  }

  /** One round over every log (rounds never overlap). */
  checkAll(): Promise<void> {
    this.#running ??= (async () => {
      try {
        for (const e of this.#entries) {
          if (this.#closed) return;
          try {
            await this.#check(e);
          } catch (err) {
            // The database failed, not the log: report, try again next round.
            this.#o.onError?.(err);
          }
        }
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  status(): MonitoredLogStatus[] {
    return this.#entries.map((e) => this.#statusOf(e));
  }

  #statusOf(e: Entry): MonitoredLogStatus {
    return {
      name: e.log.name,
      origin: e.log.origin,
      source: e.log.source,
      self: e.log.self,
      status: e.openAlarm !== undefined ? 'alarm' : e.pending ? 'pending' : 'ok',
      verified: e.verified ?? null,
      checkedAt: e.checkedAt ?? null,
      witnesses: { required: e.log.witnessThreshold, keys: e.log.witnesses.map((w) => w.name) },
      openAlarm: e.openAlarm ?? null,
    };
  }

  async #check(e: Entry): Promise<void> {
    const { log } = e;
    const previous: MonitorState | undefined =
      e.verified === undefined ? undefined : { origin: e.verified.origin, size: e.verified.size, rootHash: e.verified.rootHash, checkpoint: e.verified.checkpoint };
    const options = { log: log.key, origin: log.origin, witnesses: log.witnesses, witnessThreshold: log.witnessThreshold, recheckTiles: true };
    let fetcher = new SnapshotFetcher(log.fetcher);
    let served: Uint8Array | undefined;
    try {
      served = await fetcher.fetchTile(CHECKPOINT_PATH);
      // A log that has never published a checkpoint (a fresh server) is not an alarm.
      if (served === undefined && previous === undefined) {
        e.checkedAt = this.#o.now().toISOString();
        this.#o.onChecked?.(log, this.#statusOf(e));
        return;
      }
      let step;
      try {
        step = await checkLogOnce({ ...options, fetcher }, previous);
      } catch (first) {
        // The log adds the witnesses' cosignatures just after publishing: read it once more.
        if (monitorAlarmKind(first) !== 'missing-witness' || this.#o.witnessGraceMs === 0) throw first;
        await sleep(this.#o.witnessGraceMs);
        fetcher = new SnapshotFetcher(log.fetcher);
        served = await fetcher.fetchTile(CHECKPOINT_PATH);
        step = await checkLogOnce({ ...options, fetcher }, previous);
      }
      const at = this.#o.now().toISOString();
      if (e.verified === undefined || e.verified.checkpoint !== step.state.checkpoint) {
        const verified: MonitoredCheckpoint = {
          logId: log.name,
          origin: step.state.origin,
          size: step.state.size,
          rootHash: step.state.rootHash,
          checkpoint: step.state.checkpoint,
          cosignatures: step.opened.cosignatures.map((c) => c.name),
          verifiedAt: at,
        };
        await this.#o.state.saveCheckpoint(verified);
        e.verified = verified;
      }
      e.pending = false;
      e.openAlarm = undefined;
      e.alarmKey = undefined;
      e.checkedAt = at;
    } catch (err) {
      if (this.#closed) return;
      await this.#raise(e, monitorAlarmKind(err), err, text(await fetcher.fetchTile(CHECKPOINT_PATH).catch(() => undefined)));
    }
    this.#o.onChecked?.(log, this.#statusOf(e));
  }

  async #raise(e: Entry, kind: MonitorAlarmKind, error: unknown, checkpoint: string | null): Promise<void> {
    const at = this.#o.now().toISOString();
    e.checkedAt = at;
    const key = `${kind}:${checkpoint === null ? '-' : createHash('sha256').update(checkpoint).digest('hex')}`;
    if (e.alarmKey === key) return;
    const code = (error as { code?: unknown } | null)?.code;
    const message = (error instanceof Error ? error.message : String(error)).replace(/^ALARM: /, '').slice(0, 2000);
    const record = await this.#o.state.addAlarm({
      logId: e.log.name,
      kind,
      code: typeof code === 'string' ? code : 'VERIFICATION_FAILED',
      message,
      size: claimedSize(checkpoint),
      checkpoint,
      raisedAt: at,
    });
    e.openAlarm = record;
    e.alarmKey = key;
    await this.#o.onAlarm(record, e.log);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }
}
