import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError, VerificationError } from '../core/index.ts';
import { parseCheckpoint, signCheckpoint } from './checkpoint.ts';
import { merkleTreeHash } from './merkle-hash.ts';
import { parseNote } from './note.ts';
import { generateNoteKey, parseSignerKey } from './note-keys.ts';
import { appendToPosixLog, FileTileFetcher, PosixLogAppender, readPosixCheckpoint, verifyPosixLog } from './posix-log.ts';
import { proveConsistency, proveInclusion, readEntry, readEntryBundle } from './tile-reader.ts';

const ORIGIN = 'example.com/posix-test';
const key = parseSignerKey(generateNoteKey(ORIGIN).signerKey);
const entry = (i: number) => Buffer.from(`entry ${i}`);
const root = mkdtempSync(join(tmpdir(), 'custody-tlog-'));
let dirs = 0;
const newDir = () => join(root, `log${dirs++}`);
after(() => rmSync(root, { recursive: true, force: true }));
const code = (c: string) => (e: unknown) => (e instanceof InputError || e instanceof VerificationError) && e.code === c;
const opts = (dir: string) => ({ dir, origin: ORIGIN, key });

async function fill(dir: string, batches: number[]): Promise<Buffer[]> {
  const all: Buffer[] = [];
  for (const n of batches) {
    const batch = Array.from({ length: n }, (_, i) => entry(all.length + i));
    const result = await appendToPosixLog(opts(dir), batch);
    assert.deepEqual(result.indexes, batch.map((_, i) => all.length + i));
    all.push(...batch);
  }
  return all;
}

