// The log monitor and the attacks it must catch: a tampered tile or entry bundle, a forged
// checkpoint signature, a checkpoint inconsistent with an earlier one (rewritten history, split
// view, shrinking log); and `custody log monitor` exiting 1 with an alarm.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VerificationError } from '../../src/core/index.ts';
import {
  FileTileFetcher,
  appendToPosixLog,
  checkLogOnce,
  formatAddCheckpointRequest,
  generateNoteKey,
  parseAddCheckpointRequest,
  parseSignerKey,
  type MonitorState,
  type NoteKeyPair,
} from '../../src/tlog/index.ts';
import { custody } from '../support/cli.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const tmp = mkdtempSync(join(tmpdir(), 'custody-monitor-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const generated = generateNoteKey('example.com/log');
const key: NoteKeyPair = parseSignerKey(generated.signerKey);
let counter = 0;

/** A log directory built from batches; each batch is one checkpoint. */
async function logOf(batches: string[][]): Promise<string> {
  const dir = join(tmp, `log-${counter++}`);
  for (const batch of batches) await appendToPosixLog({ dir, origin: 'example.com/log', key }, batch.map(enc));
  return dir;
}

const check = (dir: string, previous?: MonitorState) => checkLogOnce({ fetcher: new FileTileFetcher(dir), log: key.verifier }, previous);

async function expectAlarm(promise: Promise<unknown>, codes: string[]): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof VerificationError && codes.includes(e.code));
}

const many = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('log monitor', () => {
  it('follows a growing log, re-deriving the new tiles each time', async () => {
    const dir = await logOf([many('a', 300)]);
    const first = await check(dir);
    assert.equal(first.report.newEntries, 300);
    await appendToPosixLog({ dir, origin: 'example.com/log', key }, many('b', 20).map(enc));
    const second = await check(dir, first.state);
    assert.deepEqual([second.report.previousSize, second.report.size, second.report.newEntries], [300, 320, 20]);
    const unchanged = await check(dir, second.state);
    assert.equal(unchanged.report.newEntries, 0);
  });

  it('raises TILE_INVALID for a tampered entry bundle (the tiles no longer re-derive)', async () => {
    const dir = await logOf([many('a', 10)]);
    const first = await check(dir);
    await appendToPosixLog({ dir, origin: 'example.com/log', key }, many('c', 5).map(enc));
    const bundle = join(dir, 'tile/entries/000.p/15');
    const bytes = readFileSync(bundle);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(bundle, bytes);
    await expectAlarm(check(dir, first.state), ['TILE_INVALID']);
  });

  it('raises an alarm for a tampered hash tile', async () => {
    const dir = await logOf([many('a', 10), many('b', 5)]);
    const tile = join(dir, 'tile/0/000.p/15');
    const bytes = readFileSync(tile);
    bytes[0]! ^= 1;
    writeFileSync(tile, bytes);
    await expectAlarm(check(dir), ['TILE_INVALID', 'LOG_INCONSISTENT']);
  });

  it('refuses a forged checkpoint signature (SIGNATURE_INVALID) and a checkpoint by another key (SIGNATURE_MISSING)', async () => {
    const dir = await logOf([many('a', 4)]);
    const path = join(dir, 'checkpoint');
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    const sigLine = lines[lines.length - 2]!;
    const raw = Buffer.from(sigLine.split(' ').pop()!, 'base64');
    raw[raw.length - 1]! ^= 1;
    writeFileSync(path, text.replace(sigLine, `${sigLine.slice(0, sigLine.lastIndexOf(' '))} ${raw.toString('base64')}`));
    await expectAlarm(check(dir), ['SIGNATURE_INVALID']);
    // The same log re-signed by an impostor key with the same name.
    const impostor = parseSignerKey(generateNoteKey('example.com/log').signerKey);
    const forged = join(tmp, `forged-${counter++}`);
    await appendToPosixLog({ dir: forged, origin: 'example.com/log', key: impostor }, many('a', 4).map(enc));
    await expectAlarm(check(forged), ['SIGNATURE_MISSING']);
  });

  it('raises LOG_INCONSISTENT when history is rewritten after a verified checkpoint', async () => {
    const honest = await logOf([many('a', 6)]);
    const state = (await check(honest)).state;
    // The same log key signs a different history that grows past the verified checkpoint.
    const rewritten = await logOf([['a0', 'a1', 'EVIL', 'a3', 'a4', 'a5'], many('z', 4)]);
    await expectAlarm(check(rewritten, state), ['LOG_INCONSISTENT']);
  });

  it('raises LOG_INCONSISTENT for a split view (same size, other root) and a shrinking log', async () => {
    const honest = await logOf([many('a', 6)]);
    const state = (await check(honest)).state;
    await expectAlarm(check(await logOf([['a0', 'a1', 'a2', 'a3', 'a4', 'OTHER']]), state), ['LOG_INCONSISTENT']);
    await expectAlarm(check(await logOf([many('a', 5)]), state), ['LOG_INCONSISTENT']);
  });

  it('custody log monitor exits 0 on a consistent log and 1 with an ALARM after a rewrite', async () => {
    const dir = await logOf([many('a', 6)]);
    const pub = join(tmp, 'log.pub');
    writeFileSync(pub, `${generated.verifierKey}\n`);
    const state = join(tmp, 'monitor.json');
    const ok = custody(['log', 'monitor', '--dir', dir, '--log-key', pub, '--state', state, '--once', '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(readFileSync(state, 'utf8')) as { size: number }).size, 6);
    // History rewritten in place.
    const rewritten = await logOf([['a0', 'a1', 'EVIL', 'a3', 'a4', 'a5'], many('z', 4)]);
    rmSync(dir, { recursive: true });
    cpSync(rewritten, dir, { recursive: true });
    const bad = custody(['log', 'monitor', '--dir', dir, '--log-key', pub, '--state', state, '--once']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /ALARM/);
    assert.match(bad.stderr, /LOG_INCONSISTENT/);
  });
});

describe('add-checkpoint request parsing (untrusted input)', () => {
  it('round-trips formatted requests', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 20 }), fc.string({ minLength: 1 }), (oldSize, proof, checkpoint) => {
        const parsed = parseAddCheckpointRequest(formatAddCheckpointRequest({ oldSize, proof, checkpoint }));
        assert.equal(parsed.oldSize, oldSize);
        assert.deepEqual(parsed.proof.map((p) => Buffer.from(p).toString('hex')), proof.map((p) => Buffer.from(p).toString('hex')));
        assert.equal(parsed.checkpoint, checkpoint);
      }),
    );
  });

  it('throws only INPUT_INVALID on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseAddCheckpointRequest(text);
        } catch (e) {
          assert.equal((e as { code?: string }).code, 'INPUT_INVALID');
        }
      }),
    );
  });
});
