// Transparency-log append benchmark (issue 6): appends per second through HTTP into `custody
// serve` (SQLite state, tiles on disk) with 1 s checkpoints, single entries and batches, and the
// time from sending an entry to getting back its inclusion proof (time to integrate) at p50/p99.
// BENCH_MODES=single,batched,batched-index (default; also single-index): -index phases ask for
// ?answer=index (indexes and the covering checkpoint, no proofs).
// The server runs in a child process; the load comes from this process over loopback.
//
//   node bench/tlog-append.ts [--seconds 20] [--single-concurrency 2000] [--batch-workers 16]
//                             [--batch-size 1000] [--interval-ms 1000] [--preload 0]
//                             [--clients 1] [--out bench/out/tlog-append.json] [--data DIR]
//                             [--warm-up 5]
//
// integrateMs counts requests sent after the first --warm-up seconds of a phase (4,000 connections
// opening and the first checkpoint cycle are not the steady state); integrateMsWholePhase has all.
// --preload N grows the log offline to N entries before the server starts (the same tile writer
// the server uses, 100,000 entries per checkpoint). --data DIR keeps the server's data directory
// (log, database, key) in DIR across runs instead of a fresh temporary one: a 10,000,000-entry
// log is then preloaded once and reused (each run appends to it; the preload only tops it up).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import { createTokenOffline, loadOrCreateLogKey, defaultConfig } from '../src/server/index.ts';
import { openCheckpoint, parseVerifierKey, PosixLogAppender, readPosixCheckpoint } from '../src/tlog/index.ts';
import { spawnServer } from '../test/support/child-server.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    'single-concurrency': { type: 'string', default: '2000' },
    'batch-workers': { type: 'string', default: '16' },
    'batch-size': { type: 'string', default: '1000' },
    'interval-ms': { type: 'string', default: '1000' },
    'warm-up': { type: 'string', default: '5' },
    preload: { type: 'string', default: '0' },
    out: { type: 'string', default: 'bench/out/tlog-append.json' },
    clients: { type: 'string', default: '1' },
    data: { type: 'string' },
    // internal: run one load phase against a server and print {entries, requests, errors, latencies}
    'worker-url': { type: 'string' },
    'worker-token': { type: 'string' },
    'worker-mode': { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const SINGLE_CONCURRENCY = Number(values['single-concurrency']);
const BATCH_WORKERS = Number(values['batch-workers']);
const BATCH_SIZE = Number(values['batch-size']);
const INTERVAL_MS = Number(values['interval-ms']);
const PRELOAD = Number(values.preload);
const WARM_UP_SECONDS = Number(values['warm-up']);

const log = (message: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface PhaseResult {
  mode: string;
  seconds: number;
  entries: number;
  requests: number;
  errors: number;
  appendsPerSecond: number;
  /** Time to integrate once the phase is past its warm-up (--warm-up s: connections opening, the first checkpoint cycle). */
  integrateMs: { p50: number; p99: number; max: number };
  /** The same over every request of the phase, warm-up included (per load process; the slowest one's figures). */
  integrateMsWholePhase: { p50: number; p99: number; max: number };
  /** CPU time the server process used per 1,000 entries (user + system): less sensitive to the machine's load than the rates. */
  serverCpuMsPer1000?: number;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux; clock ticks of 10 ms). */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

const execFileAsync = promisify(execFile);

// A phase: single entries or batches, answered with full Sigstore entries (proofs) or, with
// -index, with indexes and one checkpoint (?answer=index: the same moment, no proofs).
const MODES = ['single', 'batched', 'single-index', 'batched-index'] as const;
type Mode = (typeof MODES)[number];
const isSingle = (mode: Mode): boolean => mode.startsWith('single');
const answerQuery = (mode: Mode): string => (mode.endsWith('-index') ? '?answer=index' : '');
let unique = 0;
const entry = (tag: string): Buffer => Buffer.from(`${tag} ${process.pid} ${unique++} ${performance.now()}`);

interface RawPhase {
  entries: number;
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
  /** Latencies after the warm-up, ms (`latencies`), and percentiles over the whole phase. */
  percentiles: { p50: number; p99: number; max: number };
}

/**
 * Single entries from this process through autocannon (raw keep-alive sockets): far less CPU per
 * request than fetch, which matters when the load shares the server's two cores. Each request
 * carries a fresh entry. Latencies: each response's after the warm-up, and autocannon's percentiles
 * over the whole phase.
 */
async function loadSingle(mode: Mode, url: string, token: string, connections: number): Promise<RawPhase> {
  const started = performance.now();
  const steadyFrom = started + WARM_UP_SECONDS * 1000;
  const steady: number[] = [];
  const instance = autocannon({
    url: `${url}/v1/log/entries${answerQuery(mode)}`,
    connections,
    duration: SECONDS,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        setupRequest: (request) => ({ ...request, body: entry('single') }),
      },
    ],
  });
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status === 200 && performance.now() - responseTime >= steadyFrom) steady.push(responseTime); // sent after the warm-up
  });
  const result = await instance;
  return {
    entries: result['2xx'],
    requests: result['2xx'] + result.non2xx,
    errors: result.non2xx + result.errors + result.timeouts,
    seconds: (performance.now() - started) / 1000,
    latencies: steady,
    percentiles: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  };
}

