// custody log key|append|checkpoint|get-proof|verify-inclusion, offline on a log directory and
// through a server child process.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateNoteKey, verifyPosixLog, parseVerifierKey } from '../../src/tlog/index.ts';
import { custody, tempDir, assertOneLineError } from '../support/cli.ts';
import { spawnServer, type ChildServer } from '../support/child-server.ts';

describe('custody log (offline, --dir)', () => {
  const tmp = tempDir('custody-log-cli-');
  const key = join(tmp.path, 'log.key');
  const dir = join(tmp.path, 'log');
  const a = join(tmp.path, 'a.txt');
  const b = join(tmp.path, 'b.txt');
  const c = join(tmp.path, 'c.txt');
  after(() => tmp[Symbol.dispose]());

  before(() => {
    writeFileSync(a, 'entry a\n');
    writeFileSync(b, 'entry b\n');
    writeFileSync(c, 'never appended\n');
  });

  it('generates a note key pair and shows its verifier key', () => {
    const r = custody(['log', 'key', 'generate', '--name', 'example.com/log', '--out', key, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const { verifierKey } = JSON.parse(r.stdout) as { verifierKey: string };
    assert.match(readFileSync(key, 'utf8'), /^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+/);
    assert.equal(readFileSync(`${key}.pub`, 'utf8').trim(), verifierKey);
    assert.equal(parseVerifierKey(verifierKey).name, 'example.com/log');
    const show = custody(['log', 'key', 'show', '--key-file', key]);
    assert.equal(show.stdout.trim(), verifierKey);
  });

  it('appends files in order with one checkpoint; the directory verifies', async () => {
    const r = custody(['log', 'append', '--dir', dir, '--key-file', key, '--json', a, b]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { indexes: number[]; treeSize: number };
    assert.deepEqual(out.indexes, [0, 1]);
    assert.equal(out.treeSize, 2);
    const verified = await verifyPosixLog(dir, { log: parseVerifierKey(readFileSync(`${key}.pub`, 'utf8').trim()) });
    assert.equal(verified.checkpoint.checkpoint.size, 2);
  });

  it('prints and verifies the checkpoint with --log-key', () => {
    const r = custody(['log', 'checkpoint', '--dir', dir, '--log-key', `${key}.pub`, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { treeSize: number; verified: boolean }).treeSize, 2);
    // Another key with the same name: the checkpoint is not signed by it.
    const bad = custody(['log', 'checkpoint', '--dir', dir, '--log-key', generateNoteKey('example.com/log').verifierKey]);
    assert.equal(bad.status, 1);
    assertOneLineError(bad);
  });

  it('gets a proof for an entry file and verifies it offline; a file not in the log fails with exit 1', () => {
    const proof = custody(['log', 'get-proof', '--dir', dir, '--log-key', `${key}.pub`, '--json', b]);
    assert.equal(proof.status, 0, proof.stderr);
    const proofFile = join(tmp.path, 'proof.json');
    writeFileSync(proofFile, proof.stdout);
    assert.equal((JSON.parse(proof.stdout) as { logIndex: string }).logIndex, '1');
    const ok = custody(['log', 'verify-inclusion', '--log-key', `${key}.pub`, '--proof', proofFile, b]);
    assert.equal(ok.status, 0, ok.stderr);
    const wrongFile = custody(['log', 'verify-inclusion', '--log-key', `${key}.pub`, '--proof', proofFile, a]);
    assert.equal(wrongFile.status, 1);
    assert.match(assertOneLineError(wrongFile), /PROOF_INVALID/);
    const missing = custody(['log', 'verify-inclusion', '--dir', dir, '--log-key', `${key}.pub`, c]);
    assert.equal(missing.status, 1);
    assert.equal(custody(['log', 'verify-inclusion', '--dir', dir, '--log-key', `${key}.pub`, a]).status, 0);
  });

  it('refuses usage errors with exit 2', () => {
    assert.equal(custody(['log', 'append', '--dir', dir, a]).status, 2); // no --key-file
    assert.equal(custody(['log', 'get-proof', '--dir', dir, a]).status, 2); // no --log-key
  });
});

describe('custody log (through a server)', () => {
  const tmp = tempDir('custody-log-srv-');
  const data = join(tmp.path, 'data');
  const entry = join(tmp.path, 'entry.bin');
  let server: ChildServer;
  let token: string;
  let logKey: string;

  before(async () => {
    writeFileSync(entry, Buffer.from([0, 1, 2, 3, 255]));
    const t = custody(['token', 'create', '--data', data, '--role', 'signer', '--namespace', 'default', '--json']);
    assert.equal(t.status, 0, t.stderr);
    token = (JSON.parse(t.stdout) as { token: string }).token;
    server = await spawnServer(['--data', data], { quiet: true });
    const show = custody(['log', 'key', 'show', '--data', data]);
    assert.equal(show.status, 0, show.stderr);
    logKey = show.stdout.trim();
  });
  after(async () => {
    await server.kill();
    tmp[Symbol.dispose]();
  });

  it('appends through the server and proves inclusion from the served tiles', () => {
    const r = custody(['log', 'append', '--server', server.url, '--json', entry], { env: { CUSTODY_TOKEN: token } });
    assert.equal(r.status, 0, r.stderr);
    const { results } = JSON.parse(r.stdout) as { results: { index: number }[] };
    assert.equal(results[0]!.index, 0);
    const v = custody(['log', 'verify-inclusion', '--server', server.url, '--log-key', logKey, entry]);
    assert.equal(v.status, 0, v.stderr);
    const cp = custody(['log', 'checkpoint', '--server', server.url, '--log-key', logKey, '--json']);
    assert.equal((JSON.parse(cp.stdout) as { treeSize: number }).treeSize, 1);
  });

  it('refuses an append without a valid token (exit 2, SERVER_REFUSED)', () => {
    const r = custody(['log', 'append', '--server', server.url, entry], { env: { CUSTODY_TOKEN: 'nope' } });
    assert.equal(r.status, 2);
    assert.match(assertOneLineError(r), /SERVER_REFUSED/);
  });
});
