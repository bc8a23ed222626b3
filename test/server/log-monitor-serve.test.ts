// The log monitor in a real `custody serve` process: it verifies the server's own log as entries
// arrive, remembers the last verified checkpoint across a restart (in the store), and after the
// log is rolled back while the server was down raises a rollback alarm: in GET /v1/log/monitor,
// the audit log (log.alarm), /metrics and a POST to the alert webhook. Reading the monitor needs
// the log.monitor permission (the attester role has none; the refusal is audited).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { PosixLogAppender, generateNoteKey, parseSignerKey } from '../../src/tlog/index.ts';
import { spawnServer, type ChildServer } from '../support/child-server.ts';
import { custody, tempDir } from '../support/cli.ts';
import { startHarness } from '../support/server-harness.ts';

interface MonitorAnswer {
  enabled: boolean;
  logs: { name: string; status: string; verified: { size: number; checkpoint: string } | null }[];
  alarms: { id: number; log: string; kind: string; code: string; size: number | null }[];
  alarmsTotal: number;
  latestAlarmId: number | null;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('log monitor in custody serve', { timeout: 90_000 }, () => {
  const tmp = tempDir('custody-monitor-serve-');
  let server: ChildServer | undefined;
  let hook: Server | undefined;
  const events: Record<string, unknown>[] = [];
  after(async () => {
    await server?.kill();
    hook?.close();
    tmp[Symbol.dispose]();
  });

  function token(role: string): string {
    const r = custody(['token', 'create', '--data', join(tmp.path, 'data'), '--role', role, '--namespace', '*', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { token: string }).token;
  }

  it('verifies the own log, keeps its checkpoint across a restart and alarms on a rollback', async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        events.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook!.listen(0, '127.0.0.1', r));
    const hookPort = (hook.address() as { port: number }).port;
    mkdirSync(join(tmp.path, 'data'), { recursive: true });
    const config = join(tmp.path, 'server.yaml');
    writeFileSync(config, `dataDir: data\nmonitor:\n  intervalMs: 200\n  webhook: http://127.0.0.1:${hookPort}/alarms\n`);
    const admin = token('admin');
    const attester = token('attester');

    server = await spawnServer(['--config', config]);
    const url = server.url;
    const get = async (path: string, bearer = admin): Promise<Response> => fetch(`${url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
    const monitor = async (): Promise<MonitorAnswer> => {
      const res = await get('/v1/log/monitor');
      assert.equal(res.status, 200);
      return (await res.json()) as MonitorAnswer;
    };
    const append = async (entries: string[]): Promise<void> => {
      const res = await fetch(`${url}/v1/log/entries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ entries: entries.map((e) => Buffer.from(e).toString('base64')) }),
      });
      assert.equal(res.status, 200, await res.text());
    };

    // Not for the attester role: 403, audited.
    const denied = await get('/v1/log/monitor', attester);
    assert.equal(denied.status, 403);
    const audit = async () => ((await (await get('/v1/audit?limit=1000')).json()) as { items: { action: string; outcome: string; target: string | null; detail: Record<string, unknown> }[] }).items;
    assert.ok((await audit()).some((e) => e.action === 'log.monitor' && e.outcome === 'denied'));

    await append(['one', 'two']);
    const logDir = join(tmp.path, 'data', 'log');
    const older = join(tmp.path, 'checkpoint-2');
    copyFileSync(join(logDir, 'checkpoint'), older);
    await append(['three', 'four']);
    const verified = await until('the monitor to verify size 4', async () => {
      const m = await monitor();
      return m.logs[0]?.verified?.size === 4 ? m : undefined;
    });
    assert.equal(verified.enabled, true);
    assert.deepEqual([verified.logs[0]!.name, verified.logs[0]!.status, verified.alarmsTotal], ['custody.local/log', 'ok', 0]);

    // Down, the log is rolled back to the checkpoint of size 2; up again.
    await server.kill();
    copyFileSync(older, join(logDir, 'checkpoint'));
    server = await spawnServer(['--config', config]);
    const restartedUrl = server.url;
    const getAgain = async (path: string): Promise<Response> => fetch(`${restartedUrl}${path}`, { headers: { authorization: `Bearer ${admin}` } });
    const alarmed = await until('the rollback alarm', async () => {
      const m = (await (await getAgain('/v1/log/monitor')).json()) as MonitorAnswer;
      return m.alarms.length > 0 ? m : undefined;
    });
    assert.deepEqual(
      alarmed.alarms.map((a) => [a.log, a.kind, a.code, a.size]),
      [['custody.local/log', 'rollback', 'LOG_INCONSISTENT', 2]],
    );
    assert.equal(alarmed.logs[0]!.status, 'alarm');
    assert.equal(alarmed.logs[0]!.verified?.size, 4, 'the checkpoint verified before the restart is kept');
    assert.equal(alarmed.latestAlarmId, alarmed.alarms[0]!.id);

    const metrics = await (await fetch(`${restartedUrl}/metrics`)).text();
    assert.match(metrics, /custody_log_monitor_alarms_total\{log="custody\.local\/log",kind="rollback"\} 1/);
    assert.match(metrics, /custody_log_monitor_alarm\{log="custody\.local\/log"\} 1/);

    const entries = ((await (await getAgain('/v1/audit?limit=1000')).json()) as { items: { action: string; actor: string; outcome: string; target: string | null; detail: Record<string, unknown> }[] }).items;
    const alarmEntries = entries.filter((e) => e.action === 'log.alarm');
    assert.deepEqual(
      alarmEntries.map((e) => [e.actor, e.outcome, e.target, e.detail['kind']]),
      [['system:monitor', 'failed', 'custody.local/log', 'rollback']],
    );

    await until('the webhook', () => Promise.resolve(events.length > 0 ? true : undefined), 5_000);
    assert.deepEqual([events[0]!['event'], events[0]!['kind'], events[0]!['log'], events[0]!['size']], ['log.alarm', 'rollback', 'custody.local/log', 2]);
  });

  it('monitors an external log over HTTP: ok, then tile-mismatch, then unavailable when it stops answering', async () => {
    const origin = 'external.test/log';
    const pair = generateNoteKey(origin);
    const dir = join(tmp.path, 'external');
    const appender = new PosixLogAppender({ dir, origin, key: parseSignerKey(pair.signerKey) });
    await appender.append(Array.from({ length: 5 }, (_, i) => Buffer.from(`external ${i}`)));
    // A static file server for the log directory: tlog-tiles are plain files.
    const files = createServer((req, res) => {
      readFile(join(dir, ...(req.url ?? '/').split('/').filter((p) => p !== '' && p !== '..'))).then(
        (data) => res.end(data),
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    const port = (files.address() as { port: number }).port;
    const h = await startHarness({
      configure: (c) => {
        c.monitor.intervalMs = 100;
        c.monitor.self = false;
        c.monitor.logs = [{ name: 'external', url: `http://127.0.0.1:${port}`, origin, key: pair.verifierKey, witnesses: [], witnessThreshold: 0 }];
      },
    });
    try {
      const monitor = async (): Promise<MonitorAnswer> => (await h.inject({ method: 'GET', url: '/v1/log/monitor', token: h.tokens.reader })).json<MonitorAnswer>();
      await until('the external log verified', async () => ((await monitor()).logs[0]?.verified?.size === 5 ? true : undefined));
      assert.deepEqual((await monitor()).logs.map((l) => [l.name, l.status]), [['external', 'ok']]);
      const bundle = join(dir, 'tile', 'entries', '000.p', '5');
      const bytes = readFileSync(bundle);
      bytes[bytes.length - 1]! ^= 1;
      writeFileSync(bundle, bytes);
      await until('tile-mismatch', async () => ((await monitor()).alarms[0]?.kind === 'tile-mismatch' ? true : undefined));
      files.close();
      files.closeAllConnections();
      const last = await until('unavailable', async () => {
        const m = await monitor();
        return m.alarms[0]?.kind === 'unavailable' ? m : undefined;
      });
      assert.deepEqual(last.alarms.map((a) => [a.log, a.kind]), [['external', 'unavailable'], ['external', 'tile-mismatch']]);
      assert.equal(last.logs[0]!.status, 'alarm');
      // Paging: one alarm a page, newest first, `next` leads to the older one.
      const first = (await h.inject({ method: 'GET', url: '/v1/log/monitor?limit=1', token: h.tokens.reader })).json<MonitorAnswer & { next: number | null }>();
      assert.equal(first.alarms[0]!.kind, 'unavailable');
      const second = (await h.inject({ method: 'GET', url: `/v1/log/monitor?limit=1&before=${first.next!}`, token: h.tokens.reader })).json<MonitorAnswer>();
      assert.equal(second.alarms[0]!.kind, 'tile-mismatch');
      assert.equal((await h.inject({ method: 'GET', url: '/v1/log/monitor?limit=0', token: h.tokens.reader })).statusCode, 400);
    } finally {
      files.close();
      await h.close();
    }
  });
});
