import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { havePostgres, postgresAvailable, startPostgres, type PostgresCluster } from '../../test/support/postgres.ts';
import { verifyAuditEntries } from './audit-chain.ts';
import { checkMaterialIndexBackfill, runStoreContract } from './contract.case.ts';
import { withGroupCommit } from './group-commit.ts';
import { POSTGRES_MATERIAL_BACKFILL, POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
import { openPostgresStore } from './postgres.ts';

let cluster: PostgresCluster | undefined;

before(async () => {
  if (postgresAvailable()) cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
});

runStoreContract('postgres', {
  migrationVersions: POSTGRES_MIGRATIONS.map((m) => m.version),
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
      const versions = POSTGRES_MIGRATIONS.map((m) => m.version);
      assert.equal(reports.filter((r) => r.applied.length > 0).length, 1, 'exactly one server applies the migrations');
      assert.deepEqual(reports.find((r) => r.applied.length > 0)?.applied, versions);
      assert.ok(reports.every((r) => r.version === versions[versions.length - 1]));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('backfills the material index of attestations stored before its migration', async (t) => {
    if (!havePostgres(t)) return;
    const url = await cluster!.createDatabase();
    const store = openPostgresStore({ connectionString: url });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await checkMaterialIndexBackfill(store, async (sql) => void (await client.query(sql)), POSTGRES_MATERIAL_BACKFILL);
    } finally {
      await client.end();
      await store.close();
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

  it('group-commits with two transactions in flight: every upload stored once, the audit chain intact', async (t) => {
    if (!havePostgres(t)) return;
    const raw = openPostgresStore({ connectionString: await cluster!.createDatabase(), maxConnections: 4 });
    await raw.migrate();
    const store = withGroupCommit(raw, { maxInFlight: 2, maxUnits: 8 });
    try {
      const draft = (i: number) => ({ at: new Date(0).toISOString(), actor: `c${i}`, action: 'test', namespace: null, target: String(i), outcome: 'allowed' as const, status: 0, detail: {} });
      const waves: Promise<unknown>[] = [];
      for (let wave = 0; wave < 8; wave++) {
        waves.push(...Array.from({ length: 12 }, (_, i) => store.write([{ audit: draft(wave * 12 + i) }])));
        await new Promise((r) => setImmediate(r));
      }
      const results = (await Promise.all(waves)) as { audit: { target: string | null; seq: number } }[][];
      assert.deepEqual(results.map((r) => r[0]!.audit.target), Array.from({ length: 96 }, (_, i) => String(i)));
      assert.equal(new Set(results.map((r) => r[0]!.audit.seq)).size, 96, 'every entry has its own place in the chain');
      const entries = await raw.readAudit(0, 1000);
      assert.equal(entries.length, 96);
      assert.deepEqual(verifyAuditEntries(entries, await raw.auditHead()), []);
    } finally {
      await raw.close();
    }
  });
});