describe('posix-log', () => {
  describe('when appending', () => {
    it('writes the tlog-tiles layout and a checkpoint over all entries', async () => {
      const dir = newDir();
      const all = await fill(dir, [1, 300, 0, 40]);
      const opened = await readPosixCheckpoint(dir, { log: key.verifier });
      assert.equal(opened!.checkpoint.size, 341);
      assert.deepEqual([...opened!.checkpoint.rootHash], [...merkleTreeHash(all)]);
      for (const path of ['tile/0/000', 'tile/0/001.p/85', 'tile/1/000.p/1', 'tile/entries/000', 'tile/entries/001.p/85', 'checkpoint']) {
        assert.ok(existsSync(join(dir, path)), path);
      }
      // The partial tiles of earlier checkpoints stay (tlog-tiles: MUST be served).
      assert.ok(existsSync(join(dir, 'tile/0/000.p/1')));
      assert.ok(existsSync(join(dir, 'tile/entries/001.p/45')));
      assert.ok(!existsSync(join(dir, '.lock')));
      const fetcher = new FileTileFetcher(dir);
      assert.deepEqual(Buffer.from(await readEntry(fetcher, 341, 300)), entry(300));
      const result = await verifyPosixLog(dir, { log: key.verifier });
      assert.equal(result.checkpoint.checkpoint.size, 341);
      assert.equal(result.filesChecked, 2 /* bundles */ + 1 /* full tile */ + 2 /* partial tiles */);
    });

    it('creates a size-0 checkpoint for an empty first append, making missing parents', async () => {
      const dir = join(newDir(), 'nested', 'log');
      const result = await appendToPosixLog(opts(dir), []);
      assert.equal(result.checkpoint.size, 0);
      assert.equal(parseCheckpoint(parseNote(readFileSync(join(dir, 'checkpoint'))).text).size, 0);
      await verifyPosixLog(dir, { log: key.verifier });
    });

    it('deduplicates identical entries when asked, within and across calls', async () => {
      const dir = newDir();
      await fill(dir, [10]);
      const r = await appendToPosixLog({ ...opts(dir), dedupe: true }, [entry(3), entry(10), entry(10), entry(11), entry(0)]);
      assert.deepEqual(r.indexes, [3, 10, 10, 11, 0]);
      assert.equal(r.appended, 2);
      assert.equal(r.checkpoint.size, 12);
      const same = await appendToPosixLog({ ...opts(dir), dedupe: true }, [entry(11)]);
      assert.equal(same.appended, 0);
      assert.equal(same.signedCheckpoint, readFileSync(join(dir, 'checkpoint'), 'utf8'));
      const dup = await appendToPosixLog(opts(dir), [entry(11)]);
      assert.deepEqual(dup.indexes, [12]);
    });

    it('refuses a log with another origin or key, and a concurrent writer', async () => {
      const dir = newDir();
      await fill(dir, [3]);
      await assert.rejects(appendToPosixLog({ ...opts(dir), origin: 'example.com/else' }, [entry(9)]), code('ORIGIN_MISMATCH'));
      const other = parseSignerKey(generateNoteKey(ORIGIN).signerKey);
      await assert.rejects(appendToPosixLog({ ...opts(dir), key: other }, [entry(9)]), code('SIGNATURE_MISSING'));
      // Re-keying on purpose: the old key is named as a previous key.
      const rekeyed = await appendToPosixLog({ ...opts(dir), key: other, previousKeys: [key.verifier] }, [entry(3)]);
      assert.equal(rekeyed.checkpoint.size, 4);
      await verifyPosixLog(dir, { log: other.verifier });
      // A live lock holder blocks; a dead one's lock is taken over.
      writeFileSync(join(dir, '.lock'), `${process.ppid}\n`);
      await assert.rejects(appendToPosixLog({ ...opts(dir), key: other }, [entry(4)]), code('LOG_LOCKED'));
      writeFileSync(join(dir, '.lock'), '2147483646\n');
      assert.equal((await appendToPosixLog({ ...opts(dir), key: other }, [entry(4)])).checkpoint.size, 5);
      // Regression (CI): a writer killed between creating the lock and writing its pid left an
      // empty lock that blocked the log for good. Such a lock has no holder and is taken over,
      // and the lock no longer appears without its pid.
      writeFileSync(join(dir, '.lock'), '');
      assert.equal((await appendToPosixLog({ ...opts(dir), key: other }, [entry(5)])).checkpoint.size, 6);
      // Regression: a restarted server that got the pid of the killed one (pid 1 in a container).
      writeFileSync(join(dir, '.lock'), `${process.pid}\n`);
      assert.equal((await appendToPosixLog({ ...opts(dir), key: other }, [entry(6)])).checkpoint.size, 7);
      assert.equal(existsSync(join(dir, '.lock')), false);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.lock')), []);
    });
  });

  describe('when the directory was tampered with', () => {
    const setup = async () => {
      const dir = newDir();
      const all = await fill(dir, [600]);
      return { dir, all };
    };

    it('detects a changed full tile, partial tile, or entry bundle', async () => {
      for (const path of ['tile/0/001', 'tile/0/002.p/88', 'tile/1/000.p/2', 'tile/entries/000', 'tile/entries/002.p/88']) {
        const { dir } = await setup();
        const data = readFileSync(join(dir, path));
        data[data.length - 1]! ^= 1;
        writeFileSync(join(dir, path), data);
        await assert.rejects(verifyPosixLog(dir, { log: key.verifier }), code('TILE_INVALID'), path);
        // An append refuses to extend it when the edge is what changed.
        if (path.includes('.p/')) await assert.rejects(appendToPosixLog(opts(dir), [entry(1)]), code('TILE_INVALID'), path);
      }
    });

    it('detects a missing tile', async () => {
      const { dir } = await setup();
      unlinkSync(join(dir, 'tile/0/001'));
      await assert.rejects(verifyPosixLog(dir, { log: key.verifier }), code('TILE_MISSING'));
    });

    it('detects a forged checkpoint signature and a checkpoint by another key', async () => {
      const { dir } = await setup();
      const path = join(dir, 'checkpoint');
      const signed = readFileSync(path, 'utf8');
      writeFileSync(path, signed.replace('\n600\n', '\n599\n'));
      await assert.rejects(verifyPosixLog(dir, { log: key.verifier }), code('SIGNATURE_INVALID'));
      const stranger = parseSignerKey(generateNoteKey(ORIGIN).signerKey);
      writeFileSync(path, await signCheckpoint(parseCheckpoint(parseNote(signed).text), [stranger.signer]));
      await assert.rejects(verifyPosixLog(dir, { log: key.verifier }), code('SIGNATURE_MISSING'));
    });

    it('detects rewritten history against an earlier checkpoint', async () => {
      const { dir, all } = await setup();
      const earlier = { size: 600, rootHash: merkleTreeHash(all) };
      // Rebuild the log with one entry changed, properly signed: only history catches it.
      rmSync(dir, { recursive: true });
      await appendToPosixLog(opts(dir), [...all.slice(0, 100), Buffer.from('rewritten'), ...all.slice(101), entry(600)]);
      await verifyPosixLog(dir, { log: key.verifier });
      await assert.rejects(verifyPosixLog(dir, { log: key.verifier, previous: earlier }), code('LOG_INCONSISTENT'));
      await assert.rejects(verifyPosixLog(dir, { log: key.verifier, previous: { size: 700, rootHash: earlier.rootHash } }), code('LOG_INCONSISTENT'));
    });
  });

  describe('when the writer is killed (SIGKILL) mid-append, repeatedly', () => {
    it('stays consistent with every acknowledged checkpoint and loses no acknowledged entry', async (t) => {
      const dir = newDir();
      const script = join(root, 'appender.ts');
      const lib = new URL('./index.ts', import.meta.url).href;
      writeFileSync(
        script,
        `import { appendToPosixLog, parseSignerKey } from ${JSON.stringify(lib)};
const [dir, skey, origin] = process.argv.slice(2);
const key = parseSignerKey(skey);
const { readFileSync, existsSync } = await import('node:fs');
let next = 0;
if (existsSync(dir + '/checkpoint')) next = Number(readFileSync(dir + '/checkpoint', 'utf8').split('\\n')[1]);
for (;;) {
  const batch = Array.from({ length: 1 + (next % 97) }, (_, i) => Buffer.from('entry ' + (next + i)));
  const r = await appendToPosixLog({ dir, origin, key }, batch);
  next = r.checkpoint.size;
  process.stdout.write(r.checkpoint.size + ' ' + Buffer.from(r.checkpoint.rootHash).toString('base64') + '\\n');
}
`,
      );
      const skey = generateNoteKey(ORIGIN);
      const childKey = parseSignerKey(skey.signerKey);
      const acknowledged: { size: number; rootHash: Uint8Array }[] = [];
      for (let round = 0; round < 6; round++) {
        const child = spawn(process.execPath, [script, dir, skey.signerKey, ORIGIN], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        const started = new Promise((resolve) => {
          child.stdout.once('data', resolve);
          setTimeout(resolve, 30_000);
        });
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        // Once the writer is appending, kill it at a varying moment: mid-batch, mid-fsync, ...
        await started;
        await new Promise((resolve) => setTimeout(resolve, 50 + ((round * 137) % 400)));
        child.kill('SIGKILL');
        await new Promise((resolve) => child.on('close', resolve));
        assert.equal(err, '', err);
        for (const line of out.split('\n').filter((l) => l.endsWith('='))) {
          const [size, b64] = line.split(' ');
          acknowledged.push({ size: Number(size), rootHash: Buffer.from(b64!, 'base64') });
        }
        // The lock of the killed writer is stale: the next append must take it over.
        const verified = await verifyPosixLog(dir, { log: childKey.verifier, ...(acknowledged.length > 0 ? { previous: acknowledged.at(-1)! } : {}) });
        assert.ok(verified.checkpoint.checkpoint.size >= (acknowledged.at(-1)?.size ?? 0));
      }
      t.diagnostic(`${acknowledged.length} acknowledged checkpoints, last size ${acknowledged.at(-1)?.size}`);
      assert.ok(acknowledged.length > 5, 'the writer made progress');
      const final = await verifyPosixLog(dir, { log: childKey.verifier });
      const head = { size: final.checkpoint.checkpoint.size, rootHash: final.checkpoint.checkpoint.rootHash };
      const fetcher = new FileTileFetcher(dir);
      // Every acknowledged checkpoint is consistent with the final one (no fork, no rewrite).
      for (const ack of acknowledged) {
        if (ack.size === head.size) assert.deepEqual([...ack.rootHash], [...head.rootHash]);
        else await proveConsistency(fetcher, ack, head);
      }
      // Every acknowledged entry is there, at its index, in order.
      const last = acknowledged.at(-1)!.size;
      for (let bundle = 0; bundle * 256 < last; bundle++) {
        const width = Math.min(256, head.size - bundle * 256);
        const entries = await readEntryBundle(fetcher, { index: bundle, width });
        entries.forEach((e, i) => assert.deepEqual(Buffer.from(e), entry(bundle * 256 + i)));
      }
      const { proof } = await proveInclusion(fetcher, head, last - 1);
      assert.ok(proof.length > 0);
    });
  });
});

describe('appendToPosixLog from one process, concurrently', () => {
  it('queues the appends instead of failing with LOG_LOCKED (regression: a half-written lock file read as pid 0)', async () => {
    const dir = join(root, 'concurrent');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => appendToPosixLog(opts(dir), [entry(100 + i)])));
    assert.deepEqual(results.map((r) => r.indexes[0]).sort((a, b) => (a ?? 0) - (b ?? 0)), [0, 1, 2, 3, 4, 5, 6, 7]);
    const verified = await verifyPosixLog(dir, { log: key.verifier, origin: ORIGIN });
    assert.equal(verified.checkpoint.checkpoint.size, 8);
  });
});

