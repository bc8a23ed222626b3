// Load generator for bench/sign-throughput.ts (its own process, so load and server do not share
// an event loop): POST /v1/sign over keep-alive connections. Argument: JSON {url, token, keyRef,
// digest, artifactName, seconds, connections}. Prints one JSON line.
import autocannon from 'autocannon';

interface Spec {
  url: string;
  token: string;
  keyRef: string;
  digest: string;
  artifactName: string;
  seconds: number;
  connections: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  requests: [
    {
      method: 'POST',
      path: '/v1/sign',
      headers: { authorization: `Bearer ${spec.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ digest: spec.digest, keyRef: spec.keyRef, artifactName: spec.artifactName }),
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({ connections: spec.connections, rps: result.requests.average, ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, p50: result.latency.p50, p99: result.latency.p99 })}\n`,
);
