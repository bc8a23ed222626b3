// The server commands end to end: init, the first admin token offline, serve, push, query,
// token management through the server, audit verify offline and online.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { digestBytes } from '../../src/core/index.ts';
import { makeEnvelope, makeLink, sha256Of } from '../support/attestations.ts';
import { spawnServer, type ChildServer } from '../support/child-server.ts';

const CLI = fileURLToPath(new URL('../../bin/custody.js', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, CUSTODY_TOKEN: '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe('server commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-cli-'));
  let server: ChildServer | undefined;
  after(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('run a server from init to audit verify', async () => {
    const custody = join(dir, '.custody');
    const init = await cli(['init', '--dir', custody]);
    assert.equal(init.code, 0, init.stderr);
    const config = join(custody, 'server.yaml');
    assert.match(readFileSync(config, 'utf8'), /driver: sqlite/);
    assert.equal((await cli(['init', '--dir', custody])).code, 2, 'refuses to overwrite');

    const admin = await cli(['token', 'create', '--config', config, '--role', 'admin', '--json']);
    assert.equal(admin.code, 0, admin.stderr);
    const adminToken = (JSON.parse(admin.stdout) as { token: string }).token;
    assert.ok(existsSync(join(custody, 'server', 'custody.db')));

    server = await spawnServer(['--config', config, '--listen', '127.0.0.1:0']);
    const url = server.url;

    const link = await makeLink('build', ['cli-src'], ['cli-app']);
    const envelope = await makeEnvelope({ subjects: ['cli-app'] });
    writeFileSync(join(dir, 'build.intoto.jsonl'), `${link.toString()}\n${envelope.toString()}\n`);
    const denied = await cli(['push', '--server', url, join(dir, 'build.intoto.jsonl')]);
    assert.equal(denied.code, 1, 'no token: access denied');
    assert.match(denied.stderr, /ACCESS_DENIED/);

    const pushed = await cli(['push', '--server', url, '--json', join(dir, 'build.intoto.jsonl')], { CUSTODY_TOKEN: adminToken });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.deepEqual((JSON.parse(pushed.stdout) as { id: string }[]).map((r) => r.id), [digestBytes(link), digestBytes(envelope)]);

    writeFileSync(join(dir, 'cli-app'), 'cli-app');
    const found = await cli(['query', '--server', url, '--subject', join(dir, 'cli-app'), '--json'], { CUSTODY_TOKEN: adminToken });
    assert.equal(found.code, 0, found.stderr);
    assert.deepEqual((JSON.parse(found.stdout) as { id: string }[]).map((r) => r.id), [digestBytes(envelope), digestBytes(link)]);
    const graph = await cli(['query', '--server', url, '--subject', `sha256:${sha256Of('cli-app')}`, '--graph', '--json'], { CUSTODY_TOKEN: adminToken });
    assert.equal((JSON.parse(graph.stdout) as { artifacts: unknown[] }).artifacts.length, 2);

    const reader = await cli(['token', 'create', '--server', url, '--role', 'reader', '--namespace', 'default', '--json'], { CUSTODY_TOKEN: adminToken });
    assert.equal(reader.code, 0, reader.stderr);
    const readerToken = JSON.parse(reader.stdout) as { token: string; record: { id: string } };
    const listed = await cli(['token', 'list', '--server', url, '--json'], { CUSTODY_TOKEN: adminToken });
    assert.ok((JSON.parse(listed.stdout) as { id: string }[]).some((t) => t.id === readerToken.record.id));
    assert.equal((await cli(['push', '--server', url, join(dir, 'build.intoto.jsonl')], { CUSTODY_TOKEN: readerToken.token })).code, 1, 'reader may not push');
    assert.equal((await cli(['token', 'revoke', readerToken.record.id, '--server', url], { CUSTODY_TOKEN: adminToken })).code, 0);
    assert.equal((await cli(['query', '--server', url], { CUSTODY_TOKEN: readerToken.token })).code, 1, 'revoked');

    writeFileSync(join(dir, 'garbage.json'), '{"not": "an envelope"}');
    const bad = await cli(['push', '--server', url, join(dir, 'garbage.json')], { CUSTODY_TOKEN: adminToken });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /SERVER_REFUSED/);

    const online = await cli(['audit', 'verify', '--server', url, '--json'], { CUSTODY_TOKEN: adminToken });
    assert.equal(online.code, 0, online.stderr);
    assert.equal((JSON.parse(online.stdout) as { ok: boolean }).ok, true);
    await server.kill();
    const offline = await cli(['audit', 'verify', '--config', config]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /audit log verifies/);
  });
});
