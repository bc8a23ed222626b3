import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { checkMaterialIndexBackfill, runStoreContract } from './contract.case.ts';
import { SQLITE_MATERIAL_BACKFILL, SQLITE_MIGRATIONS } from './sqlite-migrations.ts';
import { openSqliteStore } from './sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'custody-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runStoreContract('sqlite', { migrationVersions: SQLITE_MIGRATIONS.map((m) => m.version), open: () => Promise.resolve(openSqliteStore({ path: join(dir, `store-${n++}.db`) })) });
// The server's configuration: write() on the writer thread, everything else on the main connection.
runStoreContract('sqlite with a writer thread', {
  migrationVersions: SQLITE_MIGRATIONS.map((m) => m.version),
  open: () => Promise.resolve(openSqliteStore({ path: join(dir, `store-${n++}.db`), writerThread: true })),
});

describe('SqliteStore', () => {
  it('runs in WAL mode with synchronous=FULL', async () => {
    const path = join(dir, 'pragmas.db');
    const store = openSqliteStore({ path });
    await store.migrate();
    const db = new DatabaseSync(path);
    assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    db.close();
    // synchronous is per connection: read it through the store's own connection.
    assert.equal(store.synchronous(), 2);
    await store.close();
  });

  it('backfills the material index of attestations stored before its migration', async () => {
    const path = join(dir, 'backfill.db');
    const store = openSqliteStore({ path });
    const db = new DatabaseSync(path);
    try {
      await checkMaterialIndexBackfill(store, (sql) => Promise.resolve(db.exec(sql)), SQLITE_MATERIAL_BACKFILL);
    } finally {
      db.close();
      await store.close();
    }
  });

  it('refuses to update or delete audit entries', async () => {
    const path = join(dir, 'append-only.db');
    const store = openSqliteStore({ path });
    await store.migrate();
    await store.write([{ audit: { at: 'now', actor: 'x', action: 'y', namespace: null, target: null, outcome: 'allowed', status: 0, detail: {} } }]);
    await store.close();
    const db = new DatabaseSync(path);
    assert.throws(() => db.exec("UPDATE audit_log SET actor = 'mallory'"), /append-only/);
    assert.throws(() => db.exec('DELETE FROM audit_log'), /append-only/);
    db.close();
  });
});
