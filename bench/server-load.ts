// Load generator for bench/server-ingest.ts, run as its own process so the load does not share an
// event loop with the server. Argument: JSON {url, token, mode, seconds, connections, keyPem,
// subjects, batch, rate}. Prints one JSON line with autocannon's result.
import { createHash, sign } from 'node:crypto';
import http from 'node:http';
import autocannon, { type Request } from 'autocannon';
import { IN_TOTO_PAYLOAD_TYPE, encodeBase64, loadPrivateKeyPem, pae } from '../src/core/index.ts';

interface LoadSpec {
  url: string;
  token: string;
  mode: 'ingest' | 'query';
  seconds: number;
  connections: number;
  keyPem?: string;
  /** Number of distinct seeded subjects (artifact-0 … artifact-N-1) to query. */
  subjects?: number;
  /** Documents per ingest request (1 = single JSON document, more = NDJSON). */
  batch?: number;
  /** Query mode: requests per second, open loop (pacedQueries); absent: as fast as answered. */
  rate?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const auth = { authorization: `Bearer ${spec.token}` };
let counter = 0;
const runId = `${process.pid}-${Date.now()}`;

function envelopeMaker(): () => string {
  const key = loadPrivateKeyPem(spec.keyPem ?? '');
  const keyid = key.publicKey.keyid;
  return () => {
    const i = counter++;
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `load-${runId}-${i}`, digest: { sha256: createHash('sha256').update(`load-${runId}-${i}`).digest('hex') } }],
      predicateType: 'https://example.com/bench/v1',
      predicate: { run: runId, n: i },
    };
    const payload = Buffer.from(JSON.stringify(statement));
    // Ed25519 over the DSSE PAE, as core's signEnvelope does (synchronously here, for autocannon).
    const sig = sign(null, pae(IN_TOTO_PAYLOAD_TYPE, payload), key.keyObject);
    return JSON.stringify({ payload: encodeBase64(payload), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ keyid, sig: encodeBase64(sig) }] });
  };
}

function ingestRequest(): Request {
  const next = envelopeMaker();
  const batch = spec.batch ?? 1;
  return {
    method: 'POST',
    path: '/v1/attestations',
    setupRequest: (request) => {
      const docs = Array.from({ length: batch }, next);
      return {
        ...request,
        headers: { ...auth, 'content-type': batch === 1 ? 'application/json' : 'application/x-ndjson' },
        body: batch === 1 ? docs[0]! : `${docs.join('\n')}\n`,
      };
    },
  };
}

function queryRequest(): Request {
  const subjects = spec.subjects ?? 1;
  return {
    method: 'GET',
    setupRequest: (request) => {
      const a = Math.floor(Math.random() * subjects);
      const digest = createHash('sha256').update(`artifact-${a}`).digest('hex');
      return { ...request, headers: auth, path: `/v1/attestations?subject=sha256:${digest}&limit=100` };
    },
  };
}

/**
 * Open-loop queries at a fixed rate, for latency below saturation. autocannon's own rate limit
 * (overallRate) is not used: it lets each connection send its whole per-second quota back to
 * back and then pause, so the server sees a burst at the start of every second, and it adds
 * synthetic samples for coordinated omission at a 1 ms interval. Here request i is due at
 * start + i / rate; it goes out on a free keep-alive connection (at most `connections` open), and
 * its latency counts from when it was due to its complete answer, so a stalled server shows up
 * in the latency instead of lowering the rate.
 */
async function pacedQueries(rate: number): Promise<Record<string, unknown>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const subjects = spec.subjects ?? 1;
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const end = start + spec.seconds * 1000;
  const send = (due: number): void => {
    const a = Math.floor(Math.random() * subjects);
    const digest = createHash('sha256').update(`artifact-${a}`).digest('hex');
    const p = new Promise<void>((resolve) => {
      const request = http.get(`${spec.url}/v1/attestations?subject=sha256:${digest}&limit=100`, { agent, headers: auth }, (response) => {
        response.resume();
        response.on('end', () => {
          latencies.push(performance.now() - due);
          if (response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300) ok += 1;
          else non2xx += 1;
          resolve();
        });
      });
      request.on('error', () => {
        errors += 1;
        resolve();
      });
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  while (performance.now() < end) {
    const now = performance.now();
    // Everything due by now goes out now; then wait for the next one.
    while (start + (sent * 1000) / rate <= now) send(start + (sent++ * 1000) / rate);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  agent.destroy();
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((x, y) => x - y);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requestsPerSecond: (ok + non2xx) / elapsed,
    requests2xx: ok,
    non2xx,
    errors,
    timeouts: 0,
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.at(-1) ?? 0 },
    seconds: elapsed,
  };
}

/** This process's CPU time so far, s: the load generator shares the machine with the server. */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

if (spec.rate !== undefined && spec.mode === 'query') {
  const result = await pacedQueries(spec.rate);
  process.stdout.write(`${JSON.stringify({ mode: spec.mode, batch: 1, paced: true, ...result, loadCpuSeconds: ownCpuSeconds() })}\n`);
} else {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    requests: [spec.mode === 'ingest' ? ingestRequest() : queryRequest()],
  });
  process.stdout.write(
    `${JSON.stringify({
      mode: spec.mode,
      batch: spec.batch ?? 1,
      requestsPerSecond: result.requests.average,
      requests2xx: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      seconds: result.duration,
      loadCpuSeconds: ownCpuSeconds(),
    })}\n`,
  );
}
