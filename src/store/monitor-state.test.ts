// The log monitor's tables (migration 5) on both drivers: the verified checkpoint is upserted per
// log, alarms page newest first per log or across logs, evidence is capped.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { tempDir } from '../../test/support/cli.ts';
import { havePostgres, postgresAvailable, startPostgres, type PostgresCluster } from '../../test/support/postgres.ts';
import { PostgresMonitorState, SqliteMonitorState, type MonitorStateStore } from './monitor-state.ts';
import { openPostgresStore } from './postgres.ts';
import { openSqliteStore } from './sqlite.ts';

let cluster: PostgresCluster | undefined;
const tmp = tempDir('custody-monitor-state-');
before(async () => {
  if (postgresAvailable()) cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
  tmp[Symbol.dispose]();
});

const drivers: [string, (t: TestContext) => boolean, () => Promise<MonitorStateStore>][] = [
  [
    'sqlite',
    () => true,
    async () => {
      const path = join(tmp.path, `s-${Math.random().toString(36).slice(2)}.db`);
      const store = openSqliteStore({ path });
      await store.migrate();
      await store.close();
      return new SqliteMonitorState(path);
    },
  ],
  [
    'postgres',
    havePostgres,
    async () => {
      const url = await cluster!.createDatabase();
      const store = openPostgresStore({ connectionString: url });
      await store.migrate();
      await store.close();
      return new PostgresMonitorState(url);
    },
  ],
];

for (const [driver, available, open] of drivers) {
  describe(`monitor state on ${driver}`, () => {
    it('upserts the verified checkpoint per log and pages alarms newest first', async (t) => {
      if (!available(t)) return;
      const state = await open();
      try {
        const base = { origin: 'o/log', rootHash: 'cm9vdA==', cosignatures: ['w1'], verifiedAt: '2026-11-22T00:00:00.000Z' };
        await state.saveCheckpoint({ ...base, logId: 'a', size: 3, checkpoint: 'cp3' });
        await state.saveCheckpoint({ ...base, logId: 'b', size: 9_007_199_254_740, checkpoint: 'big' });
        await state.saveCheckpoint({ ...base, logId: 'a', size: 5, checkpoint: 'cp5' });
        // Never backwards: another server's older result does not replace a newer one.
        await state.saveCheckpoint({ ...base, logId: 'a', size: 4, checkpoint: 'cp4' });
        assert.deepEqual(
          (await state.checkpoints()).map((c) => [c.logId, c.size, c.checkpoint, c.cosignatures]),
          [
            ['a', 5, 'cp5', ['w1']],
            ['b', 9_007_199_254_740, 'big', ['w1']],
          ],
        );
        const raised = [];
        for (const [i, log] of ['a', 'b', 'a', 'a'].entries()) {
          raised.push(
            await state.addAlarm({ logId: log, kind: 'fork', code: 'LOG_INCONSISTENT', message: `m${i}`, size: i === 0 ? null : i, checkpoint: i === 3 ? 'x'.repeat(20_000) : null, raisedAt: `2026-11-22T00:00:0${i}.000Z` }),
          );
        }
        assert.equal(await state.alarmCount(), 4);
        const all = await state.alarms({ limit: 10 });
        assert.deepEqual(all.map((a) => a.message), ['m3', 'm2', 'm1', 'm0']);
        assert.equal(all[0]!.checkpoint?.length, 8192, 'evidence capped');
        assert.equal(all[3]!.size, null);
        const page1 = await state.alarms({ logId: 'a', limit: 2 });
        assert.deepEqual(page1.map((a) => a.message), ['m3', 'm2']);
        const page2 = await state.alarms({ logId: 'a', limit: 2, before: page1[1]!.id });
        assert.deepEqual(page2.map((a) => [a.message, a.id]), [['m0', raised[0]!.id]]);
      } finally {
        await state.close();
      }
    });
  });
}
