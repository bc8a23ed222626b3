// Property test of the upload routes over real HTTP: whatever the body, content type and query,
// the answer is never a 5xx, always a JSON {code, message} for errors, and the server keeps
// serving afterwards. Bounded in runs and time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { makeEnvelope, wrapInBundle } from '../../test/support/attestations.ts';
import { createApiToken } from './api-tokens.ts';
import { startServer, type RunningServer } from './start.ts';

describe('upload routes under fuzzing', () => {
  let server: RunningServer;
  let token: string;
  let dir: string;
  let good: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custody-fuzz-'));
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    server = await startServer({ data: dir, listen: '127.0.0.1:0', logStream: sink });
    token = (await createApiToken(server.store, { role: 'attester', namespaces: ['default', 'a'] }, 'test')).token;
    good = await makeEnvelope({ subjects: ['fuzz'] });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: Uint8Array, type: string | undefined, query: string) =>
    fetch(`${server.url}/v1/attestations${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...(type === undefined ? {} : { 'content-type': type }) },
      body,
    });

  it('never answers 5xx and always answers errors as JSON {code, message}', async () => {
    const envelope = JSON.parse(good.toString()) as Record<string, unknown>;
    const mutatedEnvelope = fc
      .record({
        payload: fc.oneof(fc.constant(envelope['payload']), fc.base64String(), fc.string(), fc.jsonValue()),
        payloadType: fc.oneof(fc.constant(envelope['payloadType']), fc.string(), fc.jsonValue()),
        signatures: fc.oneof(fc.constant(envelope['signatures']), fc.jsonValue(), fc.array(fc.record({ sig: fc.oneof(fc.base64String(), fc.jsonValue()), keyid: fc.jsonValue() }))),
      })
      .map((e) => Buffer.from(JSON.stringify(e)));
    const document = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      mutatedEnvelope,
      mutatedEnvelope.map((e) => wrapInBundle(e)),
      fc.constant(good),
    );
    const body = fc.oneof(document, fc.array(document, { maxLength: 5 }).map((docs) => Buffer.concat(docs.flatMap((d) => [d, Buffer.from('\n')]))));
    const type = fc.oneof(
      fc.constantFrom('application/json', 'application/x-ndjson', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'multipart/form-data'),
      fc.stringMatching(/^[a-z/+.;= -]{0,30}$/),
      fc.constant(undefined),
    );
    const query = fc.oneof(fc.constant(''), fc.constantFrom('?namespace=a', '?namespace=b', '?namespace=', '?namespace=a&namespace=a', '?x=1'), fc.stringMatching(/^\?[a-z=&%0-9]{0,20}$/));

    let runs = 0;
    await fc.assert(
      fc.asyncProperty(body, type, query, async (b, t, q) => {
        runs++;
        const res = await post(b, t, q);
        const text = await res.text();
        assert.ok(res.status < 500, `${res.status} ${text}`);
        if (res.status >= 400) {
          const error = JSON.parse(text) as { code?: unknown; message?: unknown };
          assert.equal(typeof error.code, 'string', text);
          assert.equal(typeof error.message, 'string', text);
        }
      }),
      { numRuns: 400, interruptAfterTimeLimit: 5_000 },
    );
    assert.ok(runs > 20, `only ${runs} runs`);
  });

  it('keeps serving afterwards', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const fresh = await makeEnvelope({ subjects: ['after-fuzz'] });
    assert.equal((await post(fresh, 'application/json', '')).status, 201);
  });
});
