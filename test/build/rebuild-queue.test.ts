// The rebuild job queue on both drivers: distinct rebuilders per job ("k of n"), leases, and on
// PostgreSQL concurrent claimers that never take the same job twice (FOR UPDATE SKIP LOCKED).
import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PostgresRebuildQueue, SqliteRebuildQueue, openPostgresStore, openSqliteStore, type RebuildQueue } from '../../src/store/index.ts';
import { tempDir } from '../support/cli.ts';
import { havePostgres, startPostgres, type PostgresCluster } from '../support/postgres.ts';

const T0 = new Date('2026-06-01T00:00:00Z');
const LEASE = 60_000;
const later = (ms: number): Date => new Date(T0.getTime() + ms);
const job = (n: number, wanted = 1) => ({ namespace: 'default', provenanceId: n.toString(16).padStart(64, '0'), wanted });

type Opened = { queue: RebuildQueue; done: () => Promise<void> } | undefined;

function contract(name: string, open: (t: TestContext) => Promise<Opened>): void {
  describe(`rebuild queue (${name})`, () => {
    it('hands a job wanting two rebuilds to two distinct rebuilders, never twice to one', async (t) => {
      const q = await open(t);
      if (q === undefined) return;
      const { queue } = q;
      try {
        const j = await queue.enqueue(job(1, 2), T0);
        assert.equal(j.state, 'open');
        assert.equal((await queue.claim('token:a', T0, LEASE))?.id, j.id);
        assert.equal(await queue.claim('token:a', T0, LEASE), undefined, 'a rebuilder does not get the same job again');
        assert.equal((await queue.claim('token:b', T0, LEASE))?.id, j.id);
        assert.equal(await queue.claim('token:c', T0, LEASE), undefined, 'two claims are running: nothing left');
        assert.equal(await queue.complete(j.id, 'token:c', { result: 'PASSED', vsaId: 'x' }, T0), false, 'no claim, no completion');
        assert.equal(await queue.complete(j.id, 'token:a', { result: 'PASSED', vsaId: 'va' }, T0), true);
        assert.equal((await queue.get(j.id))?.state, 'open');
        assert.equal(await queue.complete(j.id, 'token:b', { result: 'FAILED', vsaId: 'vb' }, T0), true);
        const done = await queue.get(j.id);
        assert.equal(done?.state, 'done');
        assert.deepEqual(done?.claims.map((c) => [c.worker, c.state, c.result, c.vsaId]), [['token:a', 'done', 'PASSED', 'va'], ['token:b', 'done', 'FAILED', 'vb']]);
      } finally {
        await q.done();
      }
    });

    it('gives an expired claim to another rebuilder', async (t) => {
      const q = await open(t);
      if (q === undefined) return;
      const { queue } = q;
      try {
        const j = await queue.enqueue(job(2), T0);
        assert.equal((await queue.claim('token:a', T0, LEASE))?.id, j.id);
        assert.equal(await queue.claim('token:b', later(LEASE - 1), LEASE), undefined, 'the lease still holds');
        assert.equal((await queue.claim('token:b', later(LEASE + 1), LEASE))?.id, j.id, 'the lease ran out');
      } finally {
        await q.done();
      }
    });
  });
}

const dir = tempDir('custody-queue-');
after(() => dir[Symbol.dispose]());
let n = 0;

contract('sqlite', async () => {
  const path = join(dir.path, `q${n++}.db`);
  const store = openSqliteStore({ path });
  await store.migrate();
  await store.close();
  const queue = new SqliteRebuildQueue(path);
  return { queue, done: () => queue.close() };
});

let cluster: PostgresCluster | undefined;
after(async () => cluster?.stop());

describe('rebuild queue (postgres)', () => {
  it('lets concurrent rebuilders claim different jobs (FOR UPDATE SKIP LOCKED)', async (t) => {
    if (!havePostgres(t)) return;
    cluster ??= await startPostgres();
    const url = await cluster.createDatabase();
    const store = openPostgresStore({ connectionString: url });
    await store.migrate();
    await store.close();
    const queues = Array.from({ length: 4 }, () => new PostgresRebuildQueue(url));
    try {
      // Several rounds: a claim committed while another claimer's statement ran once let that
      // claimer take the same job (its snapshot did not see the claim); seen about 1 run in 3.
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i < 8; i++) await queues[0]!.enqueue(job(100 + 8 * round + i), T0);
        // 4 rebuilders x 2 claimers, all at once: each job is taken exactly once.
        const claims = await Promise.all(queues.flatMap((q, w) => [q.claim(`token:${round}-${w}`, T0, LEASE), q.claim(`token:${round}-${w}b`, T0, LEASE)]));
        const ids = claims.map((c) => c?.id).filter((id) => id !== undefined);
        assert.equal(new Set(ids).size, ids.length, `round ${round}: no job claimed twice`);
        assert.equal(ids.length, 8);
      }
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });
});

contract('postgres', async (t) => {
  if (!havePostgres(t)) return undefined;
  cluster ??= await startPostgres();
  const url = await cluster.createDatabase();
  const store = openPostgresStore({ connectionString: url });
  await store.migrate();
  await store.close();
  const queue = new PostgresRebuildQueue(url);
  return { queue, done: () => queue.close() };
});
