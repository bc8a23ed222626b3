// Stateless servers at scale (issue 5): two `custody serve` processes share one PostgreSQL at
// once. Uploads through either are visible through both, the same bytes are stored once whichever
// server gets them, and both append to one audit chain that verifies.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestBytes } from '../../src/core/index.ts';
import { createTokenOffline, verifyAuditOffline } from '../../src/server/index.ts';
import { makeEnvelope } from '../support/attestations.ts';
import { spawnServer, type ChildServer } from '../support/child-server.ts';
import { havePostgres, postgresAvailable, startPostgres, type PostgresCluster } from '../support/postgres.ts';

describe('two servers on one PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  const servers: ChildServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'custody-pg-multi-'));
  const config = join(dir, 'server.yaml');

  before(async () => {
    if (!postgresAvailable()) return;
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    writeFileSync(config, `store:\n  driver: postgres\n  url: ${url}\n  maxConnections: 4\nlog:\n  level: warn\n`);
  });
  after(async () => {
    for (const s of servers) await s.kill();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serve the same data concurrently and keep one audit chain', async (t) => {
    if (!havePostgres(t)) return;
    // Both start at once: they race to migrate; the advisory lock lets one do it.
    servers.push(...(await Promise.all([spawnServer(['--config', config]), spawnServer(['--config', config])])));
    const [one, two] = servers as [ChildServer, ChildServer];
    const { token } = await createTokenOffline({ config }, { role: 'attester', namespaces: ['default'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const post = (server: ChildServer, body: Buffer) => fetch(`${server.url}/v1/attestations`, { method: 'POST', headers, body });

    const docs = await Promise.all(Array.from({ length: 60 }, (_, i) => makeEnvelope({ subjects: [`multi-${i}`] })));
    // Every document goes to both servers at the same time.
    const responses = await Promise.all(docs.flatMap((d) => [post(one, d), post(two, d)]));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { id: string; created: boolean }[];
    assert.ok(responses.every((r) => r.status === 200 || r.status === 201));
    for (let i = 0; i < docs.length; i++) {
      const pair = [bodies[2 * i]!, bodies[2 * i + 1]!];
      assert.deepEqual(pair.map((b) => b.id), [digestBytes(docs[i]!), digestBytes(docs[i]!)]);
      assert.equal(pair.filter((b) => b.created).length, 1, `document ${i} created exactly once`);
    }
    for (const [i, d] of docs.entries()) {
      const server = i % 2 === 0 ? one : two;
      const res = await fetch(`${server.url}/v1/attestations/${digestBytes(d)}`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), d);
    }
    const listed = await fetch(`${two.url}/v1/attestations?limit=1000`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(((await listed.json()) as { items: unknown[] }).items.length, docs.length);

    const audit = await verifyAuditOffline({ config });
    assert.deepEqual(audit.problems, []);
    assert.ok(audit.entries >= 2 * docs.length + 1, `${audit.entries} audit entries`);
  });
});
