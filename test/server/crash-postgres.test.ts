// Crash test on PostgreSQL (issue 5): as test/server/crash.test.ts, with the store in PostgreSQL.
// A server is killed with SIGKILL again and again while clients upload concurrently; every upload
// it acknowledged is then there byte for byte and audited, and the audit chain verifies. Each
// write is one statement committed on its own (src/store/postgres.ts #writeChained): this checks
// that an answer is only sent once that commit is done, and that a restarted server, which does
// not know the head its predecessor left, chains after the stored one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killRepeatedlyUnderUploads } from '../support/crash-uploads.ts';
import { havePostgres, postgresAvailable, startPostgres, type PostgresCluster } from '../support/postgres.ts';

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
    await killRepeatedlyUnderUploads(t, { target: { config }, rounds: 4, clients: 8, tag: 'crash-pg' });
  });
});
