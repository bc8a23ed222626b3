// Load generator for bench/server-ingest.ts, run as its own process so the load does not share an
// event loop with the server. Argument: JSON {url, token, mode, seconds, connections, keyPem,
// subjects, batch}. Prints one JSON line with autocannon's result.
import { createHash, sign } from 'node:crypto';
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
  })}\n`,
);
