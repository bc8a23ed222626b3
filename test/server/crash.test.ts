// Crash test (issue 5): a server on SQLite is killed with SIGKILL again and again while clients
// upload concurrently. After every restart, every upload the server acknowledged is there byte for
// byte, each is in the audit log, and the audit chain verifies. Bounded: a few rounds of < 1 s.
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

const ROUNDS = 5;
const CLIENTS = 8;

describe('server crash safety on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged upload, byte for byte and audited, across repeated SIGKILLs', async (t) => {
    const { token } = await createTokenOffline({ data: dir }, { role: 'attester', namespaces: ['default'] });
    const acked = new Map<string, Buffer>();
    let counter = 0;
    let failures = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const server = await spawnServer(['--data', dir], { quiet: true });
      // The restarted server serves what the previous ones acknowledged.
      for (const [id, bytes] of [...acked].slice(-5)) {
        const res = await fetch(`${server.url}/v1/attestations/${id}`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 200);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
      }
      let killed = false;
      const client = async (k: number): Promise<void> => {
        while (!killed) {
          // Every third request is a small NDJSON batch.
          const docs = await Promise.all(Array.from({ length: k % 3 === 0 ? 4 : 1 }, () => makeEnvelope({ subjects: [`crash-${round}-${counter++}`] })));
          const batch = docs.length > 1;
          try {
            const res = await fetch(`${server.url}/v1/attestations`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': batch ? 'application/x-ndjson' : 'application/json' },
              body: batch ? docs.map((d) => d.toString()).join('\n') : docs[0]!,
            });
            if (res.status === 200 || res.status === 201) {
              await res.arrayBuffer();
              for (const d of docs) acked.set(digestBytes(d), d);
            } else {
              assert.fail(`unexpected status ${res.status}: ${await res.text()}`);
            }
          } catch (e) {
            if (e instanceof assert.AssertionError) throw e;
            failures++; // connection cut by the kill: not acknowledged, so nothing is owed
          }
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, k) => client(k));
      await sleep(250 + Math.floor(Math.random() * 400));
      await server.kill('SIGKILL');
      killed = true;
      await Promise.all(clients);
    }

    assert.ok(acked.size > 50, `only ${acked.size} uploads acknowledged`);
    await withOfflineStore({ data: dir }, async (store) => {
      for (const [id, bytes] of acked) {
        const stored = await store.getAttestation('default', id);
        assert.ok(stored !== undefined, `acknowledged ${id} is missing`);
        assert.deepEqual(Buffer.from(stored.bytes), bytes);
      }
      const verification = await verifyStoreAudit(store);
      assert.deepEqual(verification.problems, []);
      const audited = new Set<string>();
      for (const e of await store.readAudit(0, 1_000_000)) {
        if (e.action === 'attestations.write' && e.outcome === 'allowed') for (const id of e.detail['ids'] as string[]) audited.add(id);
      }
      for (const id of acked.keys()) assert.ok(audited.has(id), `acknowledged ${id} is not in the audit log`);
    });
    t.diagnostic(`${acked.size} uploads acknowledged, ${failures} requests cut off by SIGKILL, ${ROUNDS} rounds`);
  });

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
