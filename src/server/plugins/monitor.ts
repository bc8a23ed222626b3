// The transparency log monitor in the server (log-monitor.ts): runs it, and publishes what it found
// at GET /v1/log/monitor — each monitored log's last verified checkpoint and status, and the
// alarms newest first. Each alarm is also audited (action log.alarm), counted in /metrics and
// POSTed to the alert webhook (monitor.webhook, default signing.webhook).
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { PostgresMonitorState, SqliteMonitorState, type MonitorAlarmRecord, type MonitorStateStore } from '../../store/index.ts';
import { FileTileFetcher, HttpTileFetcher, MONITOR_ALARM_KINDS, parseCosignatureVerifierKey, parseVerifierKey } from '../../tlog/index.ts';
import { InputError } from '../../core/index.ts';
import type { AppContext } from '../app.ts';
import { LOG_DIR } from '../log-service.ts';
import { LogMonitor, type MonitoredLog, type MonitoredLogStatus } from '../log-monitor.ts';
import { errorResponses } from '../schemas.ts';
import { postWebhook } from './sign.ts';

const alarmSchema = {
  type: 'object',
  required: ['id', 'log', 'kind', 'code', 'message', 'raisedAt'],
  properties: {
    id: { type: 'integer' },
    log: { type: 'string', description: 'The monitored log (monitor.logs[].name; the own log: its origin)' },
    kind: { type: 'string', enum: [...MONITOR_ALARM_KINDS] },
    code: { type: 'string', description: 'Error code of the failed check (LOG_INCONSISTENT, TILE_INVALID, SIGNATURE_MISSING, …)' },
    message: { type: 'string' },
    size: { type: ['integer', 'null'], description: 'Tree size the offending checkpoint claims' },
    checkpoint: { type: ['string', 'null'], description: 'The offending signed checkpoint, as served (evidence)' },
    raisedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const checkpointSchema = {
  type: ['object', 'null'],
  properties: {
    size: { type: 'integer' },
    rootHash: { type: 'string', description: 'base64' },
    checkpoint: { type: 'string' },
    cosignatures: { type: 'array', items: { type: 'string' }, description: 'Witnesses whose cosignatures verified' },
    verifiedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const logSchema = {
  type: 'object',
  required: ['name', 'origin', 'source', 'self', 'status'],
  properties: {
    name: { type: 'string' },
    origin: { type: 'string' },
    source: { type: 'string', description: 'tlog-tiles prefix URL, or "local" for this server\'s own log' },
    self: { type: 'boolean' },
    status: { type: 'string', enum: ['ok', 'alarm', 'pending'] },
    verified: checkpointSchema,
    checkedAt: { type: ['string', 'null'], format: 'date-time' },
    witnesses: { type: 'object', properties: { required: { type: 'integer' }, keys: { type: 'array', items: { type: 'string' } } } },
    openAlarm: { anyOf: [alarmSchema, { type: 'null' }] },
  },
} as const;

const responseSchema = {
  type: 'object',
  required: ['enabled', 'logs', 'alarms', 'next', 'alarmsTotal', 'latestAlarmId'],
  properties: {
    enabled: { type: 'boolean' },
    intervalMs: { type: 'integer' },
    logs: { type: 'array', items: logSchema },
    alarms: { type: 'array', items: alarmSchema },
    next: { type: ['integer', 'null'], description: 'Pass as `before` for the next (older) page' },
    alarmsTotal: { type: 'integer' },
    latestAlarmId: { type: ['integer', 'null'], description: 'Id of the newest alarm: poll this to notice new alarms' },
  },
} as const;

function alarmView(a: MonitorAlarmRecord): Record<string, unknown> {
  return { id: a.id, log: a.logId, kind: a.kind, code: a.code, message: a.message, size: a.size, checkpoint: a.checkpoint, raisedAt: a.raisedAt };
}

function statusView(s: MonitoredLogStatus): Record<string, unknown> {
  const v = s.verified;
  return {
    ...s,
    verified: v === null ? null : { size: v.size, rootHash: v.rootHash, checkpoint: v.checkpoint, cosignatures: v.cosignatures, verifiedAt: v.verifiedAt },
    openAlarm: s.openAlarm === null ? null : alarmView(s.openAlarm),
  };
}

/** The logs to monitor: the own log (monitor.self, when the server runs one) and monitor.logs. */
function monitoredLogs(ctx: AppContext): MonitoredLog[] {
  const config = ctx.config.monitor;
  const logs: MonitoredLog[] = [];
  const own = ctx.transparencyLog;
  if (config.self && own !== undefined) {
    logs.push({
      name: own.origin,
      origin: own.origin,
      source: 'local',
      self: true,
      fetcher: new FileTileFetcher(join(ctx.config.dataDir, LOG_DIR)),
      key: parseVerifierKey(own.verifierKey),
      witnesses: config.witnesses.map(parseCosignatureVerifierKey),
      witnessThreshold: config.witnessThreshold,
    });
  }
  for (const l of config.logs) {
    if (logs.some((o) => o.name === l.name)) {
      throw new InputError('INPUT_INVALID', `server config: monitor.logs: the name '${l.name}' is this server's own log (give the external log another name)`);
    }
    logs.push({
      name: l.name,
      origin: l.origin,
      source: l.url,
      self: false,
      fetcher: new HttpTileFetcher(l.url, { timeoutMs: Math.min(30_000, Math.max(1_000, config.intervalMs)) }),
      key: parseVerifierKey(l.key),
      witnesses: l.witnesses.map(parseCosignatureVerifierKey),
      witnessThreshold: l.witnessThreshold,
    });
  }
  return logs;
}

export function monitorPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const config = ctx.config.monitor;
  let logs: MonitoredLog[];
  try {
    logs = config.enabled ? monitoredLogs(ctx) : [];
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  let state: MonitorStateStore | undefined;
  let monitor: LogMonitor | undefined;

  if (logs.length > 0) {
    const registry = ctx.metrics.registry;
    const alarms = new Counter({ name: 'custody_log_monitor_alarms_total', help: 'Transparency log monitor alarms raised, by log and kind', labelNames: ['log', 'kind'], registers: [registry] });
    const checks = new Counter({ name: 'custody_log_monitor_checks_total', help: 'Transparency log monitor checks, by log and result (ok|alarm|pending)', labelNames: ['log', 'result'], registers: [registry] });
    const size = new Gauge({ name: 'custody_log_monitor_verified_size', help: 'Tree size of the last checkpoint the monitor verified', labelNames: ['log'], registers: [registry] });
    const open = new Gauge({ name: 'custody_log_monitor_alarm', help: '1 while the last check of the log failed, else 0', labelNames: ['log'], registers: [registry] });
    const webhook = config.webhook ?? ctx.config.signing.webhook;
    const store = ctx.config.store;
    // Started once every plugin has loaded (a later plugin failing leaves nothing running).
    const startMonitor = async (): Promise<void> => {
      state = store.driver === 'postgres' ? new PostgresMonitorState(store.url) : new SqliteMonitorState(join(ctx.config.dataDir, 'custody.db'));
      monitor = new LogMonitor({
        logs,
        state,
        intervalMs: config.intervalMs,
        witnessGraceMs: config.witnessGraceMs,
        now: ctx.now,
        onError: (e) => app.log.error({ err: e }, 'log monitor: check failed'),
        onChecked: (log, status) => {
          checks.inc({ log: log.name, result: status.status });
          open.set({ log: log.name }, status.status === 'alarm' ? 1 : 0);
          if (status.verified !== null) size.set({ log: log.name }, status.verified.size);
        },
        onAlarm: async (alarm, log) => {
          alarms.inc({ log: log.name, kind: alarm.kind });
          app.log.warn({ log: log.name, kind: alarm.kind, code: alarm.code, alarmId: alarm.id }, `transparency log ALARM: ${alarm.message}`);
          const detail = { alarmId: alarm.id, kind: alarm.kind, code: alarm.code, message: alarm.message.slice(0, 500), size: alarm.size, source: log.source };
          await ctx.store.write([{ audit: { at: alarm.raisedAt, actor: 'system:monitor', action: 'log.alarm', namespace: null, target: log.name, outcome: 'failed', status: 0, detail } }]);
          if (webhook !== undefined) {
            postWebhook(webhook, { event: 'log.alarm', log: log.name, origin: log.origin, ...detail, raisedAt: alarm.raisedAt, checkpoint: alarm.checkpoint }).catch((e: unknown) =>
              app.log.error({ err: e, alarmId: alarm.id }, 'log monitor: alarm webhook failed'),
            );
          }
        },
      });
      await monitor.start();
    };
    app.addHook('onReady', startMonitor);
    app.addHook('onClose', async () => {
      await monitor?.close();
      await state?.close();
    });
  }

  app.get<{ Querystring: { limit: number; before?: number; log?: string } }>(
    '/v1/log/monitor',
    {
      config: { permission: 'log.monitor' },
      schema: {
        summary: 'Transparency log monitor: each monitored log\'s last verified checkpoint and status, and the alarms, newest first',
        description:
          'Alarm kinds: bad-signature, bad-checkpoint, missing-witness, rollback, fork, tile-mismatch, unavailable (docs/transparency-log.md). ' +
          'Live updates: poll with limit=1 and compare latestAlarmId (the dashboard does, every 5 s).',
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
            before: { type: 'integer', minimum: 1, description: 'Only alarms with a smaller id (the `next` of the previous page)' },
            log: { type: 'string', maxLength: 512, description: 'Only the alarms of this log' },
          },
          additionalProperties: false,
        },
        response: { 200: responseSchema, ...errorResponses },
      },
    },
    async (request) => {
      if (state === undefined || monitor === undefined) {
        return { enabled: false, intervalMs: config.intervalMs, logs: [], alarms: [], next: null, alarmsTotal: 0, latestAlarmId: null };
      }
      const { limit, before, log } = request.query;
      const [page, total, latest] = await Promise.all([
        state.alarms({ limit, ...(before === undefined ? {} : { before }), ...(log === undefined ? {} : { logId: log }) }),
        state.alarmCount(),
        state.alarms({ limit: 1 }),
      ]);
      return {
        enabled: true,
        intervalMs: config.intervalMs,
        logs: monitor.status().map(statusView),
        alarms: page.map(alarmView),
        next: page.length === limit ? page[page.length - 1]!.id : null,
        alarmsTotal: total,
        latestAlarmId: latest[0]?.id ?? null,
      };
    },
  );
  return Promise.resolve();
}
