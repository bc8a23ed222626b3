// The server's log monitor loop against a real tiled log on disk (PosixLogAppender) and a real
// SQLite store: each attack raises its precise alarm, a persisting failure raises one alarm, a
// repaired log returns to ok, and the verified checkpoint survives a new monitor (restart).
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/support/cli.ts';
import { SqliteMonitorState, openSqliteStore, type MonitorAlarmRecord } from '../store/index.ts';
import fc from 'fast-check';
import { FileTileFetcher, MONITOR_ALARM_KINDS, PosixLogAppender, generateNoteKey, parseCosignatureVerifierKey, parseSignerKey, type NoteKeyPair } from '../tlog/index.ts';
import { LogMonitor, type MonitoredLog } from './log-monitor.ts';
import { parse as parseYaml } from 'yaml';
import { defaultConfigText, parseConfig } from './config.ts';
import { parseMonitorConfig } from './monitor-config.ts';

const ORIGIN = 'monitor.test/log';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const many = (prefix: string, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => enc(`${prefix}${i}`));

describe('server log monitor', () => {
  const tmp = tempDir('custody-log-monitor-');
  const db = join(tmp.path, 'custody.db');
  const key: NoteKeyPair = parseSignerKey(generateNoteKey(ORIGIN).signerKey);
  let counter = 0;
  let state: SqliteMonitorState;

  before(async () => {
    const store = openSqliteStore({ path: db });
    await store.migrate();
    await store.close();
    state = new SqliteMonitorState(db);
  });
  after(async () => {
    await state.close();
    tmp[Symbol.dispose]();
  });

  /** A fresh log directory with `batches` (one checkpoint each) and a monitor of it. */
  async function setup(batches: Uint8Array[][], extra: Partial<MonitoredLog> = {}) {
    const name = `log-${counter++}`;
    const dir = join(tmp.path, name);
    const appender = new PosixLogAppender({ dir, origin: ORIGIN, key });
    for (const b of batches) await appender.append(b);
    const alarms: MonitorAlarmRecord[] = [];
    const log: MonitoredLog = { name, origin: ORIGIN, source: 'local', self: true, fetcher: new FileTileFetcher(dir), key: key.verifier, witnesses: [], witnessThreshold: 0, ...extra };
    const monitor = new LogMonitor({
      logs: [log],
      state,
      intervalMs: 60_000,
      witnessGraceMs: 0,
      now: () => new Date(),
      onAlarm: (a) => {
        alarms.push(a);
        return Promise.resolve();
      },
    });
    await monitor.load();
    return { dir, name, appender, monitor, alarms, log, status: () => monitor.status()[0]! };
  }

  it('verifies a growing log and stores the verified checkpoint', async () => {
    const s = await setup([many('a', 10)]);
    await s.monitor.checkAll();
    assert.equal(s.status().status, 'ok');
    assert.equal(s.status().verified?.size, 10);
    await s.appender.append(many('b', 5));
    await s.monitor.checkAll();
    assert.equal(s.status().verified?.size, 15);
    assert.deepEqual(s.alarms, []);
    const saved = (await state.checkpoints()).find((c) => c.logId === s.name);
    assert.equal(saved?.size, 15);
    assert.equal(saved?.checkpoint, readFileSync(join(s.dir, 'checkpoint'), 'utf8'));
  });

  it('a fresh log without a checkpoint is pending, not an alarm', async () => {
    const s = await setup([]);
    await s.monitor.checkAll();
    assert.equal(s.status().status, 'pending');
    assert.deepEqual(s.alarms, []);
  });

  it('a tile rewritten in place after it was verified: tile-mismatch (TILE_INVALID), raised once, cleared when repaired', async () => {
    const s = await setup([many('a', 10), many('b', 5)]);
    await s.monitor.checkAll();
    assert.equal(s.status().status, 'ok');
    const tile = join(s.dir, 'tile/0/000.p/15');
    const honest = readFileSync(tile);
    const bytes = Buffer.from(honest);
    bytes[3]! ^= 1;
    writeFileSync(tile, bytes);
    await s.monitor.checkAll();
    await s.monitor.checkAll();
    assert.deepEqual(
      s.alarms.map((a) => [a.kind, a.code, a.size]),
      [['tile-mismatch', 'TILE_INVALID', 15]],
    );
    assert.equal(s.status().status, 'alarm');
    assert.equal(s.status().openAlarm?.id, s.alarms[0]!.id);
    // The verified checkpoint does not move while the log is in alarm.
    assert.equal(s.status().verified?.size, 15);
    writeFileSync(tile, honest);
    await s.monitor.checkAll();
    assert.equal(s.status().status, 'ok');
    assert.equal(s.status().openAlarm, null);
  });

  it('a tampered entry bundle: tile-mismatch', async () => {
    const s = await setup([many('a', 7)]);
    await s.monitor.checkAll();
    const bundle = join(s.dir, 'tile/entries/000.p/7');
    const bytes = readFileSync(bundle);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(bundle, bytes);
    await s.monitor.checkAll();
    assert.deepEqual(s.alarms.map((a) => [a.kind, a.code]), [['tile-mismatch', 'TILE_INVALID']]);
  });

  it('a checkpoint replaced by one signed by another key: bad-signature (SIGNATURE_MISSING), with the evidence', async () => {
    const s = await setup([many('a', 6)]);
    await s.monitor.checkAll();
    const impostor = parseSignerKey(generateNoteKey(ORIGIN).signerKey);
    const forgedDir = join(tmp.path, `forged-${counter++}`);
    const forger = new PosixLogAppender({ dir: forgedDir, origin: ORIGIN, key: impostor });
    await forger.append([...many('a', 6), enc('EVIL')]);
    const forged = readFileSync(join(forgedDir, 'checkpoint'), 'utf8');
    writeFileSync(join(s.dir, 'checkpoint'), forged);
    await s.monitor.checkAll();
    assert.deepEqual(s.alarms.map((a) => [a.kind, a.code, a.size]), [['bad-signature', 'SIGNATURE_MISSING', 7]]);
    assert.equal(s.alarms[0]!.checkpoint, forged);
  });

  it('a corrupted log signature: bad-signature (SIGNATURE_INVALID)', async () => {
    const s = await setup([many('a', 3)]);
    const path = join(s.dir, 'checkpoint');
    const text = readFileSync(path, 'utf8');
    const sig = text.slice(text.lastIndexOf(' ') + 1, -1);
    const raw = Buffer.from(sig, 'base64');
    raw[raw.length - 1]! ^= 1;
    writeFileSync(path, text.replace(sig, raw.toString('base64')));
    await s.monitor.checkAll();
    assert.deepEqual(s.alarms.map((a) => [a.kind, a.code]), [['bad-signature', 'SIGNATURE_INVALID']]);
  });

  it('a rollback to an older (validly signed) checkpoint: rollback', async () => {
    const s = await setup([many('a', 4)]);
    const old = join(tmp.path, `old-${counter++}`);
    copyFileSync(join(s.dir, 'checkpoint'), old);
    await s.appender.append(many('b', 4));
    await s.monitor.checkAll();
    assert.equal(s.status().verified?.size, 8);
    copyFileSync(old, join(s.dir, 'checkpoint'));
    await s.monitor.checkAll();
    assert.deepEqual(s.alarms.map((a) => [a.kind, a.code, a.size]), [['rollback', 'LOG_INCONSISTENT', 4]]);
  });

  it('a fork (the same key signs another history): fork, for the same size and for a larger one', async () => {
    const s = await setup([many('a', 6)]);
    await s.monitor.checkAll();
    const other = join(tmp.path, `fork-${counter++}`);
    const forker = new PosixLogAppender({ dir: other, origin: ORIGIN, key });
    await forker.append([enc('a0'), enc('a1'), enc('EVIL'), enc('a3'), enc('a4'), enc('a5')]);
    cpSync(other, s.dir, { recursive: true, force: true });
    await s.monitor.checkAll();
    await forker.append(many('z', 3));
    cpSync(other, s.dir, { recursive: true, force: true });
    await s.monitor.checkAll();
    assert.deepEqual(
      s.alarms.map((a) => [a.kind, a.size]),
      [
        ['fork', 6],
        ['fork', 9],
      ],
    );
  });

  it('a checkpoint without the required witness cosignature: missing-witness (THRESHOLD_NOT_MET)', async () => {
    const witness = parseCosignatureVerifierKey(generateNoteKey('witness.test/w1').verifierKey);
    const s = await setup([many('a', 2)], { witnesses: [witness], witnessThreshold: 1 });
    await s.monitor.checkAll();
    assert.deepEqual(s.alarms.map((a) => [a.kind, a.code]), [['missing-witness', 'THRESHOLD_NOT_MET']]);
    assert.deepEqual(s.status().witnesses, { required: 1, keys: ['witness.test/w1'] });
  });

  it('a checkpoint naming another origin: bad-checkpoint (ORIGIN_MISMATCH)', async () => {
    const s = await setup([many('a', 2)], { origin: 'elsewhere.test/log' });
    await s.monitor.checkAll();
    assert.deepEqual(s.alarms.map((a) => [a.kind, a.code]), [['bad-checkpoint', 'ORIGIN_MISMATCH']]);
  });

  it('whatever a log serves as its checkpoint, the check ends in ok or a known alarm kind (never throws)', async () => {
    const served: { bytes: Uint8Array } = { bytes: new Uint8Array() };
    const base = await setup([many('a', 3)]);
    const honest = readFileSync(join(base.dir, 'checkpoint'));
    const fetcher = {
      fetchTile: (path: string) => (path === 'checkpoint' ? Promise.resolve(served.bytes) : base.log.fetcher.fetchTile(path)),
    };
    const s = await setup([], { fetcher });
    const errors: unknown[] = [];
    const monitor = new LogMonitor({
      logs: [{ ...base.log, fetcher }],
      state,
      intervalMs: 60_000,
      witnessGraceMs: 0,
      now: () => new Date(),
      onAlarm: (a) => {
        s.alarms.push(a);
        return Promise.resolve();
      },
      onError: (e) => errors.push(e),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.string().map((t) => enc(t)),
          // The honest checkpoint with one byte changed.
          fc.tuple(fc.nat(honest.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const b = Uint8Array.from(honest);
            b[i]! ^= x;
            return b;
          }),
        ),
        async (bytes) => {
          served.bytes = bytes;
          const before = s.alarms.length;
          await monitor.checkAll();
          const status = monitor.status()[0]!;
          assert.ok(status.status === 'ok' || (status.status === 'alarm' && s.alarms.length >= before), status.status);
          for (const a of s.alarms) assert.ok((MONITOR_ALARM_KINDS as readonly string[]).includes(a.kind), a.kind);
        },
      ),
      { numRuns: 60 },
    );
    assert.deepEqual(errors, []);
  });

  it('the verified checkpoint survives a restart: a new monitor still catches the rollback', async () => {
    const s = await setup([many('a', 5)]);
    const old = join(tmp.path, `old-${counter++}`);
    copyFileSync(join(s.dir, 'checkpoint'), old);
    await s.appender.append(many('b', 5));
    await s.monitor.checkAll();
    await s.monitor.close();
    copyFileSync(old, join(s.dir, 'checkpoint'));
    const again = await setup([]);
    const restarted = new LogMonitor({
      logs: [{ name: s.name, origin: ORIGIN, source: 'local', self: true, fetcher: new FileTileFetcher(s.dir), key: key.verifier, witnesses: [], witnessThreshold: 0 }],
      state,
      intervalMs: 60_000,
      witnessGraceMs: 0,
      now: () => new Date(),
      onAlarm: (a) => {
        again.alarms.push(a);
        return Promise.resolve();
      },
    });
    await restarted.load();
    assert.equal(restarted.status()[0]!.verified?.size, 10);
    await restarted.checkAll();
    assert.deepEqual(again.alarms.map((a) => a.kind), ['rollback']);
    const page = await state.alarms({ logId: s.name, limit: 10 });
    assert.deepEqual(page.map((a) => a.kind), ['rollback']);
  });
});

