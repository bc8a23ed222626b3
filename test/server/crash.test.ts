// Crash test (issue 5): a server on SQLite is killed with SIGKILL again and again while clients
// upload concurrently. After every restart, every upload the server acknowledged is there byte for
// byte, each is in the audit log, and the audit chain verifies (test/support/crash-uploads.ts).
// Bounded: a few rounds of < 1 s. The same on PostgreSQL: crash-postgres.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestBytes } from '../../src/core/index.ts';
import { createTokenOffline, verifyStoreAudit, withOfflineStore } from '../../src/server/index.ts';
import { makeEnvelope } from '../support/attestations.ts';
import { spawnServer } from '../support/child-server.ts';
import { killRepeatedlyUnderUploads } from '../support/crash-uploads.ts';

describe('server crash safety on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged upload, byte for byte and audited, across repeated SIGKILLs', (t) =>
    killRepeatedlyUnderUploads(t, { target: { data: dir }, rounds: 5, clients: 8, tag: 'crash' }));

  it('shuts down gracefully on SIGTERM: in-flight uploads finish, then the process exits 0', async () => {
    const { token } = await createTokenOffline({ data: dir }, { role: 'attester', namespaces: ['default'] });
    const server = await spawnServer(['--data', dir], { quiet: true });
    const docs = await Promise.all(Array.from({ length: 40 }, (_, i) => makeEnvelope({ subjects: [`graceful-${i}`] })));
    const uploads = docs.map((d) =>
      fetch(`${server.url}/v1/attestations`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: d }).then(
        async (res) => ({ status: res.status, body: await res.text() }),
        () => ({ status: 0, body: 'connection refused' }),
      ),
    );
    await sleep(5);
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    const results = await Promise.all(uploads);
    assert.equal(await exited, 0);
    // Each request was either served completely or refused before it started: never cut off half-way.
    for (const r of results) assert.ok([0, 200, 201, 503].includes(r.status), `${r.status} ${r.body}`);
    await withOfflineStore({ data: dir }, async (store) => {
      for (const [i, r] of results.entries()) {
        if (r.status === 200 || r.status === 201) assert.ok((await store.getAttestation('default', digestBytes(docs[i]!))) !== undefined);
      }
      assert.equal((await verifyStoreAudit(store)).ok, true);
    });
  });
});
