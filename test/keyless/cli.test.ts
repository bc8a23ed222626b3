// The keyless commands end to end, as a user runs them: `custody ca init`, `custody identity
// token`, `custody sign --keyless` (token from a file, or minted for a step) and `custody
// verify-blob --certificate-identity/--certificate-oidc-issuer` against the server's trusted root.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CUSTODY_BIN, assertOneLineError, custody, tempDir, type CliResult } from '../support/cli.ts';
import { startCaHarness, type CaHarness } from './ca-harness.ts';

/** Like custody() but asynchronous: the in-process server must keep answering meanwhile. */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CUSTODY_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

describe('custody ca init', () => {
  it('creates the root (encrypted, 0600), intermediate and TSA certificates and keys; refuses to run twice', () => {
    using dir = tempDir();
    const env = { CUSTODY_CA_ROOT_PASSPHRASE: 'root passphrase', CUSTODY_CA_KEY_PASSPHRASE: 'key passphrase' };
    const r = custody(['ca', 'init', '--data', dir.path, '--root-key-out', join(dir.path, 'root.key'), '--organization', 'acme', '--json'], { env });
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['root.pem', 'intermediate.pem', 'tsa.pem', 'identity-issuer.key']) assert.ok(existsSync(join(dir.path, 'ca', f)), f);
    const rootKey = readFileSync(join(dir.path, 'root.key'), 'utf8');
    assert.match(rootKey, /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.equal(statSync(join(dir.path, 'root.key')).mode & 0o777, 0o600);
    const again = custody(['ca', 'init', '--data', dir.path, '--root-key-out', join(dir.path, 'root2.key')], { env });
    assert.equal(again.status, 2);
    assert.match(assertOneLineError(again), /\[KEY_EXISTS\]$/);
    const noPass = custody(['ca', 'init', '--data', join(dir.path, 'x'), '--root-key-out', join(dir.path, 'r3.key')], { env: { CUSTODY_CA_ROOT_PASSPHRASE: '' } });
    assert.match(assertOneLineError(noPass), /\[KEY_PASSPHRASE_REQUIRED\]$/);
  });
});

describe('custody sign --keyless and verify-blob with identities', () => {
  let h: CaHarness;
  let dir: ReturnType<typeof tempDir>;
  before(async () => {
    h = await startCaHarness();
    dir = tempDir();
    writeFileSync(join(dir.path, 'app.tgz'), 'the release');
    writeFileSync(join(dir.path, 'root.json'), JSON.stringify(await (await fetch(`${h.url}/v1/ca/trusted-root`)).json()));
  });
  after(async () => {
    await h.stop();
    dir[Symbol.dispose]();
  });

  it('mints a token, signs keyless with it, and verifies the identity (exact and pattern); another identity fails', async () => {
    const tok = join(dir.path, 'id.jwt');
    const t = await run(['identity', 'token', '--server', h.url, '--step', 'release', '--ttl', '5m', '--out', tok, '--json'], { CUSTODY_TOKEN: h.tokens.signer });
    assert.equal(t.status, 0, t.stderr);
    const subject = (JSON.parse(t.stdout) as { subject: string }).subject;
    const s = await run(['sign', join(dir.path, 'app.tgz'), '--keyless', '--server', h.url, '--identity-token', tok, '--json']);
    assert.equal(s.status, 0, s.stderr);
    assert.equal((JSON.parse(s.stdout) as { identity: string }).identity, subject);
    const bundle = join(dir.path, 'app.tgz.sigstore.json');
    const base = ['verify-blob', join(dir.path, 'app.tgz'), '--bundle', bundle, '--trust-root', join(dir.path, 'root.json'), '--certificate-oidc-issuer', h.issuer];
    const ok = await run([...base, '--certificate-identity', subject]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /signed by .*steps\/release/);
    assert.equal((await run([...base, '--certificate-identity', '/.*\\/steps\\/release/'])).status, 0);
    const other = await run([...base, '--certificate-identity', subject.replace('release', 'build')]);
    assert.equal(other.status, 1);
    assert.match(assertOneLineError(other), /\[IDENTITY_MISMATCH\]$/);
    const wrongIssuer = await run([...base.slice(0, -1), 'https://accounts.example', '--certificate-identity', subject]);
    assert.match(assertOneLineError(wrongIssuer), /\[IDENTITY_MISMATCH\]$/);
    writeFileSync(join(dir.path, 'tampered.tgz'), 'the release!');
    const tampered = await run(['verify-blob', join(dir.path, 'tampered.tgz'), ...base.slice(2), '--certificate-identity', subject]);
    assert.match(assertOneLineError(tampered), /\[DIGEST_MISMATCH\]$/);
  });

  it('mints the token itself for --step with $CUSTODY_TOKEN; without any token source it is a usage error', async () => {
    const s = await run(['sign', join(dir.path, 'app.tgz'), '--keyless', '--server', h.url, '--step', 'package', '--out', join(dir.path, 'b2.json'), '--json'], { CUSTODY_TOKEN: h.tokens.attester });
    assert.equal(s.status, 0, s.stderr);
    assert.match((JSON.parse(s.stdout) as { identity: string }).identity, /\/steps\/package$/);
    const none = await run(['sign', join(dir.path, 'app.tgz'), '--keyless', '--server', h.url], { CUSTODY_IDENTITY_TOKEN: '' });
    assert.equal(none.status, 2);
    assert.match(assertOneLineError(none), /\[USAGE\]$/);
    const denied = await run(['sign', join(dir.path, 'app.tgz'), '--keyless', '--server', h.url, '--step', 'x'], { CUSTODY_TOKEN: h.tokens.reader });
    assert.equal(denied.status, 1);
    assert.match(assertOneLineError(denied), /\[ACCESS_DENIED\]$/);
  });
});