/** One phase from this process: workers posting until the deadline. */
async function load(mode: Mode, url: string, token: string, concurrency: number): Promise<RawPhase> {
  const target = `${url}/v1/log/entries${answerQuery(mode)}`;
  const latencies: number[] = [];
  let entries = 0;
  let requests = 0;
  let errors = 0;
  const all: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const steadyFrom = performance.now() + WARM_UP_SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const started = performance.now();
      let response: Response;
      let count: number;
      try {
        if (isSingle(mode)) {
          count = 1;
          response = await fetch(target, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
            body: entry('single'),
          });
        } else {
          count = BATCH_SIZE;
          const batch = Array.from({ length: BATCH_SIZE }, () => entry('batch').toString('base64'));
          response = await fetch(target, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ entries: batch }),
          });
        }
        await response.arrayBuffer();
      } catch {
        errors++;
        continue;
      }
      requests++;
      if (response.status !== 200) {
        errors++;
        continue;
      }
      const elapsed = performance.now() - started;
      entries += count;
      if (started >= steadyFrom) latencies.push(elapsed);
      all.push(elapsed);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  all.sort((a, b) => a - b);
  return {
    entries,
    requests,
    errors,
    seconds: (performance.now() - started) / 1000,
    latencies,
    percentiles: { p50: percentile(all, 50), p99: percentile(all, 99), max: all.at(-1) ?? Number.NaN },
  };
}

const CLIENTS = Number(values.clients);
const SELF = new URL(import.meta.url).pathname;

/** A phase from CLIENTS load processes (one Node process cannot keep thousands of requests in flight here). */
async function phase(mode: Mode, url: string, token: string): Promise<PhaseResult> {
  const total = isSingle(mode) ? SINGLE_CONCURRENCY : BATCH_WORKERS;
  const per = Math.max(1, Math.round(total / CLIENTS));
  const raws = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const args = [SELF, '--worker-url', url, '--worker-token', token, '--worker-mode', mode, '--seconds', String(SECONDS), '--batch-size', String(BATCH_SIZE), '--warm-up', String(WARM_UP_SECONDS)];
      args.push(isSingle(mode) ? '--single-concurrency' : '--batch-workers', String(per));
      const { stdout } = await execFileAsync(process.execPath, args, { maxBuffer: 256 * 1024 * 1024 });
      return JSON.parse(stdout) as RawPhase;
    }),
  );
  const latencies = raws.flatMap((r) => r.latencies).sort((a, b) => a - b);
  // Whole phase: percentiles per load process; the slowest process's figures are reported.
  const worst = (k: 'p50' | 'p99' | 'max'): number => Math.round(Math.max(...raws.map((r) => r.percentiles[k])));
  const entries = raws.reduce((n, r) => n + r.entries, 0);
  const requests = raws.reduce((n, r) => n + r.requests, 0);
  const errors = raws.reduce((n, r) => n + r.errors, 0);
  const seconds = Math.max(...raws.map((r) => r.seconds));
  return {
    mode,
    seconds: Math.round(seconds * 10) / 10,
    entries,
    requests,
    errors,
    appendsPerSecond: Math.round(entries / seconds),
    integrateMs: { p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)), max: Math.round(latencies.at(-1) ?? Number.NaN) },
    integrateMsWholePhase: { p50: worst('p50'), p99: worst('p99'), max: worst('max') },
  };
}

if (values['worker-url'] !== undefined) {
  const mode = MODES.find((m) => m === values['worker-mode']) ?? 'single';
  const raw =
    isSingle(mode)
      ? await loadSingle(mode, values['worker-url'], values['worker-token'] ?? '', SINGLE_CONCURRENCY)
      : await load(mode, values['worker-url'], values['worker-token'] ?? '', BATCH_WORKERS);
  // Exit only once the whole report is through the pipe.
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify({ ...raw, latencies: raw.latencies.map(Math.round) }), () => resolve()));
  process.exit(0);
}

