// Benchmark: RFC 6962 inclusion-proof verifications per second on one core, for a tree of
// 10,000,000 leaves (default). The tree is simulated: leaf i hashes the 8-byte big-endian i; a
// TileFetcher computes level-0 tiles on demand and serves precomputed level-1/2 hashes, so proofs
// come from the real tile code path (TileHashReader). With `go` and Debian's x/mod installed, the
// same proofs are also verified by golang.org/x/mod/sumdb/tlog.CheckRecord, side by side.
//
//   node bench/tlog-proofs.ts [--size N] [--proofs P] [--seconds S] [--no-go]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TileFetcher } from '../src/tlog/index.ts';
import { inclusionProof, leafHash, parseTilePath, rootFromLeafHashes, TileHashReader, treeRoot, verifyInclusion } from '../src/tlog/index.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000000' },
    proofs: { type: 'string', default: '4096' },
    seconds: { type: 'string', default: '5' },
    'no-go': { type: 'boolean', default: false },
  },
});
const SIZE = Number(values.size);

// The Go peer: reads root ‖ records written below and runs tlog.CheckRecord for S seconds.
const GO_PEER = String.raw`package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

type record struct {
	index int64
	leaf  tlog.Hash
	proof tlog.RecordProof
}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	size, _ := strconv.ParseInt(os.Args[2], 10, 64)
	seconds, _ := strconv.Atoi(os.Args[3])
	var root tlog.Hash
	copy(root[:], data)
	data = data[32:]
	var records []record
	for len(data) > 0 {
		var r record
		r.index = int64(binary.BigEndian.Uint64(data))
		copy(r.leaf[:], data[8:40])
		n := int(data[40])
		data = data[41:]
		for i := 0; i < n; i++ {
			var h tlog.Hash
			copy(h[:], data[i*32:])
			r.proof = append(r.proof, h)
		}
		data = data[n*32:]
		records = append(records, r)
	}
	done := 0
	start := time.Now()
	deadline := start.Add(time.Duration(seconds) * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range records {
			if err := tlog.CheckRecord(r.proof, size, root, r.index, r.leaf); err != nil {
				panic(err)
			}
		}
		done += len(records)
	}
	fmt.Println(int(float64(done) / time.Since(start).Seconds()))
}
`;
const PROOFS = Number(values.proofs);
const SECONDS = Number(values.seconds);

function leaf(i: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(i));
  return leafHash(b);
}

function tileLeaves(tileIndex: number, width: number): Uint8Array[] {
  return Array.from({ length: width }, (_, i) => leaf(tileIndex * 256 + i));
}

/** Hashes at tree height 8·level for level ≥ 1, as one flat buffer per level. */
function precompute(size: number): Buffer[] {
  const levels: Buffer[] = [Buffer.alloc(0)];
  const fullTiles = Math.floor(size / 256);
  const level1 = Buffer.alloc(fullTiles * 32);
  for (let t = 0; t < fullTiles; t++) Buffer.from(rootFromLeafHashes(tileLeaves(t, 256))).copy(level1, t * 32);
  levels.push(level1);
  for (let below = level1; below.length >= 256 * 32; ) {
    const n = Math.floor(below.length / (256 * 32));
    const next = Buffer.alloc(n * 32);
    for (let t = 0; t < n; t++) {
      const hashes = Array.from({ length: 256 }, (_, i) => below.subarray((t * 256 + i) * 32, (t * 256 + i + 1) * 32));
      Buffer.from(rootFromLeafHashes(hashes)).copy(next, t * 32);
    }
    levels.push(next);
    below = next;
  }
  return levels;
}

class SimulatedTiles implements TileFetcher {
  readonly levels: Buffer[];
  fetched = 0;
  constructor(levels: Buffer[]) {
    this.levels = levels;
  }
  fetchTile(path: string): Promise<Uint8Array | undefined> {
    this.fetched++;
    const parsed = parseTilePath(path);
    if (parsed?.kind !== 'tile') return Promise.resolve(undefined);
    const { level, index, width } = parsed.tile;
    if (level === 0) return Promise.resolve(Buffer.concat(tileLeaves(index, width)));
    const hashes = this.levels[level];
    if (hashes === undefined || (index * 256 + width) * 32 > hashes.length) return Promise.resolve(undefined);
    return Promise.resolve(hashes.subarray(index * 256 * 32, (index * 256 + width) * 32));
  }
}

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`tlog inclusion proofs — tree of ${SIZE.toLocaleString('en')} leaves, Node ${process.version}, ${cpus().length} × ${cpu}`);

