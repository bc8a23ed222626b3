// C2SP tlog-witness: the witness's decisions (first checkpoint, consistent growth, stale old size
// → 409, bad proof or forked log → 422, forged signature → 403, unknown log → 404), the witness
// server cosigning, and the log gathering cosignatures with a k-of-n requirement.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VerificationError } from '../../src/core/index.ts';
import { startWitness, type RunningWitness } from '../../src/server/index.ts';
import {
  FileTileFetcher,
  appendToPosixLog,
  consistencyProof,
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  generateNoteKey,
  openCheckpoint,
  parseAddCheckpointRequest,
  parseCosignatureVerifierKey,
  parseSignerKey,
  TileHashReader,
  type NoteKeyPair,
  type TreeHead,
} from '../../src/tlog/index.ts';
import { CUSTODY_BIN } from '../support/cli.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const tmp = mkdtempSync(join(tmpdir(), 'custody-witness-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const logKey: NoteKeyPair = parseSignerKey(generateNoteKey('example.com/log').signerKey);

async function buildLog(name: string, entries: string[][]): Promise<{ dir: string; checkpoints: { text: string; head: TreeHead }[] }> {
  const dir = join(tmp, name);
  const checkpoints = [];
  for (const batch of entries) {
    const r = await appendToPosixLog({ dir, origin: 'example.com/log', key: logKey }, batch.map(enc));
    checkpoints.push({ text: r.signedCheckpoint, head: r.checkpoint });
  }
  return { dir, checkpoints };
}

describe('decideAddCheckpoint', () => {
  let honest: Awaited<ReturnType<typeof buildLog>>;
  let forked: Awaited<ReturnType<typeof buildLog>>;
  before(async () => {
    honest = await buildLog('honest', [['a', 'b', 'c'], ['d', 'e', 'f', 'g']]);
    // Same key, a different entry 2: a split view of the same log.
    forked = await buildLog('forked', [['a', 'b', 'X'], ['d', 'e', 'f', 'g']]);
  });

  const latest3 = (): TreeHead => honest.checkpoints[0]!.head;

  it('cosigns a first checkpoint from old size 0 (empty proof) and consistent growth with a proof', async () => {
    const first = decideAddCheckpoint({ oldSize: 0, proof: [], checkpoint: honest.checkpoints[0]!.text }, [logKey.verifier], () => undefined);
    assert.equal(first.status, 200);
    const proof = await consistencyProof(3, 7, new TileHashReader(7, new FileTileFetcher(honest.dir)));
    const body = formatAddCheckpointRequest({ oldSize: 3, proof, checkpoint: honest.checkpoints[1]!.text });
    const grow = decideAddCheckpoint(parseAddCheckpointRequest(body), [logKey.verifier], latest3);
    assert.equal(grow.status, 200);
  });

  it('answers 409 with its size when the old size is not the last one it cosigned', () => {
    const d = decideAddCheckpoint({ oldSize: 0, proof: [], checkpoint: honest.checkpoints[1]!.text }, [logKey.verifier], latest3);
    assert.deepEqual(d, { status: 409, size: 3 });
  });

  it('refuses to cosign a checkpoint inconsistent with the one it saw (forked log) with 422', async () => {
    const proof = await consistencyProof(3, 7, new TileHashReader(7, new FileTileFetcher(forked.dir)));
    const d = decideAddCheckpoint({ oldSize: 3, proof, checkpoint: forked.checkpoints[1]!.text }, [logKey.verifier], latest3);
    assert.equal(d.status, 422);
    assert.equal((d as { code: string }).code, 'LOG_INCONSISTENT');
  });

  it('refuses a forged checkpoint signature (403) and an unknown log (404)', () => {
    const other = parseSignerKey(generateNoteKey('example.com/log').signerKey);
    const forged = decideAddCheckpoint({ oldSize: 0, proof: [], checkpoint: honest.checkpoints[0]!.text }, [other.verifier], () => undefined);
    assert.equal(forged.status, 403);
    const stranger = parseSignerKey(generateNoteKey('other.example/log').signerKey);
    const unknown = decideAddCheckpoint({ oldSize: 0, proof: [], checkpoint: honest.checkpoints[0]!.text }, [stranger.verifier], () => undefined);
    assert.equal(unknown.status, 404);
  });

  it('parses only well-formed requests', () => {
    for (const bad of ['old 1\n\n', 'old 01\n\nx', 'new 1\n\nx', 'old 1\nnot-base64\n\nx', 'old 1']) {
      assert.throws(() => parseAddCheckpointRequest(bad), (e: unknown) => (e as { code?: string }).code === 'INPUT_INVALID', bad);
    }
  });
});

