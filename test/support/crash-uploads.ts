// The crash test of issue 5, for any store driver: a server is killed with SIGKILL again and again
// while clients upload concurrently. After every restart the server serves what its predecessors
// acknowledged; at the end every acknowledged upload is in the store byte for byte and in the
// audit log, and the audit chain verifies.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestBytes } from '../../src/core/index.ts';
import { createTokenOffline, verifyStoreAudit, withOfflineStore, type OfflineTarget } from '../../src/server/index.ts';
import { makeEnvelope } from './attestations.ts';
import { spawnServer } from './child-server.ts';

export interface CrashRun {
  /** The server's data directory or configuration (serve arguments and offline store alike). */
  readonly target: OfflineTarget;
  readonly rounds: number;
  readonly clients: number;
  /** Makes this run's subjects unique. */
  readonly tag: string;
}

export async function killRepeatedlyUnderUploads(t: TestContext, run: CrashRun): Promise<void> {
  const { token } = await createTokenOffline(run.target, { role: 'attester', namespaces: ['default'] });
  const args = run.target.config === undefined ? ['--data', run.target.data!] : ['--config', run.target.config];
  const acked = new Map<string, Buffer>();
  let counter = 0;
  let failures = 0;

  for (let round = 0; round < run.rounds; round++) {
    const server = await spawnServer(args, { quiet: true });
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
        const docs = await Promise.all(Array.from({ length: k % 3 === 0 ? 4 : 1 }, () => makeEnvelope({ subjects: [`${run.tag}-${round}-${counter++}`] })));
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
    const clients = Array.from({ length: run.clients }, (_, k) => client(k));
    await sleep(250 + Math.floor(Math.random() * 400));
    await server.kill('SIGKILL');
    killed = true;
    await Promise.all(clients);
  }

  assert.ok(acked.size > 50, `only ${acked.size} uploads acknowledged`);
  await withOfflineStore(run.target, async (store) => {
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
  t.diagnostic(`${acked.size} uploads acknowledged, ${failures} requests cut off by SIGKILL, ${run.rounds} rounds`);
}
