import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { verifyAuditEntries } from './audit-chain.ts';
import { withGroupCommit } from './group-commit.ts';
import { openSqliteStore } from './sqlite.ts';
import type { AuditDraft, Store, WriteUnit } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'custody-group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const unit = (i: number): WriteUnit => ({
  audit: { at: new Date(0).toISOString(), actor: `client-${i}`, action: 'test', namespace: null, target: String(i), outcome: 'allowed', status: 0, detail: {} } satisfies AuditDraft,
});

/** A real store whose write() calls (transactions) are counted and can be made to fail. */
async function counted(options: { writerThread?: boolean } = {}): Promise<{ store: Store; sizes: number[]; inFlight: number[]; failNext: { on: boolean } }> {
  const raw = openSqliteStore({ path: join(dir, `s-${n++}.db`), ...options });
  await raw.migrate();
  const sizes: number[] = [];
  const inFlight: number[] = [];
  const failNext = { on: false };
  let current = 0;
  const write = raw.write.bind(raw);
  const store = new Proxy(raw, {
    get(target, property) {
      if (property === 'write') {
        return async (units: WriteUnit[]) => {
          sizes.push(units.length);
          inFlight.push(++current);
          try {
            if (failNext.on) {
              failNext.on = false;
              throw new Error('disk full');
            }
            return await write(units);
          } finally {
            current -= 1;
          }
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Store;
  return { store, sizes, inFlight, failNext };
}

describe('group commit', () => {
  for (const writerThread of [false, true]) {
    it(`gathers concurrent writes into few transactions, each caller getting its own results${writerThread ? ' (writer thread)' : ''}`, async () => {
      const { store, sizes, inFlight } = await counted({ writerThread });
      const grouped = withGroupCommit(store);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => grouped.write([unit(i)])));
      assert.ok(sizes.length < 40, `40 writes in ${sizes.length} transactions`);
      assert.deepEqual(results.map((r) => r[0]!.audit.target), Array.from({ length: 40 }, (_, i) => String(i)));
      assert.equal(Math.max(...inFlight), 1);
      const entries = await store.readAudit(0, 100);
      assert.deepEqual(verifyAuditEntries(entries, await store.auditHead()), []);
      await store.close();
    });
  }

  it('rejects every caller of a failed transaction, and goes on with the next', async () => {
    const { store, failNext } = await counted();
    const grouped = withGroupCommit(store);
    failNext.on = true;
    const first = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => grouped.write([unit(i)])));
    assert.ok(first.every((r) => r.status === 'rejected'));
    const [ok] = await grouped.write([unit(9)]);
    assert.equal(ok!.audit.seq, 1, 'nothing of the failed transaction was kept');
    await store.close();
  });

  it('keeps up to maxInFlight transactions in flight, with the chain intact', async () => {
    const { store, inFlight } = await counted();
    const grouped = withGroupCommit(store, { maxInFlight: 2, maxUnits: 4 });
    const all: Promise<unknown>[] = [];
    for (let wave = 0; wave < 10; wave++) {
      all.push(...Array.from({ length: 6 }, (_, i) => grouped.write([unit(wave * 6 + i)])));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    assert.ok(Math.max(...inFlight) <= 2);
    const entries = await store.readAudit(0, 100);
    assert.equal(entries.length, 60);
    assert.deepEqual(verifyAuditEntries(entries, await store.auditHead()), []);
    await store.close();
  });
});