// The level ≥ 1 hashes take a while (2·SIZE SHA-256 calls): cached under bench/out/.
let t0 = performance.now();
const cacheFile = new URL(`./out/tlog-sim-${SIZE}.bin`, import.meta.url);
let levels: Buffer[];
const cached = existsSync(cacheFile);
if (cached) {
  const data = readFileSync(cacheFile);
  levels = [Buffer.alloc(0)];
  for (let at = 0; at < data.length; ) {
    const len = data.readUInt32BE(at);
    levels.push(data.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
} else {
  levels = precompute(SIZE);
  mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
  const parts = levels.slice(1).flatMap((l) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(l.length);
    return [len, l];
  });
  writeFileSync(cacheFile, Buffer.concat(parts));
}
const tiles = new SimulatedTiles(levels);
console.log(`setup: tile hashes ${cached ? 'read' : 'computed'} in ${((performance.now() - t0) / 1000).toFixed(1)} s (cache ${cacheFile.pathname})`);

const reader = new TileHashReader(SIZE, tiles, { cacheTiles: 64 });
const root = await treeRoot(SIZE, reader);

// Random leaf indexes (fixed seed: xorshift).
let seed = 0x9e3779b9;
const random = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const cases: { index: number; leaf: Uint8Array; proof: Uint8Array[] }[] = [];
t0 = performance.now();
for (let i = 0; i < PROOFS; i++) {
  const index = Math.floor(random() * SIZE);
  cases.push({ index, leaf: leaf(index), proof: await inclusionProof(index, SIZE, reader) });
}
const genMs = performance.now() - t0;
for (const c of cases) verifyInclusion(c.index, SIZE, c.leaf, c.proof, root); // all must verify
const avgLen = cases.reduce((n, c) => n + c.proof.length, 0) / cases.length;
console.log(`generate: ${rate(PROOFS, genMs).toLocaleString('en')} proofs/s from tiles (${tiles.fetched} tile fetches, avg proof length ${avgLen.toFixed(1)})`);

// Verification, one core, alternating with the Go peer (when available) so that both see the
// same machine load; medians of 3 rounds.
function verifyRate(seconds: number): number {
  let done = 0;
  const begin = performance.now();
  const deadline = begin + seconds * 1000;
  while (performance.now() < deadline) {
    for (const c of cases) verifyInclusion(c.index, SIZE, c.leaf, c.proof, root);
    done += cases.length;
  }
  return rate(done, performance.now() - begin);
}

const X_MOD = '/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog/tlog.go';
const haveGo = (() => {
  if (values['no-go'] || !existsSync(X_MOD)) return false;
  try {
    execFileSync('go', ['version']);
    return true;
  } catch {
    return false;
  }
})();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ours: number[] = [];
const theirs: number[] = [];
const goDir = mkdtempSync(join(tmpdir(), 'custody-bench-go-'));
try {
  let peer: ((seconds: number) => number) | undefined;
  if (haveGo) {
    const src = join(goDir, 'gopath/src/checkrecord');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'main.go'), GO_PEER);
    const input = join(goDir, 'proofs.bin');
    // Records: index (8) ‖ leaf hash (32) ‖ proof length (1) ‖ proof hashes; the root first.
    const parts: Buffer[] = [Buffer.from(root)];
    for (const c of cases) {
      const head = Buffer.alloc(9);
      head.writeBigUInt64BE(BigInt(c.index));
      head[8] = c.proof.length;
      parts.push(head.subarray(0, 8), Buffer.from(c.leaf), head.subarray(8), ...c.proof.map((p) => Buffer.from(p)));
    }
    writeFileSync(input, Buffer.concat(parts));
    const env = { ...process.env, GO111MODULE: 'off', GOPATH: `${join(goDir, 'gopath')}:/usr/share/gocode`, GOCACHE: join(goDir, 'cache'), GOMAXPROCS: '1' };
    execFileSync('go', ['build', '-o', join(goDir, 'checkrecord'), 'checkrecord'], { env, cwd: src });
    peer = (seconds) => Number(execFileSync(join(goDir, 'checkrecord'), [input, String(SIZE), String(seconds)], { env, encoding: 'utf8' }).trim());
  }
  for (let round = 0; round < 3; round++) {
    ours.push(verifyRate(SECONDS));
    if (peer !== undefined) theirs.push(peer(SECONDS));
    console.log(`round ${round + 1}: custody ${ours.at(-1)!.toLocaleString('en')}/s${peer === undefined ? '' : `, Go x/mod ${theirs.at(-1)!.toLocaleString('en')}/s`}`);
  }
} finally {
  rmSync(goDir, { recursive: true, force: true });
}
console.log(`verify (custody, 1 core, median): ${median(ours).toLocaleString('en')} inclusion proofs/s`);
if (theirs.length > 0) {
  console.log(`verify (golang.org/x/mod/sumdb/tlog CheckRecord, GOMAXPROCS=1, median): ${median(theirs).toLocaleString('en')} inclusion proofs/s`);
  console.log(`ratio custody / Go (median of per-round ratios): ${median(ours.map((o, i) => o / theirs[i]!)).toFixed(2)}`);
}
