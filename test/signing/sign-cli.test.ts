// custody sign / verify-blob / signer key, run as a user would (child processes): local bundles,
// bundles from the signing service over HTTP (only the digest is sent), log and revocation checks.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../src/core/index.ts';
import { FileKeyBackend } from '../../src/keys/index.ts';
import { SLSA_V1, makeEnvelope } from '../support/attestations.ts';
import { execFile } from 'node:child_process';
import { CUSTODY_BIN, custody, tempDir, assertOneLineError, type CliResult } from '../support/cli.ts';

/** The CLI without blocking this process (the server under test runs in it). */
function custodyAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CUSTODY_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}
import { startHarness, type Harness } from '../support/server-harness.ts';

const PASSPHRASE = 'cli-test-passphrase';

describe('custody sign and verify-blob', () => {
  const dir = tempDir('custody-sign-cli-');
  const artifact = join(dir.path, 'app-1.0.tgz');
  let h: Harness;
  let url: string;

  before(async () => {
    writeFileSync(artifact, 'the release tarball');
    const keys = new FileKeyBackend({ dir: join(dir.path, 'keys'), passphrase: PASSPHRASE });
    await keys.create({ name: 'release', type: 'ecdsa-p256' });
    writeFileSync(join(dir.path, 'release.pub'), (await keys.publicKey('release')).pem);
    await keys.close();
    const builder = generateKeyPair('ed25519');
    const policy = join(dir.path, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        _type: 'https://custody.dev/policy/v1',
        expires: '2030-01-01T00:00:00Z',
        functionaries: { builder: { publicKey: builder.publicKey.pem } },
        steps: [{ name: 'build', predicateTypes: [SLSA_V1], functionaries: ['builder'] }],
      }),
    );
    process.env['CUSTODY_CLI_TEST_PASSPHRASE'] = PASSPHRASE;
    h = await startHarness({
      configure: (config) => {
        config.signing = {
          enabled: true,
          backend: { kind: 'file', dir: join(dir.path, 'keys'), passphraseEnv: 'CUSTODY_CLI_TEST_PASSPHRASE' },
          keys: [{ name: 'release', policy, policyKeys: [], policyThreshold: 1, allowUnsignedPolicy: true, modes: ['verify-then-sign'] }],
          grants: [{ principals: ['token:*'], keys: ['release'], artifacts: ['app-*.tgz'] }],
          jobIntervalMs: 1000,
          verifyTimeoutMs: 60_000,
          maxAttestations: 100,
        };
      },
    });
    const sha = createHash('sha256').update(readFileSync(artifact)).digest('hex');
    const envelope = await makeEnvelope({ subjects: [{ name: 'app-1.0.tgz', digest: { sha256: sha } }], predicateType: SLSA_V1, predicate: { buildDefinition: { buildType: 'https://ci.example/v1', externalParameters: {} }, runDetails: { builder: { id: 'https://ci.example/builder' } } }, keys: [builder] });
    const up = await h.inject({ method: 'POST', url: '/v1/attestations', token: h.tokens.attester, headers: { 'content-type': 'application/json' }, payload: envelope });
    assert.ok(up.statusCode < 300, up.body);
    url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    writeFileSync(join(dir.path, 'trusted_root.json'), (await h.inject({ method: 'GET', url: '/v1/trusted-root' })).body);
  });

  after(async () => {
    await h.close();
    dir[Symbol.dispose]();
  });

  it('signs with the service (digest only) and verify-blob checks signature, log and revocation', async () => {
    const bundle = join(dir.path, 'remote.sigstore.json');
    const s = await custodyAsync(['sign', artifact, '--server', url, '--key-ref', 'release', '--out', bundle, '--json'], { CUSTODY_TOKEN: h.tokens.signer });
    assert.equal(s.status, 0, s.stderr);
    assert.equal(typeof (JSON.parse(s.stdout) as { logIndex: unknown }).logIndex, 'number');
    const v = await custodyAsync(['verify-blob', artifact, '--bundle', bundle, '--key', join(dir.path, 'release.pub'), '--trust-root', join(dir.path, 'trusted_root.json'), '--revocations', url, '--json']);
    assert.equal(v.status, 0, v.stderr);
    const out = JSON.parse(v.stdout) as { logChecked: boolean; revocationsChecked: boolean };
    assert.equal(out.logChecked, true);
    assert.equal(out.revocationsChecked, true);
    // Another file under the same bundle: exit 1, one line.
    const other = join(dir.path, 'app-1.1.tgz');
    writeFileSync(other, 'something else');
    const bad = custody(['verify-blob', other, '--bundle', bundle, '--key', join(dir.path, 'release.pub'), '--trust-root', join(dir.path, 'trusted_root.json')]);
    assert.equal(bad.status, 1);
    assert.match(assertOneLineError(bad), /DIGEST_MISMATCH|digest/i);
  });

  it('verify-blob takes the key from the server\'s published keys (--keys-from) instead of --key', async () => {
    const bundle = join(dir.path, 'keys-from.sigstore.json');
    const s = await custodyAsync(['sign', artifact, '--server', url, '--key-ref', 'release', '--out', bundle, '--json'], { CUSTODY_TOKEN: h.tokens.signer });
    assert.equal(s.status, 0, s.stderr);
    const v = await custodyAsync(['verify-blob', artifact, '--bundle', bundle, '--keys-from', url, '--trust-root', join(dir.path, 'trusted_root.json'), '--json']);
    assert.equal(v.status, 0, v.stderr);
    // A saved list without the signing key does not verify the bundle.
    const list = join(dir.path, 'no-release-keys.json');
    writeFileSync(list, JSON.stringify({ keys: [] }));
    const refused = await custodyAsync(['verify-blob', artifact, '--bundle', bundle, '--keys-from', list]);
    assert.equal(refused.status, 2);
    assert.match(assertOneLineError(refused), /INPUT_INVALID/);
    const none = custody(['verify-blob', artifact, '--bundle', bundle]);
    assert.equal(none.status, 2);
    assert.match(assertOneLineError(none), /--keys-from/);
  });

  it('refuses an artifact name outside the grant with exit 1', async () => {
    const s = await custodyAsync(['sign', artifact, '--server', url, '--key-ref', 'release', '--artifact-name', 'evil.bin', '--out', join(dir.path, 'x.json')], { CUSTODY_TOKEN: h.tokens.signer });
    assert.equal(s.status, 1);
    assert.match(assertOneLineError(s), /ACCESS_DENIED/);
  });

  it('names the failed rules when the service refuses for policy (exit 1, one line)', async () => {
    // Regression (found by the demo): only "do not satisfy the signing policy" was printed.
    const unattested = join(dir.path, 'app-2.0.tgz');
    writeFileSync(unattested, 'a release nobody attested');
    const s = await custodyAsync(['sign', unattested, '--server', url, '--key-ref', 'release', '--out', join(dir.path, 'y.json')], { CUSTODY_TOKEN: h.tokens.signer });
    assert.equal(s.status, 1);
    assert.match(assertOneLineError(s), /POLICY_FAILED: .* \([A-Z_]+: [^)]*build/);
  });

  for (const type of ['ecdsa-p256', 'ed25519'] as const) {
    it(`signs locally with a ${type} key file; verify-blob accepts it and refuses a wrong key`, () => {
      const key = generateKeyPair(type);
      const keyFile = join(dir.path, `${type}.key`);
      writeFileSync(keyFile, key.toPkcs8Pem());
      writeFileSync(join(dir.path, `${type}.pub`), key.publicKey.pem);
      const bundle = join(dir.path, `${type}.sigstore.json`);
      const s = custody(['sign', artifact, '--key', keyFile, '--out', bundle]);
      assert.equal(s.status, 0, s.stderr);
      const v = custody(['verify-blob', artifact, '--bundle', bundle, '--key', join(dir.path, `${type}.pub`)]);
      assert.equal(v.status, 0, v.stderr);
      const wrong = custody(['verify-blob', artifact, '--bundle', bundle, '--key', join(dir.path, 'release.pub')]);
      assert.equal(wrong.status, 1);
      assert.match(assertOneLineError(wrong), /KEY_UNKNOWN|not a trusted key/);
    });
  }

  it('manages keys: create, list, revoke (then published)', () => {
    const env = { CUSTODY_KEY_PASSPHRASE: 'p' };
    const keyDir = join(dir.path, 'lifecycle');
    assert.equal(custody(['signer', 'key', 'create', 'a', '--type', 'ecdsa-p384', '--dir', keyDir], { env }).status, 0);
    const dup = custody(['signer', 'key', 'create', 'a', '--dir', keyDir], { env });
    assert.equal(dup.status, 2);
    const rot = custody(['signer', 'key', 'rotate', 'a', '--to', 'b', '--dir', keyDir, '--json'], { env });
    assert.equal(rot.status, 0, rot.stderr);
    const list = JSON.parse(custody(['signer', 'key', 'list', '--dir', keyDir, '--json'], { env }).stdout) as { keys: { name: string; type: string; revokedAt?: string }[] };
    assert.deepEqual(
      list.keys.map((k) => [k.name, k.type, k.revokedAt !== undefined]),
      [
        ['a', 'ecdsa-p384', true],
        ['b', 'ecdsa-p384', false],
      ],
    );
    const noPass = custody(['signer', 'key', 'list', '--dir', keyDir], { env: { CUSTODY_KEY_PASSPHRASE: '' } });
    assert.equal(noPass.status, 2);
  });
});
