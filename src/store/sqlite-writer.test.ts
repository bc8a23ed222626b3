// The SQLite writer thread (sqlite-writer.ts, sqlite-writer-worker.ts): writes sent while a commit
// is running are merged into one transaction on the thread; each sender must still get exactly its
// own results, and the documents must be stored byte for byte even when their bytes are a slice of
// a larger buffer (the server's uploads are slices of node's Buffer pool).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateKeyPair } from '../core/index.ts';
import { makeEnvelope } from '../../test/support/attestations.ts';
import { verifyAuditEntries } from './audit-chain.ts';
import { prepareAttestation } from './ingest.ts';
import { openSqliteStore } from './sqlite.ts';
import type { AuditDraft } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'custody-sqlite-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = generateKeyPair('ed25519');

function draft(i: number): AuditDraft {
  return { at: new Date().toISOString(), actor: 'test', action: 'attestations.write', namespace: 'a', target: null, outcome: 'allowed', status: 201, detail: { i } };
}

describe('SQLite writer thread', () => {
  it('answers each of many concurrent writes with its own results, stores slices byte for byte, and keeps one audit chain', async () => {
    const store = openSqliteStore({ path: join(dir, 'concurrent.db'), writerThread: true });
    try {
      await store.migrate();
      const count = 40;
      const records = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const envelope = await makeEnvelope({ subjects: [`artifact-${i}`], keys: [key] });
          // The document as a slice in the middle of a larger buffer, with other bytes around it.
          const padded = Buffer.concat([Buffer.from('x'.repeat(100 + i)), Buffer.from(envelope), Buffer.from('y'.repeat(50))]);
          const bytes = padded.subarray(100 + i, 100 + i + envelope.byteLength);
          return prepareAttestation(bytes, { trustedKeys: [key.publicKey] });
        }),
      );
      // No group commit in front: every write is its own message, so the thread merges them.
      const results = await Promise.all(records.map((r, i) => store.write([{ attestations: { namespace: 'a', records: [r] }, audit: draft(i) }])));
      results.forEach(([result], i) => {
        assert.equal(result!.attestations.length, 1);
        assert.equal(result!.attestations[0]!.id, records[i]!.id);
        assert.equal(result!.attestations[0]!.created, true);
        assert.deepEqual(result!.audit.detail, { i });
      });
      assert.equal(new Set(results.map(([r]) => r!.audit.seq)).size, count);
      for (const r of records) {
        const stored = await store.getAttestation('a', r.id);
        assert.ok(stored !== undefined);
        assert.deepEqual(Buffer.from(stored.bytes), Buffer.from(r.bytes));
      }
      const entries = await store.readAudit(0, 1000);
      assert.equal(entries.length, count);
      assert.deepEqual(verifyAuditEntries(entries, await store.auditHead()), []);
    } finally {
      await store.close();
    }
  });

  it('closes with writes still in flight: every write sent before close is committed, and close settles', async () => {
    for (let round = 0; round < 10; round++) {
      const path = join(dir, `close-${round}.db`);
      const store = openSqliteStore({ path, writerThread: true });
      await store.migrate();
      const writes = Array.from({ length: 20 }, (_, i) => store.write([{ audit: draft(i) }]));
      await store.close(); // hung before the thread was ended explicitly after its connection closed
      const results = await Promise.all(writes);
      assert.equal(results.length, 20);
      const reopened = openSqliteStore({ path, writerThread: false });
      try {
        assert.equal((await reopened.readAudit(0, 100)).length, 20);
      } finally {
        await reopened.close();
      }
    }
  });
});
