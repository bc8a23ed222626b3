import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, beforeEach, describe, it } from 'node:test';
import { AuditChainVerifier, GENESIS_HASH, chainEntries, verifyAuditEntries } from './audit-chain.ts';
import { openSqliteStore } from './sqlite.ts';
import type { AuditDraft, AuditEntry } from './types.ts';

function draft(i: number): AuditDraft {
  return { at: `2025-01-01T00:00:0${i % 10}.000Z`, actor: `token:t${i}`, action: 'attestations.write', namespace: 'a', target: `id${i}`, outcome: 'allowed', status: 201, detail: { n: i } };
}

const chain = (n: number): AuditEntry[] => chainEntries({ seq: 0, hash: GENESIS_HASH }, Array.from({ length: n }, (_, i) => draft(i)));
const head = (entries: AuditEntry[]) => ({ seq: entries.at(-1)?.seq ?? 0, hash: entries.at(-1)?.hash ?? GENESIS_HASH });
const codes = (entries: AuditEntry[], h = head(entries)) => verifyAuditEntries(entries, h).map((p) => [p.code, p.seq]);

describe('audit chain', () => {
  describe('when untouched', () => {
    it('verifies, empty or not', () => {
      assert.deepEqual(codes([]), []);
      assert.deepEqual(codes(chain(5)), []);
    });
  });

  describe('when an entry is edited', () => {
    it('reports that entry and only that entry', () => {
      const entries = chain(5);
      entries[2] = { ...entries[2]!, actor: 'token:mallory' };
      assert.deepEqual(codes(entries), [['HASH_MISMATCH', 3]]);
    });

    it('reports an edit that recomputes the entry hash at the next entry', () => {
      const entries = chain(5);
      const edited = { ...entries[2]!, outcome: 'allowed' as const, status: 200 };
      const [rehashed] = chainEntries({ seq: 2, hash: entries[1]!.hash }, [edited]);
      entries[2] = rehashed!;
      assert.deepEqual(codes(entries, head(chain(5))), [['PREV_HASH_MISMATCH', 4]]);
    });
  });

  describe('when an entry is deleted', () => {
    it('reports the gap in the middle', () => {
      const entries = chain(5);
      entries.splice(1, 1);
      assert.deepEqual(codes(entries, head(chain(5))), [['SEQ_GAP', 3], ['PREV_HASH_MISMATCH', 3]]);
    });

    it('reports entries cut from the end against the head', () => {
      const full = chain(5);
      assert.deepEqual(codes(full.slice(0, 3), head(full)), [['HEAD_MISMATCH', 5]]);
    });
  });

  describe('when an entry is inserted', () => {
    it('reports the forged entry', () => {
      const entries = chain(4);
      const [forged] = chainEntries({ seq: 2, hash: entries[1]!.hash }, [draft(99)]);
      entries.splice(2, 0, forged!);
      const problems = codes(entries, head(chain(4)));
      assert.ok(problems.length > 0);
      assert.deepEqual(problems[0], ['SEQ_GAP', 3]);
    });
  });

  describe('when fed page by page', () => {
    it('counts entries and gives the same answer as in one piece', () => {
      const entries = chain(7);
      const v = new AuditChainVerifier();
      for (const e of entries) v.add(e);
      assert.equal(v.count, 7);
      assert.deepEqual(v.finish(head(entries)), []);
    });
  });
});

describe('audit chain in a SQLite store tampered with directly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-audit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let path: string;
  let n = 0;

  beforeEach(async () => {
    path = join(dir, `audit-${n++}.db`);
    const store = openSqliteStore({ path });
    await store.migrate();
    await store.write(Array.from({ length: 5 }, (_, i) => ({ audit: draft(i) })));
    await store.close();
  });

  // An attacker with write access to the database file can drop the append-only triggers.
  function tamper(sql: string): void {
    const db = new DatabaseSync(path);
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    db.exec(sql);
    db.close();
  }

  async function verify(): Promise<string[][]> {
    const store = openSqliteStore({ path });
    try {
      return verifyAuditEntries(await store.readAudit(0, 100), await store.auditHead()).map((p) => [p.code, String(p.seq)]);
    } finally {
      await store.close();
    }
  }

  it('finds an edited entry', async () => {
    tamper("UPDATE audit_log SET outcome = 'allowed', status = 200 WHERE seq = 2");
    assert.deepEqual(await verify(), [['HASH_MISMATCH', '2']]);
  });

  it('finds a deleted entry', async () => {
    tamper('DELETE FROM audit_log WHERE seq = 3');
    assert.deepEqual(await verify(), [['SEQ_GAP', '4'], ['PREV_HASH_MISMATCH', '4']]);
  });

  it('finds the last entry deleted', async () => {
    tamper('DELETE FROM audit_log WHERE seq = 5');
    assert.deepEqual(await verify(), [['HEAD_MISMATCH', '5']]);
  });

  it('finds an inserted entry', async () => {
    tamper(`INSERT INTO audit_log SELECT seq + 100, at, actor, action, namespace, target, outcome, status, detail, prev_hash, hash FROM audit_log WHERE seq = 2`);
    const problems = await verify();
    assert.ok(problems.some(([code, seq]) => code === 'SEQ_GAP' && seq === '102'));
  });
});
