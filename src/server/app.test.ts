import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { digestBytes, generateKeyPair } from '../core/index.ts';
import { makeEnvelope, makeLink, sha256Of, wrapInBundle } from '../../test/support/attestations.ts';
import { startHarness, type Harness } from '../../test/support/server-harness.ts';

interface Json {
  [k: string]: unknown;
}

const json = (body: string): Json => JSON.parse(body) as Json;

describe('server app', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  const upload = (body: Buffer | string, options: { token?: string; namespace?: string; type?: string } = {}) =>
    h.inject({
      method: 'POST',
      url: `/v1/attestations${options.namespace === undefined ? '' : `?namespace=${options.namespace}`}`,
      headers: { 'content-type': options.type ?? 'application/json' },
      payload: body,
      token: options.token ?? h.tokens.attester,
    });

  describe('when probed', () => {
    it('answers /healthz and /readyz without credentials', async () => {
      assert.deepEqual(json((await h.inject({ method: 'GET', url: '/healthz' })).body), { status: 'ok' });
      const ready = await h.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(json(ready.body), { status: 'ready' });
    });

    it('serves Prometheus metrics', async () => {
      await h.inject({ method: 'GET', url: '/healthz' });
      const res = await h.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
      assert.match(res.body, /custody_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    });

    it('documents every route in OpenAPI at /docs', async () => {
      const doc = json((await h.inject({ method: 'GET', url: '/docs/openapi.json' })).body) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      assert.equal(doc.openapi, '3.1.0');
      for (const p of ['/v1/attestations', '/v1/attestations/{id}', '/v1/artifacts/{digest}/graph', '/v1/tokens', '/v1/tokens/{id}', '/v1/audit', '/v1/audit/verify', '/healthz', '/readyz']) {
        assert.ok(doc.paths[p] !== undefined, `${p} documented`);
      }
      const page = await h.inject({ method: 'GET', url: '/docs' });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /\/v1\/artifacts\/\{digest\}\/graph/);
    });

    it('answers an unknown route with a JSON 404', async () => {
      const res = await h.inject({ method: 'GET', url: '/v1/nope' });
      assert.equal(res.statusCode, 404);
      assert.equal(json(res.body)['code'], 'NOT_FOUND');
    });
  });

  describe('when uploading one attestation', () => {
    it('stores it under the sha256 of its bytes, once, and gives the bytes back exactly', async () => {
      const bytes = await makeEnvelope({ subjects: ['app-1'], keys: [h.key] });
      const first = await upload(bytes);
      assert.equal(first.statusCode, 201);
      const body = json(first.body);
      assert.equal(body['id'], digestBytes(bytes));
      assert.equal(body['created'], true);
      assert.equal(body['namespace'], 'default');
      assert.deepEqual(body['verification'], { status: 'verified', keyids: [h.key.publicKey.keyid] });
      const again = await upload(bytes);
      assert.equal(again.statusCode, 200);
      assert.equal(json(again.body)['created'], false);
      const got = await h.inject({ method: 'GET', url: `/v1/attestations/${digestBytes(bytes)}`, token: h.tokens.reader });
      assert.equal(got.statusCode, 200);
      assert.deepEqual(got.rawPayload, bytes);
      assert.equal(got.headers['content-type'], 'application/vnd.dsse.envelope.v1+json');
      assert.equal(got.headers['custody-verification'], 'verified');
    });

    it('takes a Sigstore bundle v0.3 and records an untrusted signer as unverified', async () => {
      const stranger = generateKeyPair('ecdsa-p256');
      const bundle = wrapInBundle(await makeEnvelope({ subjects: ['app-2'], keys: [stranger] }));
      const res = await upload(bundle);
      assert.equal(res.statusCode, 201);
      assert.deepEqual(json(res.body)['verification'], { status: 'unverified', keyids: [], code: 'KEY_UNKNOWN' });
      const got = await h.inject({ method: 'GET', url: `/v1/attestations/${digestBytes(bundle)}`, token: h.tokens.reader });
      assert.deepEqual(got.rawPayload, bundle);
      assert.equal(got.headers['content-type'], 'application/vnd.dev.sigstore.bundle.v0.3+json');
    });

    it('answers 404 for an id not stored in the namespace', async () => {
      const bytes = await makeEnvelope({ subjects: ['ns-a-only'], keys: [h.key] });
      await upload(bytes, { namespace: 'a' });
      const res = await h.inject({ method: 'GET', url: `/v1/attestations/${digestBytes(bytes)}?namespace=default`, token: h.tokens.admin });
      assert.equal(res.statusCode, 404);
      assert.equal(json(res.body)['code'], 'NOT_FOUND');
    });
  });

  describe('when uploading a batch (NDJSON)', () => {
    it('stores every line exactly and reports each', async () => {
      const docs = await Promise.all(['b1', 'b2', 'b3'].map((s) => makeEnvelope({ subjects: [s], keys: [h.key] })));
      const res = await upload(`${docs.map((d) => d.toString()).join('\n')}\n`, { type: 'application/x-ndjson' });
      assert.equal(res.statusCode, 200);
      const results = json(res.body)['results'] as Json[];
      assert.deepEqual(results.map((r) => r['id']), docs.map((d) => digestBytes(d)));
      assert.ok(results.every((r) => r['created'] === true));
      for (const d of docs) {
        const got = await h.inject({ method: 'GET', url: `/v1/attestations/${digestBytes(d)}`, token: h.tokens.reader });
        assert.deepEqual(got.rawPayload, d);
      }
    });

    it('stores nothing when any line is bad, and names every bad line', async () => {
      const good = await makeEnvelope({ subjects: ['batch-good'], keys: [h.key] });
      const res = await upload([good.toString(), '{"payload":"", "payloadType":"x","signatures":[{"sig":"AA=="}]}', good.toString(), '{"payloadType":1}'].join('\n'), {
        type: 'application/x-ndjson',
      });
      assert.equal(res.statusCode, 400);
      const body = json(res.body);
      assert.equal(body['code'], 'INPUT_INVALID');
      const stored = await h.inject({ method: 'GET', url: `/v1/attestations/${digestBytes(good)}`, token: h.tokens.reader });
      assert.equal(stored.statusCode, 404);
    });

    it('reports each invalid document when the batch passes the schema but not the parsers', async () => {
      const good = await makeEnvelope({ subjects: ['batch-good-2'], keys: [h.key] });
      const bad = JSON.stringify({ payload: Buffer.from('{"not":"a statement"}').toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'AAAA' }] });
      const res = await upload([good.toString(), bad].join('\n'), { type: 'application/x-ndjson' });
      assert.equal(res.statusCode, 400);
      const body = json(res.body);
      assert.equal(body['code'], 'BATCH_INVALID');
      assert.deepEqual((body['errors'] as Json[]).map((e) => [e['index'], e['code']]), [[1, 'STATEMENT_INVALID']]);
    });
  });

  describe('when the upload is malformed', () => {
    it('answers 4xx JSON errors with a code, never 5xx', async () => {
      const cases: [Buffer | string, string, number, string][] = [
        ['{', 'application/json', 400, 'JSON_INVALID'],
        ['', 'application/json', 400, 'JSON_INVALID'],
        ['[]', 'application/json', 400, 'INPUT_INVALID'],
        ['{"payload":"x"}', 'application/json', 400, 'INPUT_INVALID'],
        ['hello', 'text/plain', 415, 'MEDIA_TYPE_UNSUPPORTED'],
        ['{"a":1}\nnot json', 'application/x-ndjson', 400, 'JSON_INVALID'],
        // Deep nesting must not blow a stack anywhere on the way.
        [`${'['.repeat(200_000)}${']'.repeat(200_000)}`, 'application/json', 400, 'INPUT_INVALID'],
        [`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`, 'application/x-ndjson', 400, 'INPUT_INVALID'],
      ];
      for (const [body, type, status, code] of cases) {
        const res = await upload(body, { type });
        assert.equal(res.statusCode, status, `${type} ${String(body)}: ${res.body}`);
        assert.equal(json(res.body)['code'], code, `${type} ${String(body)}`);
        assert.equal(typeof json(res.body)['message'], 'string');
      }
    });

    it('refuses a body over the limit with 413', async () => {
      const res = await upload(Buffer.alloc(h.config.limits.bodyBytes + 1, 0x20));
      assert.equal(res.statusCode, 413);
      assert.equal(json(res.body)['code'], 'BODY_TOO_LARGE');
    });

    it('refuses a well-formed envelope whose payload is not an in-toto statement', async () => {
      const envelope = json((await makeEnvelope({ subjects: ['x'], keys: [h.key] })).toString());
      const res = await upload(JSON.stringify({ ...envelope, payloadType: 'text/plain' }));
      assert.equal(res.statusCode, 400);
      assert.equal(json(res.body)['code'], 'ENVELOPE_INVALID');
    });

    it('refuses bad query parameters', async () => {
      for (const url of ['/v1/attestations?limit=0', '/v1/attestations?subject=nope', '/v1/attestations?since=yesterday', '/v1/attestations?cursor=bogus', '/v1/attestations?namespace=UPPER']) {
        const res = await h.inject({ method: 'GET', url, token: h.tokens.admin });
        assert.equal(res.statusCode, 400, url);
        assert.equal(json(res.body)['code'], 'INPUT_INVALID', url);
      }
    });
  });

  describe('when querying', () => {
    let ids: string[];
    before(async () => {
      const docs = [
        await makeLink('fetch', ['upstream'], ['q-source'], [h.key]),
        await makeLink('compile', ['q-source'], ['q-binary'], [h.key]),
        await makeLink('package', ['q-binary'], ['q-image'], [h.key]),
        await makeEnvelope({ subjects: ['q-image'], predicateType: 'https://example.com/scan/v1', keys: [generateKeyPair('ed25519')] }),
      ];
      for (const d of docs) assert.equal((await upload(d, { namespace: 'q' })).statusCode, 201);
      ids = docs.map((d) => digestBytes(d));
    });

    it('finds by subject, predicate type, signer and step, with cursor pages', async () => {
      const list = async (qs: string) => json((await h.inject({ method: 'GET', url: `/v1/attestations?namespace=q&${qs}`, token: h.tokens.admin })).body);
      const bySubject = await list(`subject=sha256:${sha256Of('q-image')}`);
      assert.deepEqual((bySubject['items'] as Json[]).map((i) => i['id']), [ids[3], ids[2]]);
      assert.deepEqual(((await list('predicateType=https://example.com/scan/v1'))['items'] as Json[]).map((i) => i['id']), [ids[3]]);
      assert.deepEqual(((await list(`signer=${h.key.publicKey.keyid}`))['items'] as Json[]).map((i) => i['id']), [ids[2], ids[1], ids[0]]);
      assert.deepEqual(((await list('step=compile'))['items'] as Json[]).map((i) => i['id']), [ids[1]]);
      const page1 = await list('limit=3');
      assert.equal((page1['items'] as Json[]).length, 3);
      const page2 = await list(`limit=3&cursor=${String(page1['nextCursor'])}`);
      assert.deepEqual((page2['items'] as Json[]).map((i) => i['id']), [ids[0]]);
      assert.equal(page2['nextCursor'], undefined);
    });

    it('returns the provenance graph in one request', async () => {
      const res = await h.inject({ method: 'GET', url: `/v1/artifacts/sha256:${sha256Of('q-image')}/graph?namespace=q&depth=5`, token: h.tokens.admin });
      assert.equal(res.statusCode, 200);
      const graph = json(res.body);
      assert.deepEqual(new Set((graph['attestations'] as Json[]).map((a) => a['id'])), new Set(ids));
      assert.deepEqual((graph['artifacts'] as { depth: number }[]).map((a) => a.depth), [0, 1, 2, 3]);
      assert.equal(graph['truncated'], false);
      const shallow = json((await h.inject({ method: 'GET', url: `/v1/artifacts/sha256:${sha256Of('q-image')}/graph?namespace=q&depth=0`, token: h.tokens.admin })).body);
      assert.deepEqual(new Set((shallow['attestations'] as Json[]).map((a) => a['id'])), new Set([ids[2], ids[3]]));
    });
  });

  describe('when logging', () => {
    it('writes JSON lines that never contain a token', async () => {
      await upload(await makeEnvelope({ subjects: ['logged'], keys: [h.key] }));
      await h.inject({ method: 'GET', url: '/v1/tokens', token: h.tokens.reader });
      assert.ok(h.logs.length > 0);
      for (const line of h.logs) JSON.parse(line);
      const all = h.logs.join('');
      for (const t of Object.values(h.tokens)) {
        assert.ok(!all.includes(t), 'token in logs');
        const secret = t.slice('custody_'.length + 17);
        assert.equal(secret.length, 43);
        assert.ok(!all.includes(secret), 'token secret in logs');
      }
    });
  });
});

