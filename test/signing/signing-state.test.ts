// The signing service's job table and revocations, on SQLite and PostgreSQL (one contract):
// jobs decided once, revocations recorded with the decision, undecided jobs left pending.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresSigningState, SqliteSigningState, openPostgresStore, openSqliteStore, type SigningJob, type SigningState } from '../../src/store/index.ts';
import { postgresAvailable, startPostgres, type PostgresCluster } from '../support/postgres.ts';

function job(id: string, createdAt: string): SigningJob {
  return {
    id,
    keyRef: 'k',
    keyid: 'kid',
    namespace: 'default',
    artifactName: `${id}.tgz`,
    artifactDigest: 'a'.repeat(64),
    signatureDigest: id.padEnd(64, '0'),
    logIndex: 3,
    createdAt,
    deadline: '2030-01-01T00:00:00Z',
    status: 'pending',
  };
}

let cluster: PostgresCluster | undefined;
after(async () => {
  await cluster?.stop();
});

const drivers: [string, () => Promise<SigningState | undefined>][] = [
  [
    'sqlite',
    async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'custody-signstate-')), 'custody.db');
      const store = openSqliteStore({ path });
      await store.migrate();
      await store.close();
      return new SqliteSigningState(path);
    },
  ],
  [
    'postgres',
    async () => {
      if (!postgresAvailable()) return undefined;
      cluster ??= await startPostgres();
      const url = await cluster.createDatabase();
      const store = openPostgresStore({ connectionString: url });
      await store.migrate();
      await store.close();
      return new PostgresSigningState(url);
    },
  ],
];

for (const [name, open] of drivers) {
  describe(`SigningState on ${name}`, () => {
    it('decides each pending job once and records revocations with the decision', async (t) => {
      const state = await open();
      if (state === undefined) return t.skip('PostgreSQL not available');
      try {
        await state.addJob(job('j1', '2026-01-01T00:00:01Z'));
        await state.addJob(job('j2', '2026-01-01T00:00:02Z'));
        await state.addJob(job('j3', '2026-01-01T00:00:03Z'));
        const seen: string[] = [];
        const decided = await state.processPending(10, (j) => {
          seen.push(j.id);
          if (j.id === 'j1') return Promise.resolve({ status: 'passed', at: '2026-01-02T00:00:00Z', reason: 'ok' });
          if (j.id === 'j2') return Promise.resolve(undefined);
          return Promise.resolve({ status: 'failed', revocation: { signatureDigest: j.signatureDigest, keyid: j.keyid, artifactDigest: j.artifactDigest, artifactName: j.artifactName, logIndex: 3, revokedAt: '2026-01-02T00:00:00Z', reason: 'no' } });
        });
        assert.deepEqual(seen, ['j1', 'j2', 'j3']);
        assert.deepEqual(decided.map((j) => [j.id, j.status]), [['j1', 'passed'], ['j3', 'failed']]);
        assert.equal((await state.job('j1'))?.status, 'passed');
        assert.equal((await state.job('j2'))?.status, 'pending');
        assert.deepEqual(await state.job('j3'), { ...job('j3', '2026-01-01T00:00:03Z'), status: 'failed', finishedAt: '2026-01-02T00:00:00Z', reason: 'no' });
        assert.deepEqual(
          (await state.revokedSignatures()).map((r) => [r.signatureDigest, r.reason, r.logIndex]),
          [[job('j3', '').signatureDigest, 'no', 3]],
        );
        // Decided jobs are not offered again; the undecided one is.
        const again: string[] = [];
        await state.processPending(10, (j) => {
          again.push(j.id);
          return Promise.resolve(undefined);
        });
        assert.deepEqual(again, ['j2']);
        assert.equal(await state.job('missing'), undefined);
      } finally {
        await state.close();
      }
    });
  });
}
