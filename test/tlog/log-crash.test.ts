// Crash safety of the log sequencer: a server child process is SIGKILLed under concurrent append
// load, again and again. After each restart the log must be consistent with every checkpoint
// ever published (consistency proofs verify), hold every acknowledged entry at the index it was
// acknowledged with, and never fork; the whole directory must re-derive tile for tile.
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FileTileFetcher, hashesEqual, leafHash, openCheckpoint, parseVerifierKey, proveConsistency, proveInclusion, verifyPosixLog, type TreeHead } from '../../src/tlog/index.ts';
import { custody, tempDir } from '../support/cli.ts';
import { spawnServer, type ChildServer } from '../support/child-server.ts';

const ROUNDS = 3;

describe('log sequencer under SIGKILL', () => {
  const tmp = tempDir('custody-log-crash-');
  after(() => tmp[Symbol.dispose]());

  it('keeps every acknowledged entry and stays consistent with every published checkpoint', async () => {
    const data = join(tmp.path, 'data');
    const t = custody(['token', 'create', '--data', data, '--role', 'signer', '--namespace', 'default', '--json']);
    assert.equal(t.status, 0, t.stderr);
    const token = (JSON.parse(t.stdout) as { token: string }).token;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const acknowledged = new Map<number, Buffer>(); // index → entry
    const checkpoints: string[] = [];
    let counter = 0;
    let logKey: string | undefined;

    for (let round = 0; round < ROUNDS; round++) {
      const server: ChildServer = await spawnServer(['--data', data], { quiet: true });
      if (logKey === undefined) {
        const info = (await (await fetch(`${server.url}/v1/log`)).json()) as { verifierKey: string };
        logKey = info.verifierKey;
      }
      let stop = false;
      // Writers: batches of 1..40 unique entries, plus one repeated entry per batch (dedup path).
      const writer = async (): Promise<void> => {
        while (!stop) {
          const n = 1 + (counter % 40);
          const entries = Array.from({ length: n }, () => Buffer.from(`round ${round} entry ${counter++} ${'x'.repeat(counter % 200)}`));
          entries.push(Buffer.from('the repeated entry'));
          try {
            const res = await fetch(`${server.url}/v1/log/entries`, { method: 'POST', headers, body: JSON.stringify({ entries: entries.map((e) => e.toString('base64')) }) });
            if (res.status !== 200) continue;
            const body = (await res.json()) as { results: { index: number; checkpoint: string }[] };
            body.results.forEach((r, i) => {
              const earlier = acknowledged.get(r.index);
              if (earlier !== undefined) assert.ok(earlier.equals(entries[i]!), `index ${r.index} acknowledged for two different entries`);
              acknowledged.set(r.index, entries[i]!);
              checkpoints.push(r.checkpoint);
            });
          } catch {
            // the server died mid-request: nothing acknowledged
          }
        }
      };
      const watcher = async (): Promise<void> => {
        while (!stop) {
          try {
            const res = await fetch(`${server.url}/log/checkpoint`);
            if (res.status === 200) checkpoints.push(await res.text());
          } catch {
            // dead
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const work = [writer(), writer(), writer(), writer(), watcher()];
      await new Promise((r) => setTimeout(r, 800 + round * 300));
      await server.kill('SIGKILL');
      stop = true;
      await Promise.all(work);
    }

    // Restart once more and check everything against the final state.
    const server = await spawnServer(['--data', data], { quiet: true });
    try {
      const log = parseVerifierKey(logKey!);
      // A deduplicated append after all the crashes still finds the earlier index (index recovered).
      const [firstIndex, firstEntry] = [...acknowledged.entries()].sort((x, y) => x[0] - y[0])[0]!;
      const again = await fetch(`${server.url}/v1/log/entries`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: firstEntry });
      const againBody = (await again.json()) as { index: number; duplicate: boolean };
      assert.deepEqual(againBody, { ...againBody, index: firstIndex, duplicate: true });

      const dir = join(data, 'log');
      const verified = await verifyPosixLog(dir, { log });
      const final: TreeHead = verified.checkpoint.checkpoint;
      const fetcher = new FileTileFetcher(dir);
      assert.ok(acknowledged.size > 100, `only ${acknowledged.size} entries acknowledged`);
      // No acknowledged entry lost: each is at its acknowledged index.
      for (const [index, entry] of acknowledged) {
        assert.ok(index < final.size, `acknowledged index ${index} beyond the final size ${final.size}`);
        const { leafHash: lh } = await proveInclusion(fetcher, final, index);
        assert.ok(hashesEqual(lh, leafHash(entry)), `entry ${index} changed`);
      }
      // Consistent with every checkpoint ever published; no two roots for one size (no fork).
      const bySize = new Map<number, Uint8Array>();
      for (const text of new Set(checkpoints)) {
        const head = openCheckpoint(text, { log }).checkpoint;
        const seen = bySize.get(head.size);
        if (seen !== undefined) assert.ok(hashesEqual(seen, head.rootHash), `two roots for size ${head.size}`);
        bySize.set(head.size, head.rootHash);
        assert.ok(head.size <= final.size);
        if (head.size > 0 && head.size < final.size) await proveConsistency(fetcher, head, final);
        if (head.size === final.size) assert.ok(hashesEqual(head.rootHash, final.rootHash));
      }
    } finally {
      await server.kill();
    }
  });
});