const dir = values.data ?? mkdtempSync(join(tmpdir(), 'custody-bench-tlog-'));
mkdirSync(dir, { recursive: true });
try {
  const data = join(dir, 'data');
  const config = join(dir, 'server.yaml');
  writeFileSync(
    config,
    [
      `dataDir: ${data}`,
      'log:\n  level: warn',
      `limits:\n  requestsPerMinute: 100000000\n  bodyBytes: ${64 * 1024 * 1024}\n  batchItems: ${Math.max(1000, BATCH_SIZE)}\n  requestTimeoutMs: 120000`,
      `tlog:\n  batchIntervalMs: ${INTERVAL_MS}\n  batchMaxEntries: 1000000`,
      // The server's own log monitor re-derives every tile of the log (all of a preloaded
      // 10,000,000-entry log after start): it competes for the same cores, so it is measured
      // apart, not here (BENCH_MONITOR=1 keeps it on).
      ...('monitor' in defaultConfig(data) && process.env['BENCH_MONITOR'] !== '1' ? ['monitor:\n  enabled: false'] : []),
      '',
    ].join('\n'),
  );
  const { token } = await createTokenOffline({ config }, { role: 'signer', namespaces: ['default'] });
  let preloadSeconds: number | undefined;
  if (PRELOAD > 0) {
    // Grow the log offline first (the server indexes the entries for deduplication when it starts).
    const key = loadOrCreateLogKey({ ...defaultConfig(data), dataDir: data });
    const logDir = join(data, 'log');
    const appender = new PosixLogAppender({ dir: logDir, origin: 'custody.local/log', key });
    const have = (await readPosixCheckpoint(logDir, { log: key.verifier }))?.checkpoint.size ?? 0;
    const started = performance.now();
    if (have < PRELOAD) log(`preloading ${PRELOAD - have} entries (the log has ${have})`);
    for (let done = have; done < PRELOAD; ) {
      const n = Math.min(100_000, PRELOAD - done);
      await appender.append(Array.from({ length: n }, (_, i) => Buffer.from(`preload ${done + i}`)));
      done += n;
    }
    if (have < PRELOAD) {
      preloadSeconds = Math.round((performance.now() - started) / 1000);
      log(`preload took ${preloadSeconds} s`);
    }
  }
  const server = await spawnServer(['--config', config], { quiet: true, ...(process.env['BENCH_SERVER_NODE_OPTIONS'] === undefined ? {} : { env: { NODE_OPTIONS: process.env['BENCH_SERVER_NODE_OPTIONS'] } }) });
  try {
    const { verifierKey } = (await (await fetch(`${server.url}/v1/log`)).json()) as { verifierKey: string };
    // Warm up (and let a preloaded log be indexed: the first batch indexes every leaf) before timing.
    const warmStart = performance.now();
    for (let ok = false; !ok; ) {
      const r = await fetch(`${server.url}/v1/log/entries`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: entry('warm') }).catch(() => undefined);
      await r?.arrayBuffer();
      ok = r?.status === 200;
      if (!ok && performance.now() - warmStart > 30 * 60_000) throw new Error('the server did not accept an entry within 30 minutes');
    }
    const warmUpSeconds = Math.round((performance.now() - warmStart) / 1000);
    log(`warm-up (indexing) took ${warmUpSeconds} s`);
    const results: PhaseResult[] = [];
    const modes = (process.env['BENCH_MODES'] ?? 'single,batched,batched-index').split(',').map((m) => {
      const known = MODES.find((k) => k === m);
      if (known === undefined) throw new Error(`BENCH_MODES: unknown mode ${m} (${MODES.join(', ')})`);
      return known;
    });
    for (const mode of modes) {
      log(`${mode}: ${SECONDS} s`);
      const cpuBefore = processCpuMs(server.child.pid);
      const r = await phase(mode, server.url, token);
      const cpuAfter = processCpuMs(server.child.pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined && r.entries > 0) r.serverCpuMsPer1000 = Math.round(((cpuAfter - cpuBefore) * 1000 * 10) / r.entries) / 10;
      log(JSON.stringify(r));
      results.push(r);
    }
    const checkpoint = await (await fetch(`${server.url}/log/checkpoint`)).text();
    const size = openCheckpoint(checkpoint, { log: parseVerifierKey(verifierKey) }).checkpoint.size;
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      intervalMs: INTERVAL_MS,
      singleConcurrency: SINGLE_CONCURRENCY,
      batchWorkers: BATCH_WORKERS,
      batchSize: BATCH_SIZE,
      clients: CLIENTS,
      preload: PRELOAD,
      ...(preloadSeconds === undefined ? {} : { preloadSeconds }),
      warmUpSeconds,
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
      finalLogSize: size,
      results,
    };
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await server.kill();
  }
} finally {
  if (values.data === undefined) rmSync(dir, { recursive: true, force: true });
}