describe('custody witness serve and the log gathering cosignatures', () => {
  const w1 = parseSignerKey(generateNoteKey('witness-one', 'cosignature/v1').signerKey);
  const w2 = parseSignerKey(generateNoteKey('witness-two', 'cosignature/v1').signerKey);
  const w3 = parseSignerKey(generateNoteKey('witness-three', 'cosignature/v1').signerKey);
  let witnesses: RunningWitness[] = [];
  let h: Harness;
  let serverKey: NoteKeyPair;

  before(async () => {
    // The server's log key, made up front so the witnesses can know it.
    const generated = generateNoteKey('custody.local/log');
    serverKey = parseSignerKey(generated.signerKey);
    const keyFile = join(tmp, 'server-log-key');
    writeFileSync(keyFile, generated.signerKey, { mode: 0o600 });
    witnesses = await Promise.all(
      [w1, w2].map((key, i) => startWitness({ key, logs: [serverKey.verifier], statePath: join(tmp, `witness-${i}.json`), listen: '127.0.0.1:0' })),
    );
    h = await startHarness({
      configure: (c) => {
        c.tlog.keyFile = keyFile;
        c.tlog.witnesses = witnesses.map((w, i) => ({ url: w.url, key: [w1, w2][i]!.verifierKey }));
        c.tlog.witnessThreshold = 2;
      },
    });
  });
  after(async () => {
    await h.close();
    await Promise.all(witnesses.map((w) => w.close()));
  });

  const append = (text: string) => h.inject({ method: 'POST', url: '/v1/log/entries', token: h.tokens.signer, headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from(text) });

  it('publishes checkpoints cosigned by both witnesses, across several appends (consistency proofs accepted)', async () => {
    for (const text of ['one', 'two', 'three']) {
      const res = await append(text);
      assert.equal(res.statusCode, 200, res.body);
      const { checkpoint } = res.json<{ checkpoint: string }>();
      const opened = openCheckpoint(checkpoint, { log: serverKey.verifier, witnesses: [w1.verifier, w2.verifier], witnessThreshold: 2 });
      assert.equal(opened.cosignatures.length, 2);
    }
    const served = (await h.inject({ method: 'GET', url: '/log/checkpoint' })).body;
    const opened = openCheckpoint(served, { log: serverKey.verifier, witnesses: [parseCosignatureVerifierKey(w1.verifierKey), w2.verifier], witnessThreshold: 2 });
    assert.equal(opened.checkpoint.size, 3);
  });

  it('verification requiring k of n fails when fewer witnesses cosigned', async () => {
    const served = (await h.inject({ method: 'GET', url: '/log/checkpoint' })).body;
    assert.throws(
      () => openCheckpoint(served, { log: serverKey.verifier, witnesses: [w1.verifier, w2.verifier, w3.verifier], witnessThreshold: 3 }),
      (e: unknown) => e instanceof VerificationError && e.code === 'THRESHOLD_NOT_MET',
    );
  });

  it('refuses to acknowledge entries when the witness threshold cannot be met', async () => {
    await witnesses[1]!.close();
    const res = await append('four');
    assert.equal(res.statusCode, 422);
    assert.equal(res.json<{ code: string }>().code, 'THRESHOLD_NOT_MET');
  });
});

describe('custody witness serve (CLI)', () => {
  it('cosigns a checkpoint over HTTP with a tlog-cosignature/v1 line that verifies', async () => {
    const wKey = generateNoteKey('cli-witness', 'cosignature/v1');
    const keyFile = join(tmp, 'cli-witness.key');
    writeFileSync(keyFile, `${wKey.signerKey}\n`, { mode: 0o600 });
    const log = await buildLog('cli-witnessed', [['x', 'y']]);
    const child = spawn(process.execPath, [CUSTODY_BIN, 'witness', 'serve', '--key-file', keyFile, '--log-key', logKey.verifierKey, '--state', join(tmp, 'cli-witness.json'), '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      // First line: "witness <name> listening on <url>".
      const line = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`witness exited ${code}`)));
        createInterface({ input: child.stdout }).once('line', resolve);
      });
      const url = line.split(' ').pop()!;
      const checkpoint = log.checkpoints[0]!.text;
      const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint }) });
      assert.equal(res.status, 200);
      const cosigned = `${checkpoint}${await res.text()}`;
      const opened = openCheckpoint(cosigned, { log: logKey.verifier, witnesses: [parseCosignatureVerifierKey(wKey.verifierKey)], witnessThreshold: 1 });
      assert.equal(opened.cosignatures.length, 1);
      // Asked again from size 0 after cosigning size 2: 409 with its size.
      const stale = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint }) });
      assert.equal(stale.status, 409);
      assert.equal((await stale.text()).trim(), '2');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
