// Several servers on one PostgreSQL share one log: exactly one sequences (advisory lock), the
// others enqueue; appends through any of them get distinct indexes and valid proofs; when the
// sequencer is SIGKILLed another takes over, and the log stays consistent with no entry lost.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTokenOffline } from '../../src/server/index.ts';
import { FileTileFetcher, hashesEqual, leafHash, openCheckpoint, parseVerifierKey, proveInclusion, verifyPosixLog, type NoteVerifier } from '../../src/tlog/index.ts';
import { spawnServer, type ChildServer } from '../support/child-server.ts';
import { havePostgres, postgresAvailable, startPostgres, type PostgresCluster } from '../support/postgres.ts';

describe('one log, several servers on PostgreSQL', () => {
  let cluster: PostgresCluster | undefined;
  const servers: ChildServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'custody-pg-log-'));
  const config = join(dir, 'server.yaml');

  before(async () => {
    if (!postgresAvailable()) return;
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    writeFileSync(config, `dataDir: ${join(dir, 'data')}\nstore:\n  driver: postgres\n  url: ${url}\n  maxConnections: 4\nlog:\n  level: warn\n`);
  });
  after(async () => {
    for (const s of servers) await s.kill();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sequences through one server at a time, with takeover when it dies', async (t) => {
    if (!havePostgres(t)) return;
    servers.push(...(await Promise.all([spawnServer(['--config', config], { quiet: true }), spawnServer(['--config', config], { quiet: true })])));
    const { token } = await createTokenOffline({ config }, { role: 'signer', namespaces: ['default'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const log: NoteVerifier = parseVerifierKey(((await (await fetch(`${servers[0]!.url}/v1/log`)).json()) as { verifierKey: string }).verifierKey);
    const acknowledged = new Map<number, Buffer>();
    let n = 0;

    const appendVia = async (server: ChildServer, count: number): Promise<void> => {
      const entries = Array.from({ length: count }, () => Buffer.from(`pg entry ${n++}`));
      const res = await fetch(`${server.url}/v1/log/entries`, { method: 'POST', headers, body: JSON.stringify({ entries: entries.map((e) => e.toString('base64')) }) });
      assert.equal(res.status, 200, await res.clone().text());
      const { results } = (await res.json()) as { results: { index: number; checkpoint: string }[] };
      results.forEach((r, i) => {
        assert.equal(acknowledged.get(r.index), undefined, `index ${r.index} given twice`);
        acknowledged.set(r.index, entries[i]!);
        assert.ok(openCheckpoint(r.checkpoint, { log }).checkpoint.size > r.index);
      });
    };

    // Both servers at once, several rounds.
    for (let round = 0; round < 4; round++) await Promise.all([appendVia(servers[0]!, 10), appendVia(servers[1]!, 10), appendVia(servers[0]!, 1), appendVia(servers[1]!, 1)]);
    // Kill one, keep going through the other; start a third, kill the second: the sequencer role
    // must have moved at least once.
    await servers[0]!.kill('SIGKILL');
    await appendVia(servers[1]!, 5);
    servers.push(await spawnServer(['--config', config], { quiet: true }));
    await servers[1]!.kill('SIGKILL');
    await Promise.all([appendVia(servers[2]!, 7), appendVia(servers[2]!, 1)]);

    const logDir = join(dir, 'data', 'log');
    const final = (await verifyPosixLog(logDir, { log })).checkpoint.checkpoint;
    assert.equal(acknowledged.size, 4 * 22 + 5 + 8);
    assert.equal(final.size, acknowledged.size);
    const fetcher = new FileTileFetcher(logDir);
    for (const [index, entry] of acknowledged) {
      assert.ok(hashesEqual((await proveInclusion(fetcher, final, index)).leafHash, leafHash(entry)));
    }
  });
});