describe('server app with rejectUnverified', () => {
  it('refuses attestations no trusted key signed, with 422 and the verification code', async () => {
    const h = await startHarness({ configure: (c) => (c.attestations.rejectUnverified = true) });
    try {
      const res = await h.inject({
        method: 'POST',
        url: '/v1/attestations',
        headers: { 'content-type': 'application/json' },
        payload: await makeEnvelope({ subjects: ['x'], keys: [generateKeyPair('ed25519')] }),
        token: h.tokens.attester,
      });
      assert.equal(res.statusCode, 422);
      assert.equal(json(res.body)['code'], 'KEY_UNKNOWN');
      const entries = await h.store.readAudit(0, 100);
      assert.equal(entries.at(-1)?.outcome, 'failed');
      assert.equal(entries.at(-1)?.status, 422);
    } finally {
      await h.close();
    }
  });
});

describe('server app rate limits', () => {
  it('answers 429 RATE_LIMITED past the per-token limit, and counts tokens apart', async () => {
    const h = await startHarness({ configure: (c) => (c.limits.requestsPerMinute = 3) });
    try {
      const get = (token: string) => h.inject({ method: 'GET', url: '/v1/attestations?namespace=a', token });
      for (let i = 0; i < 3; i++) assert.equal((await get(h.tokens.reader)).statusCode, 200);
      const limited = await get(h.tokens.reader);
      assert.equal(limited.statusCode, 429);
      assert.equal(json(limited.body)['code'], 'RATE_LIMITED');
      assert.equal((await get(h.tokens.attester)).statusCode, 200);
      assert.equal((await h.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    } finally {
      await h.close();
    }
  });
});