describe('monitor: configuration', () => {
  const logKey = generateNoteKey('log.example/tiles').verifierKey;
  const witnessKey = generateNoteKey('witness.example/w').verifierKey;

  it('defaults to the own log every minute; reads external logs', () => {
    assert.deepEqual(parseMonitorConfig(undefined), { enabled: true, intervalMs: 60_000, self: true, witnesses: [], witnessThreshold: 0, witnessGraceMs: 2_000, logs: [], webhook: undefined });
    const c = parseMonitorConfig({ intervalMs: 5000, logs: [{ url: 'https://log.example/tiles', origin: 'log.example/tiles', key: logKey, witnesses: [witnessKey], witnessThreshold: 1 }] });
    assert.deepEqual(c.logs, [{ name: 'log.example/tiles', url: 'https://log.example/tiles', origin: 'log.example/tiles', key: logKey, witnesses: [witnessKey], witnessThreshold: 1 }]);
  });

  it('parses the commented monitor block custody init writes, once uncommented', () => {
    const block = /^# monitor:\n(?:# {2}.*\n)+/m.exec(defaultConfigText())?.[0] ?? '';
    const config = parseConfig(parseYaml(block.replace(/^# /gm, '')), '/etc/c');
    assert.deepEqual([config.monitor.enabled, config.monitor.intervalMs, config.monitor.self, config.monitor.logs], [true, 60_000, true, []]);
    // The doubly commented example log, uncommented too, with real keys.
    const example = block.replace(/^# {2,}(#\s?)?/gm, (m) => m.replace(/#\s?/g, '')).replace('logs: []', 'logs:').replace(/"log\.example\/tiles\+89ab01cd\+AQ\.\.\."/, JSON.stringify(logKey)).replace(/"witness1\+0a1b2c3d\+BA\.\.\."/g, JSON.stringify(witnessKey));
    const full = parseConfig(parseYaml(`monitor:\n${example.split('\n').slice(1).join('\n')}`), '/etc/c');
    assert.deepEqual(full.monitor.logs.map((l) => [l.name, l.url, l.witnessThreshold]), [['other-log', 'https://log.example/tiles', 1]]);
    assert.equal(full.monitor.webhook, 'https://alerts.example/custody');
  });

  it('refuses bad sections with INPUT_INVALID naming the place', () => {
    const bad: [unknown, RegExp][] = [
      ['yes', /monitor: must be a mapping/],
      [{ interval: 5 }, /unknown key 'interval'/],
      [{ intervalMs: 10 }, /monitor.intervalMs: must be at least 100/],
      [{ witnessThreshold: 1 }, /monitor.witnessThreshold: is larger/],
      [{ webhook: 'ftp://x' }, /monitor.webhook: must be an http/],
      [{ logs: [{ url: 'https://x', origin: 'x', key: 'nonsense' }] }, /monitor.logs\[0\].key: is not a note verifier key/],
      [{ logs: [{ url: 'https://x', origin: 'x', key: logKey, witnesses: ['nope'] }] }, /monitor.logs\[0\].witnesses\[0\]: is not a note verifier key/],
      [{ logs: [{ url: 'https://x', origin: 'x', key: logKey }, { url: 'https://y', origin: 'x', key: logKey }] }, /used twice/],
    ];
    for (const [doc, message] of bad) {
      assert.throws(() => parseMonitorConfig(doc), (e: unknown) => (e as { code?: string }).code === 'INPUT_INVALID' && message.test((e as Error).message), JSON.stringify(doc));
    }
  });
});