describe('PosixLogAppender (a long-lived writer)', () => {
  it('extends the log another writer changed in between, from the disk, not from its remembered edge', async () => {
    const dir = join(root, 'appender');
    const appender = new PosixLogAppender(opts(dir));
    await appender.append([entry(0), entry(1), entry(2)]);
    await appendToPosixLog(opts(dir), [entry(3)]); // another writer
    const result = await appender.append([entry(4), entry(5)]);
    assert.deepEqual(result.indexes, [4, 5]);
    const verified = await verifyPosixLog(dir, { log: key.verifier, origin: ORIGIN });
    assert.equal(verified.checkpoint.checkpoint.size, 6);
    assert.deepEqual([...verified.checkpoint.checkpoint.rootHash], [...merkleTreeHash([0, 1, 2, 3, 4, 5].map(entry))]);
  });

  it('serves the tiles it wrote from memory byte-identical to the files, and reloads after a failed append', async () => {
    const dir = join(root, 'appender-memory');
    const appender = new PosixLogAppender(opts(dir));
    await appender.append(Array.from({ length: 300 }, (_, i) => entry(i)));
    const disk = new FileTileFetcher(dir);
    for (const path of ['tile/0/000', 'tile/0/001.p/44', 'tile/1/000.p/1']) {
      assert.deepEqual(Buffer.from((await appender.fetcher.fetchTile(path))!), Buffer.from((await disk.fetchTile(path))!), path);
    }
    // A tampered partial tile is caught when the appender has to read the log again.
    await appendToPosixLog(opts(dir), [entry(300)]);
    writeFileSync(join(dir, 'tile/0/001.p/45'), Buffer.alloc(45 * 32));
    await assert.rejects(appender.append([entry(301)]), code('TILE_INVALID'));
    await assert.rejects(appender.append([entry(301)]), code('TILE_INVALID'));
  });

  it('exclusive: holds the lock between appends (other processes get LOG_LOCKED), releases it at close', async () => {
    const dir = join(root, 'appender-exclusive');
    const keyText = generateNoteKey(ORIGIN).signerKey;
    const k = parseSignerKey(keyText);
    const appender = new PosixLogAppender({ dir, origin: ORIGIN, key: k, exclusive: true });
    const [a, b] = await Promise.all([appender.append([entry(0), entry(1)]), appender.append([entry(2)])]);
    assert.deepEqual([...a.indexes, ...b.indexes], [0, 1, 2]);
    assert.equal(readFileSync(join(dir, '.lock'), 'utf8').trim(), String(process.pid));
    // Another process appending meanwhile is refused, and the log is unchanged.
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      import { appendToPosixLog, parseSignerKey } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
      const key = parseSignerKey(${JSON.stringify(keyText)});
      await appendToPosixLog({ dir: ${JSON.stringify(dir)}, origin: ${JSON.stringify(ORIGIN)}, key }, [Buffer.from('other')]).then(
        () => process.stdout.write('appended'), (e) => process.stdout.write(String(e.code)));
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.on('close', r));
    assert.equal(out, 'LOG_LOCKED');
    assert.equal((await appender.append([entry(3)])).checkpoint.size, 4);
    await appender.close();
    assert.equal(existsSync(join(dir, '.lock')), false);
    // After close another writer may append; the appender then reads the log from disk again.
    await appendToPosixLog({ dir, origin: ORIGIN, key: k }, [entry(4)]);
    assert.deepEqual((await appender.append([entry(5)])).indexes, [5]);
    await appender.close();
    const verified = await verifyPosixLog(dir, { log: k.verifier, origin: ORIGIN });
    assert.deepEqual([...verified.checkpoint.checkpoint.rootHash], [...merkleTreeHash([0, 1, 2, 3, 4, 5].map(entry))]);
  });
});
