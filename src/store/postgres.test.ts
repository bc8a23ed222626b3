import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { havePostgres, postgresAvailable, startPostgres, type PostgresCluster } from '../../test/support/postgres.ts';
import { runStoreContract } from './contract.case.ts';
import { openPostgresStore } from './postgres.ts';

let cluster: PostgresCluster | undefined;

before(async () => {
  if (postgresAvailable()) cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
});

runStoreContract('postgres', {
  available: postgresAvailable,
  require: havePostgres,
  open: async () => openPostgresStore({ connectionString: await cluster!.createDatabase() }),
});

describe('PostgresStore', () => {
  it('lets several servers migrate at once: one applies, the others wait and find nothing to do', async (t) => {
    if (!havePostgres(t)) return;
    const url = await cluster!.createDatabase();
    const stores = Array.from({ length: 4 }, () => openPostgresStore({ connectionString: url, maxConnections: 2 }));
    try {
      const reports = await Promise.all(stores.map((s) => s.migrate()));
      assert.equal(reports.filter((r) => r.applied.length === 1).length, 1);
      assert.ok(reports.every((r) => r.version === 1));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('refuses to update or delete audit entries', async (t) => {
    if (!havePostgres(t)) return;
    const url = await cluster!.createDatabase();
    const store = openPostgresStore({ connectionString: url });
    await store.migrate();
    await store.write([{ audit: { at: 'now', actor: 'x', action: 'y', namespace: null, target: null, outcome: 'allowed', status: 0, detail: {} } }]);
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await assert.rejects(client.query("UPDATE audit_log SET actor = 'mallory'"), /append-only/);
      await assert.rejects(client.query('DELETE FROM audit_log'), /append-only/);
    } finally {
      await client.end();
    }
  });
});
