// Benchmark: a TUF repository of N targets in TAP 15 hashed bins (custody's writer on
// @tufjs/models) and tuf-js reading it over loopback HTTP. Reports full publish, incremental add
// of 1,000, client cold/warm refresh + one target (time and bytes), and the size a flat
// targets.json of the same targets would have.
//   node bench/tuf-repo.ts [N=100000]        (docs/bench-tuf.md)
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { digestBytes, generateKeyPair } from '../src/core/index.ts';
import { TufClient, TufRepository, formatTufTime, type TargetInput } from '../src/tuf/index.ts';

const N = Number(process.argv[2] ?? 100_000);
// Bins ≈ √N: tuf-js parses the snapshot (one entry per bin) and each bin with @tufjs/models,
// whose map parsing is quadratic, so both the snapshot and the bins are kept near √N entries.
const bits = Number(process.env['TUF_BENCH_BITS'] ?? Math.max(1, Math.round(Math.log2(Math.sqrt(N)))));

function synthetic(from: number, count: number): TargetInput[] {
  const out: TargetInput[] = [];
  for (let i = from; i < from + count; i++) {
    const path = `packages/pkg-${i}/pkg-${i}-1.0.0.tgz`;
    out.push({ path, length: 1000 + (i % 5000), hashes: { sha256: digestBytes(path) } });
  }
  return out;
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  process.stderr.write(`${label}: ${(ms / 1000).toFixed(2)} s\n`);
  return { value, ms };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-tuf-'));
const keys = { root: generateKeyPair('ed25519'), targets: generateKeyPair('ed25519'), online: generateKeyPair('ed25519') };
const online = keys.online.signer();
try {
  const init = TufRepository.init(
    dir,
    { rootKeys: [keys.root.publicKey], rootThreshold: 1, targetsKeys: [keys.targets.publicKey], targetsThreshold: 1, onlineKeys: [keys.online.publicKey] },
    [keys.root.signer(), keys.targets.signer(), online],
  );
  await init.save();
  await init.publish();

  // Full publish: PEP 458 shape (targets → bins role (online) → 2^bits succinct bins), all N targets.
  const full = await timed(`full publish of ${N} targets in ${2 ** bits} bins`, async () => {
    const repo = TufRepository.open(dir, [online, keys.targets.signer()]);
    repo.delegate({ role: 'bins', paths: ['*', '*/*', '*/*/*'], keys: [keys.online.publicKey], threshold: 1 });
    await repo.save();
    repo.delegateHashBins({ from: 'bins', bits, keys: [keys.online.publicKey], threshold: 1 });
    repo.addTargets(synthetic(0, N));
    await repo.save();
    return repo.publish();
  });

  // Loopback server counting bytes per request.
  let bytes = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    readFile(join(dir, path)).then(
      (data) => {
        bytes += data.length;
        requests++;
        res.writeHead(200, { 'content-length': data.length }).end(data);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const md = mkdtempSync(join(tmpdir(), 'bench-tuf-md-'));
  const probe = synthetic(Math.floor(N / 2), 1)[0]?.path ?? '';
  const lookup = async (label: string) => {
    bytes = 0;
    requests = 0;
    const r = await timed(label, async () => {
      const c = new TufClient({ repo: url, root: join(dir, 'metadata', '1.root.json'), metadataDir: md });
      try {
        await c.refresh();
        return (await c.targetInfo(probe)).length;
      } finally {
        c.close();
      }
    });
    return { ms: r.ms, bytes, requests };
  };
  const cold = await lookup('client cold refresh + 1 target');

  const incremental = await timed('incremental add of 1,000 + publish', async () => {
    const repo = TufRepository.open(dir, [online]);
    repo.addTargets(synthetic(N, 1000));
    await repo.save();
    return repo.publish();
  });
  const warm = await lookup('client warm refresh + 1 target');
  server.close();
  rmSync(md, { recursive: true, force: true });

  // A flat targets.json holding the same N targets, in the form TargetFile.toJSON writes, with one
  // Ed25519 signature. Built as plain JSON: @tufjs/models' Targets.toJSON copies the whole map per
  // entry (O(n²)), which does not finish for a million targets.
  const flatTargets: Record<string, unknown> = {};
  for (const t of synthetic(0, N)) flatTargets[t.path] = { length: t.length, hashes: t.hashes };
  const flatSigned = { _type: 'targets', spec_version: '1.0.31', version: 1, expires: formatTufTime(new Date(Date.now() + 86400_000)), targets: flatTargets };
  const flatBytes = Buffer.byteLength(JSON.stringify({ signatures: [{ keyid: 'f'.repeat(64), sig: 'f'.repeat(128) }], signed: flatSigned }));

  const result = {
    targets: N,
    bins: 2 ** bits,
    fullPublishSeconds: +(full.ms / 1000).toFixed(2),
    rolesPublished: full.value.roles.length,
    incremental1000Seconds: +(incremental.ms / 1000).toFixed(2),
    incrementalRolesPublished: incremental.value.roles.length,
    cold: { seconds: +(cold.ms / 1000).toFixed(3), bytes: cold.bytes, requests: cold.requests },
    warm: { seconds: +(warm.ms / 1000).toFixed(3), bytes: warm.bytes, requests: warm.requests },
    flatTargetsJsonBytes: flatBytes,
    coldBytesVsFlat: +(cold.bytes / flatBytes).toFixed(4),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
