// Group commit in the transparency-log sequencer (issue 7's log path, in process, no HTTP): C
// callers each append one entry at a time, as concurrent sign requests do; every append answers
// after its entry is under a durably written checkpoint. Reports entries/s, entries per batch
// (one tile write + fsyncs + checkpoint each) and the append latency at p50/p99.
//
//   node bench/tlog-group-commit.ts [seconds-per-point] [concurrency...]   (default 3 s; 1 8 64)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, openTransparencyLog } from '../src/server/index.ts';
import { openSqliteStore } from '../src/store/index.ts';

const SECONDS = Number(process.argv[2] ?? '3');
const LEVELS = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 8, 64];

for (const concurrency of LEVELS) {
  const dir = mkdtempSync(join(tmpdir(), 'custody-bench-group-commit-'));
  try {
    const store = openSqliteStore({ path: join(dir, 'custody.db') });
    await store.migrate();
    const log = openTransparencyLog(defaultConfig(dir));
    const latencies: number[] = [];
    const treeSizes = new Set<string>();
    let n = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        while (performance.now() < end) {
          const started = performance.now();
          const [result] = await log.append([Buffer.from(`group-commit ${worker} ${n++} ${started}`)]);
          latencies.push(performance.now() - started);
          treeSizes.add(result!.tlogEntry.inclusionProof.treeSize);
        }
      }),
    );
    await log.close();
    await store.close();
    latencies.sort((a, b) => a - b);
    const at = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 10) / 10;
    process.stdout.write(
      `${JSON.stringify({
        concurrency,
        appendsPerSecond: Math.round(latencies.length / SECONDS),
        batches: treeSizes.size,
        entriesPerBatch: Math.round((latencies.length / treeSizes.size) * 10) / 10,
        p50ms: at(0.5),
        p99ms: at(0.99),
        loadAverage: Math.round(loadavg()[0]! * 100) / 100,
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
