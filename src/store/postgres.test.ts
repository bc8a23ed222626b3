import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { havePostgres, postgresAvailable, startPostgres, type PostgresCluster } from '../../test/support/postgres.ts';
import { digestBytes } from '../core/index.ts';
import { verifyAuditEntries } from './audit-chain.ts';
import { checkMaterialIndexBackfill, runStoreContract } from './contract.case.ts';
import { withGroupCommit } from './group-commit.ts';
import { POSTGRES_MATERIAL_BACKFILL, POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
import { openPostgresStore } from './postgres.ts';
import type { AuditDraft, NewAttestation, WriteResult } from './types.ts';

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

/** A stored attestation without signing: the store indexes whatever the ingest step extracted. */
function record(name: string): NewAttestation {
  const bytes = Buffer.from(JSON.stringify({ payload: Buffer.from(name).toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [] }));
  return {
    id: digestBytes(bytes),
    bytes,
    mediaType: 'application/vnd.dsse.envelope.v1+json',
    payloadType: 'application/vnd.in-toto+json',
    predicateType: 'https://example.com/test/v1',
    subjects: [{ name, digest: { sha256: digestBytes(Buffer.from(name)) } }],
    materials: [{ digest: { sha256: digestBytes(Buffer.from(`${name}-src`)) } }],
    claimedKeyids: ['k1'],
    verification: { status: 'verified', keyids: ['k1'] },
  };
}

// Equal drafts chain to equal hashes after the same head: the store must not take another
// writer's entry for its own (postgres.ts, CHAINED_WRITE).
const sameDraft: AuditDraft = { at: '2026-01-01T00:00:00.000Z', actor: 'same', action: 'attestations.write', namespace: 'n', target: null, outcome: 'allowed', status: 201, detail: {} };

describe('PostgresStore writes in one statement, chained after the head it expects', () => {
  async function checkChain(url: string, expected: number): Promise<void> {
    const reader = openPostgresStore({ connectionString: url, maxConnections: 1 });
    try {
      const entries = await reader.readAudit(0, 10_000);
      assert.equal(entries.length, expected);
      assert.deepEqual(verifyAuditEntries(entries, await reader.auditHead()), []);
    } finally {
      await reader.close();
    }
  }

  it('keeps one chain when two servers write equal entries at once (the head moves under each)', async (t) => {
    if (!havePostgres(t)) return;
    const url = await cluster!.createDatabase();
    const raws = [openPostgresStore({ connectionString: url, maxConnections: 3 }), openPostgresStore({ connectionString: url, maxConnections: 3 })];
    await raws[0]!.migrate();
    const stores = raws.map((r) => withGroupCommit(r, { maxInFlight: 2, maxUnits: 4 }));
    try {
      const writes: Promise<WriteResult[]>[] = [];
      for (let wave = 0; wave < 6; wave++) {
        for (let i = 0; i < 10; i++) writes.push(stores[i % 2]!.write([{ attestations: { namespace: 'n', records: [record(`w${wave}-${i}`)] }, audit: sameDraft }]));
        await new Promise((r) => setImmediate(r));
      }
      const results = await Promise.all(writes);
      assert.equal(new Set(results.map((r) => r[0]!.audit.seq)).size, 60, 'every write has its own entry');
      assert.ok(results.every((r) => r[0]!.attestations[0]!.created));
      await checkChain(url, 60);
      const page = await raws[1]!.listAttestations({ namespace: 'n', subject: { algorithm: 'sha256', value: digestBytes(Buffer.from('w5-9')) }, limit: 10 });
      assert.deepEqual(page.items.map((a) => a.id), [record('w5-9').id]);
    } finally {
      await Promise.all(raws.map((r) => r.close()));
    }
  });

  it('keeps the chain when many writes of one process reach the database out of order', async (t) => {
    if (!havePostgres(t)) return;
    const url = await cluster!.createDatabase();
    const store = openPostgresStore({ connectionString: url, maxConnections: 6 });
    await store.migrate();
    try {
      await store.write([{ audit: sameDraft }]);
      // No group commit: every write is its own statement, on its own pooled connection.
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => store.write([{ attestations: { namespace: 'n', records: [record(`o${i % 10}`)] }, audit: sameDraft }])));
      assert.deepEqual(results.map((r) => r[0]!.audit.seq).sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 2));
      // The same bytes three times: stored once, every upload told the same seq.
      for (let i = 0; i < 10; i++) {
        const mine = results.filter((_, k) => k % 10 === i).map((r) => r[0]!.attestations[0]!);
        assert.equal(mine.filter((p) => p.created).length, 1);
        assert.equal(new Set(mine.map((p) => p.seq)).size, 1);
      }
      await checkChain(url, 31);
    } finally {
      await store.close();
    }
  });

  it('writes on after a failed statement and after another server appended (the head is read again under the lock)', async (t) => {
    if (!havePostgres(t)) return;
    const url = await cluster!.createDatabase();
    const a = openPostgresStore({ connectionString: url, maxConnections: 2 });
    const b = openPostgresStore({ connectionString: url, maxConnections: 2 });
    await a.migrate();
    try {
      await a.write([{ attestations: { namespace: 'n', records: [record('f1')] }, audit: sameDraft }]);
      // PostgreSQL text cannot hold NUL: the statement fails, nothing of it is stored.
      await assert.rejects(a.write([{ attestations: { namespace: 'n', records: [record('f2')] }, audit: { ...sameDraft, actor: 'bad\u0000' } }]));
      const [next] = await a.write([{ attestations: { namespace: 'n', records: [record('f3')] }, audit: sameDraft }]);
      assert.equal(next!.audit.seq, 2);
      assert.equal(await a.getAttestation('n', record('f2').id), undefined);
      // Another server appends, then a token change by this one: each next write lands after them.
      await b.write([{ audit: sameDraft }]);
      const [after] = await a.write([{ audit: sameDraft }]);
      assert.equal(after!.audit.seq, 4);
      await a.createToken({ id: 'tk', secretHash: 'h', role: 'reader', namespaces: ['n'], description: '', createdAt: 'now', createdBy: 'x', expiresAt: null, revokedAt: null }, sameDraft);
      await b.write([{ audit: sameDraft }]);
      assert.equal((await a.write([{ audit: sameDraft }]))[0]!.audit.seq, 7);
      await checkChain(url, 7);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('PostgresStore lookups by subject in one turn of the event loop', () => {
  it('answers each with the page a lookup alone gets: its namespace, subject, limit, order and cursor', async (t) => {
    if (!havePostgres(t)) return;
    const store = openPostgresStore({ connectionString: await cluster!.createDatabase(), maxConnections: 2 });
    await store.migrate();
    try {
      // Subject s<k> is named by k + 1 attestations in namespace n and by one in namespace m.
      const subject = (k: number) => ({ algorithm: 'sha256', value: digestBytes(Buffer.from(`s${k}`)) });
      const named = (k: number, j: number, ns: string): NewAttestation => ({ ...record(`${ns}-s${k}-${j}`), subjects: [{ name: `s${k}`, digest: { sha256: subject(k).value } }] });
      for (let k = 0; k < 6; k++) {
        for (let j = 0; j <= k; j++) await store.write([{ attestations: { namespace: 'n', records: [named(k, j, 'n')] }, audit: sameDraft }]);
        await store.write([{ attestations: { namespace: 'm', records: [named(k, 0, 'm')] }, audit: sameDraft }]);
      }
      const asks = [
        ...Array.from({ length: 6 }, (_, k) => ({ namespace: 'n', subject: subject(k), limit: 3 })),
        { namespace: 'm', subject: subject(5), limit: 10 },
        { namespace: 'n', subject: subject(99), limit: 5 },
        { namespace: 'n', subject: subject(5), limit: 1 },
      ];
      // One turn: these go out together; one at a time (awaited), each goes alone.
      const together = await Promise.all(asks.map((q) => store.listAttestations(q)));
      for (const [i, q] of asks.entries()) {
        const alone = await store.listAttestations(q);
        assert.deepEqual(together[i], alone, `lookup ${i}`);
      }
      assert.deepEqual(together.map((p) => p.items.length), [1, 2, 3, 3, 3, 3, 1, 0, 1]);
      assert.deepEqual(together.map((p) => p.nextCursor !== undefined), [false, false, false, true, true, true, false, false, true]);
      assert.deepEqual(together[8]!.items.map((a) => a.id), [named(5, 5, 'n').id], 'newest first');
      // The cursor of a page from the batch continues where it stopped (a cursor query goes alone).
      const rest = await store.listAttestations({ namespace: 'n', subject: subject(5), limit: 10, cursor: together[5]!.nextCursor! });
      assert.deepEqual([...together[5]!.items, ...rest.items].map((a) => a.id), Array.from({ length: 6 }, (_, j) => named(5, 5 - j, 'n').id));
    } finally {
      await store.close();
    }
  });
});
