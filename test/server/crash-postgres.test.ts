// Crash test on PostgreSQL (issue 5): as test/server/crash.test.ts, with the store in PostgreSQL.
// A server is killed with SIGKILL again and again while clients upload concurrently; every upload
// it acknowledged is then there byte for byte and audited, and the audit chain verifies. Each
// write is one statement committed on its own (src/store/postgres.ts #writeChained): this checks
// that an answer is only sent once that commit is done, and that a restarted server, which does
// not know the head its predecessor left, chains after the stored one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestBytes } from '../../src/core/index.ts';
import { createTokenOffline, verifyStoreAudit, withOfflineStore } from '../../src/server/index.ts';
import { makeEnvelope } from '../support/attestations.ts';
import { spawnServer } from '../support/child-server.ts';
import { havePostgres, postgresAvailable, startPostgres, type PostgresCluster } from '../support/postgres.ts';

const ROUNDS = 4;
const CLIENTS = 8;

describe('server crash safety on PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'custody-crash-pg-'));
  const config = join(dir, 'server.yaml');

  before(async () => {
    if (!postgresAvailable()) return;
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    writeFileSync(config, `dataDir: ${join(dir, 'data')}\nstore:\n  driver: postgres\n  url: ${url}\n  maxConnections: 4\nlog:\n  level: warn\ntlog:\n  enabled: false\n`);
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged upload, byte for byte and audited, across repeated SIGKILLs', async (t) => {
    if (!havePostgres(t)) return;
    const { token } = await createTokenOffline({ config }, { role: 'attester', namespaces: ['default'] });
    const acked = new Map<string, Buffer>();
    let counter = 0;
    let failures = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const server = await spawnServer(['--config', config], { quiet: true });
      for (const [id, bytes] of [...acked].slice(-5)) {
        const res = await fetch(`${server.url}/v1/attestations/${id}`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 200);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
      }
      let killed = false;
      const client = async (k: number): Promise<void> => {
        while (!killed) {
          // Every third request is a small NDJSON batch.
          const docs = await Promise.all(Array.from({ length: k % 3 === 0 ? 4 : 1 }, () => makeEnvelope({ subjects: [`crash-pg-${round}-${counter++}`] })));
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
    await withOfflineStore({ config }, async (store) => {
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
});
