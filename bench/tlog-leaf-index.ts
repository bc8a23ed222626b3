// The transparency log's deduplication index at size (issue 6): what one sequencer batch pays to
// look up and record its leaves when the log already holds N entries, for the SQLite table the
// sequencer used before (tlog_leaves: 32-byte random keys, WITHOUT ROWID, WAL + synchronous FULL,
// each batch one transaction) and for the in-memory LeafIndex it uses now (lookups confirmed
// against the level-0 tile). Same process, same batches, side by side.
//
//   node bench/tlog-leaf-index.ts [--size 10000000] [--batch 1000] [--batches 30] [--dir DIR]
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { LeafIndex, lookupLeaves, type TileFetcher } from '../src/tlog/index.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000000' },
    batch: { type: 'string', default: '1000' },
    batches: { type: 'string', default: '30' },
    dir: { type: 'string' },
  },
});
const SIZE = Number(values.size);
const BATCH = Number(values.batch);
const BATCHES = Number(values.batches);
const log = (m: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);

const leaf = (i: number): Buffer => createHash('sha256').update(`leaf ${i}`).digest();

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const summary = (ms: number[]): { p50: number; p99: number; perEntryUs: number } => {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: Math.round(percentile(s, 50) * 10) / 10, p99: Math.round(percentile(s, 99) * 10) / 10, perEntryUs: Math.round((1000 * s.reduce((a, b) => a + b, 0)) / (s.length * BATCH)) };
};

const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'custody-bench-leaf-index-'));
mkdirSync(dir, { recursive: true });
try {
  // --- SQLite, as the sequencer used it (src/store/log-state.ts before, migration 2's table).
  const db = new DatabaseSync(join(dir, 'leaves.db'));
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS tlog_leaves (leaf_hash BLOB PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID');
  let have = Number((db.prepare('SELECT COUNT(*) AS n FROM tlog_leaves').get() as { n: number }).n);
  if (have < SIZE) {
    log(`filling the SQLite table to ${SIZE} rows (has ${have})`);
    db.exec('PRAGMA synchronous = OFF');
    db.exec('PRAGMA cache_size = -2000000'); // filling only: keep the B-tree in memory (2 GB)
    const insert = db.prepare('INSERT OR IGNORE INTO tlog_leaves (leaf_hash, idx) VALUES (?, ?)');
    while (have < SIZE) {
      db.exec('BEGIN');
      for (const end = Math.min(SIZE, have + 200_000); have < end; have++) insert.run(leaf(have), have);
      db.exec('COMMIT');
    }
  }
  db.exec('PRAGMA cache_size = -2000'); // SQLite's default, as the sequencer's connection had
  db.exec('PRAGMA synchronous = FULL');
  const lookup = db.prepare('SELECT idx FROM tlog_leaves WHERE leaf_hash = ?');
  const insert = db.prepare('INSERT OR IGNORE INTO tlog_leaves (leaf_hash, idx) VALUES (?, ?)');
  let next = SIZE + 1_000_000_000 + Math.floor(Math.random() * 1e9); // fresh leaves each run
  const sqliteMs: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const batch = Array.from({ length: BATCH }, () => leaf(next++));
    const started = performance.now();
    for (const h of batch) lookup.get(h);
    db.exec('BEGIN IMMEDIATE');
    batch.forEach((h, i) => insert.run(h, SIZE + b * BATCH + i));
    db.exec('COMMIT');
    sqliteMs.push(performance.now() - started);
  }
  db.close();

  // --- The in-memory index over the same number of leaves (tiles served from memory: the
  // lookups of fresh leaves touch no tile unless 64 bits of their hash collide).
  const index = new LeafIndex();
  for (let i = 0; i < SIZE; i++) index.add(leaf(i), i);
  index.size = SIZE;
  const noTiles: TileFetcher = { fetchTile: () => Promise.resolve(undefined) };
  const memoryMs: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const batch = Array.from({ length: BATCH }, () => leaf(next++));
    const started = performance.now();
    await lookupLeaves(index, noTiles, index.size, batch);
    batch.forEach((h, i) => index.add(h, index.size + i));
    index.size += BATCH;
    memoryMs.push(performance.now() - started);
  }
  const report = {
    date: new Date().toISOString(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    size: SIZE,
    batch: BATCH,
    batches: BATCHES,
    sqliteBatchMs: summary(sqliteMs),
    memoryBatchMs: summary(memoryMs),
    // The server builds the index from the level-0 tiles at start: see bench/tlog-append.ts's warm-up.
    memoryIndexMiB: Math.round((process.memoryUsage().arrayBuffers / 2 ** 20) * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}
