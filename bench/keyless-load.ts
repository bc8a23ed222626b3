// Load generator for bench/keyless.ts, in its own process (load and server do not share an event
// loop). Argument: JSON {mode: 'cert'|'sign', url, token, seconds, connections, body?}.
//   cert: POST /api/v2/signingCert with a fixed body over keep-alive connections (autocannon).
//   sign: the whole keyless client flow (certificate, signature, log entry, time-stamp) in a loop.
// Prints one JSON line.
import { createHash } from 'node:crypto';
import autocannon from 'autocannon';
import { keylessSignDigest } from '../src/server/index.ts';

interface Spec {
  mode: 'cert' | 'sign';
  url: string;
  token: string;
  seconds: number;
  connections: number;
  body?: string;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
if (spec.mode === 'cert') {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    requests: [{ method: 'POST', path: '/api/v2/signingCert', headers: { 'content-type': 'application/json' }, body: spec.body ?? '' }],
  });
  process.stdout.write(`${JSON.stringify({ rps: result.requests.average, ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, p50: result.latency.p50, p99: result.latency.p99 })}\n`);
} else {
  const end = performance.now() + spec.seconds * 1000;
  let n = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.connections }, async (_v, w) => {
      while (performance.now() < end) {
        const digest = createHash('sha256').update(`artifact ${w} ${n}`).digest();
        try {
          await keylessSignDigest(spec.url, spec.token, digest);
          n++;
        } catch {
          failed++;
        }
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ rps: n / ((performance.now() - started) / 1000), ok: n, failed })}\n`);
}
