// Issue 13 scope 5: the keyless trust documents through TUF. A real server (in process, on
// 127.0.0.1) with `ca:` and `tuf:` publishes trusted_root.json and signing_config.v0.2.json as
// targets of the online role delegated those paths; tuf-js fetches them from /tuf, they equal
// GET /v1/ca/trusted-root and /v1/ca/signing-config, and a keyless bundle verifies with
// @sigstore/verify under the fetched root. A restart with the same CA and log makes no new
// version; a new log key does, and a warm client sees it. Without an online role for the paths
// the server refuses to start; `keylessTrust: false` turns publishing off.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { Updater } from 'tuf-js';
import { isCustodyError } from '../../src/core/index.ts';
import { FileKeyBackend } from '../../src/keys/index.ts';
import { defaultCaConfig, initCa, keylessSignDigest, mintIdentityToken, type CaConfig } from '../../src/server/index.ts';
import { SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET } from '../../src/server/ca/tuf-publish.ts';
import { parseTufConfig } from '../../src/server/tuf-config.ts';
import { TufRepository } from '../../src/tuf/index.ts';
import { CUSTODY_BIN } from '../support/cli.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';
import { key } from '../tuf/repo-kit.ts';
import { CA_PASSPHRASE } from './ca-harness.ts';

const ISSUER = 'http://127.0.0.1:8420';
const artifact = Buffer.from('artifact distributed with a TUF-delivered trust root\n');

interface Served {
  h: Harness;
  url: string;
}

/** A TUF repository: root and targets offline; snapshot, timestamp and (when `delegate`) role sigstore online. */
async function makeRepo(dir: string, delegate: boolean): Promise<void> {
  const online = key('online');
  const repo = TufRepository.init(
    dir,
    { rootKeys: [key('root').publicKey], rootThreshold: 1, targetsKeys: [key('targets').publicKey], targetsThreshold: 1, onlineKeys: [online.publicKey] },
    [key('root').signer(), key('targets').signer(), online.signer()],
  );
  if (delegate) repo.delegate({ role: 'sigstore', paths: [TRUSTED_ROOT_TARGET, SIGNING_CONFIG_TARGET], keys: [online.publicKey], threshold: 1 });
  await repo.save();
  await repo.publish();
}

async function serve(ca: CaConfig, tuf: Record<string, unknown>, logKeyFile?: string): Promise<Served> {
  const h = await startHarness({
    configure: (c) => {
      c.ca = ca;
      c.tuf = parseTufConfig(tuf, (p) => p)!;
      if (logKeyFile !== undefined) c.tlog.keyFile = logKeyFile;
    },
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const address = h.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { h, url: `http://127.0.0.1:${port}` };
}

/** tuf-js's Updater against <url>/tuf, trusting 1.root.json; returns the target's bytes. */
async function tufFetch(url: string, metadataDir: string, root: string, target: string): Promise<Buffer> {
  mkdirSync(metadataDir, { recursive: true });
  try {
    readFileSync(join(metadataDir, 'root.json'));
  } catch {
    cpSync(root, join(metadataDir, 'root.json'));
  }
  const targetDir = join(metadataDir, 'targets');
  mkdirSync(targetDir, { recursive: true });
  const updater = new Updater({ metadataDir, metadataBaseUrl: `${url}/tuf/metadata`, targetBaseUrl: `${url}/tuf/targets`, targetDir, config: { fetchRetries: 0 } });
  await updater.refresh();
  const info = await updater.getTargetInfo(target);
  assert.ok(info !== undefined, `${target} is a trusted target`);
  return readFileSync(await updater.downloadTarget(info, join(targetDir, `${createHash('sha256').update(target).digest('hex').slice(0, 8)}-${target}`)));
}

/** The CLI as a child process, asynchronously (the server answering it runs in this process). */
const custody = (args: string[]): Promise<{ status: number; stderr: string }> =>
  new Promise((done) => {
    execFile(process.execPath, [CUSTODY_BIN, ...args], { encoding: 'utf8' }, (error, _stdout, stderr) => {
      done({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr });
    });
  });

const getJson = async (url: string): Promise<unknown> => (await fetch(url)).json();
const timestampVersion = (dir: string): number => (JSON.parse(readFileSync(join(dir, 'metadata', 'timestamp.json'), 'utf8')) as { signed: { version: number } }).signed.version;

describe('keyless trust documents published through TUF', () => {
  let work: string;
  let ca: CaConfig;
  let repoDir: string;
  let tuf: Record<string, unknown>;
  let served: Served;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'custody-trust-tuf-'));
    ca = defaultCaConfig(work);
    ca.enabled = true;
    ca.dir = join(work, 'ca');
    ca.backend = { kind: 'file', dir: join(work, 'ca', 'keys'), passphraseEnv: 'CUSTODY_CA_KEY_PASSPHRASE' };
    process.env['CUSTODY_CA_KEY_PASSPHRASE'] = CA_PASSPHRASE;
    const backend = new FileKeyBackend({ dir: ca.backend.dir, passphrase: CA_PASSPHRASE, scrypt: { N: 1024, r: 8, p: 1 } });
    await initCa({ config: ca, backend, organization: 'custody-test', rootKeyOut: join(work, 'root.key'), rootPassphrase: 'root pass', now: new Date() });
    await backend.close();
    ca.identity.issuer = ISSUER;
    repoDir = join(work, 'tuf');
    await makeRepo(repoDir, true);
    writeFileSync(join(work, 'online.key'), key('online').toPkcs8Pem());
    tuf = { dir: repoDir, onlineKeys: [{ file: join(work, 'online.key') }] };
    served = await serve(ca, tuf);
  });
  after(async () => {
    await served.h.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('tuf-js fetches trusted_root.json and signing_config.v0.2.json from /tuf: the documents the CA serves, listed by the online role', async () => {
    const client = join(work, 'client');
    const root = join(repoDir, 'metadata', '1.root.json');
    const trustedRoot = JSON.parse((await tufFetch(served.url, client, root, TRUSTED_ROOT_TARGET)).toString('utf8')) as unknown;
    assert.deepEqual(trustedRoot, await getJson(`${served.url}/v1/ca/trusted-root`));
    const signingConfig = JSON.parse((await tufFetch(served.url, client, root, SIGNING_CONFIG_TARGET)).toString('utf8')) as unknown;
    assert.deepEqual(signingConfig, await getJson(`${served.url}/v1/ca/signing-config`));
    assert.equal(TufRepository.open(repoDir).target(TRUSTED_ROOT_TARGET)?.role, 'sigstore');
  });

  it('a keyless bundle verifies with @sigstore/verify under the TUF-fetched trusted root; another subject does not', async () => {
    const trustedRoot = JSON.parse((await tufFetch(served.url, join(work, 'client2'), join(repoDir, 'metadata', '1.root.json'), TRUSTED_ROOT_TARGET)).toString('utf8')) as unknown;
    const minted = await mintIdentityToken(served.url, served.h.tokens.signer, { step: 'release', ttlSeconds: 600, run: 'run-7' });
    const signed = await keylessSignDigest(served.url, minted.token, createHash('sha256').update(artifact).digest());
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)), { ctlogThreshold: 0 });
    const entity = toSignedEntity(bundleFromJSON(signed.bundle), artifact);
    const signer = verifier.verify(entity, { subjectAlternativeName: signed.identity, extensions: { issuer: ISSUER } });
    assert.equal(signer.identity?.subjectAlternativeName, signed.identity);
    assert.throws(() => verifier.verify(entity, { subjectAlternativeName: signed.identity.replace('/steps/release', '/steps/deploy'), extensions: { issuer: ISSUER } }), (e: unknown) => (e as { code?: string }).code === 'UNTRUSTED_SIGNER_ERROR');
  });

  it('custody fetch trusted_root.json writes the same document', async () => {
    const out = join(work, 'fetched', 'custody_root.json');
    const r = await custody(['fetch', TRUSTED_ROOT_TARGET, '--repo', `${served.url}/tuf`, '--root', join(repoDir, 'metadata', '1.root.json'), '--metadata-dir', join(work, 'cli-meta'), '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), await getJson(`${served.url}/v1/ca/trusted-root`));
  });

  it('a restart with the same CA and log publishes nothing new; a new log key is published and seen by a warm client', async () => {
    const logKey = join(work, 'log-key');
    writeFileSync(logKey, readFileSync(join(served.h.config.dataDir, 'log-key')));
    const before = timestampVersion(repoDir);
    const sigstoreVersion = TufRepository.open(repoDir).status('sigstore').version;
    await served.h.close();
    served = await serve(ca, tuf, logKey);
    assert.equal(timestampVersion(repoDir), before, 'same documents: no new snapshot or timestamp');
    const client = join(work, 'client');
    const root = join(repoDir, 'metadata', '1.root.json');
    assert.deepEqual(JSON.parse((await tufFetch(served.url, client, root, TRUSTED_ROOT_TARGET)).toString('utf8')), await getJson(`${served.url}/v1/ca/trusted-root`));
    await served.h.close();
    served = await serve(ca, tuf); // a fresh data directory: a new log key, a new trusted root
    assert.equal(TufRepository.open(repoDir).status('sigstore').version, sigstoreVersion + 1);
    const fresh = JSON.parse((await tufFetch(served.url, client, root, TRUSTED_ROOT_TARGET)).toString('utf8')) as { tlogs: unknown[] };
    assert.deepEqual(fresh, await getJson(`${served.url}/v1/ca/trusted-root`));
  });

  it('refuses to start when the paths fall to the offline targets role (INPUT_INVALID); keylessTrust: false starts without them', async () => {
    const offline = join(work, 'tuf-offline');
    await makeRepo(offline, false);
    await assert.rejects(
      serve(ca, { dir: offline, onlineKeys: [{ file: join(work, 'online.key') }] }),
      (e: unknown) => isCustodyError(e) && e.code === 'INPUT_INVALID' && /keylessTrust/.test(e.message),
    );
    assert.equal(TufRepository.open(offline).target(TRUSTED_ROOT_TARGET), undefined, 'nothing staged');
    const off = await serve(ca, { dir: offline, onlineKeys: [{ file: join(work, 'online.key') }], keylessTrust: false });
    try {
      assert.equal(TufRepository.open(offline).target(TRUSTED_ROOT_TARGET), undefined);
      assert.equal((await fetch(`${off.url}/v1/ca/trusted-root`)).status, 200);
    } finally {
      await off.h.close();
    }
  });
});

describe('tuf.keylessTrust in the server config', () => {
  it('is absent by default, a boolean when given, and anything else is INPUT_INVALID naming the field', () => {
    const base = { dir: '/r', onlineKeys: [{ file: '/k' }] };
    assert.equal(parseTufConfig(base, (p) => p)?.keylessTrust, undefined);
    assert.equal(parseTufConfig({ ...base, keylessTrust: false }, (p) => p)?.keylessTrust, false);
    assert.throws(
      () => parseTufConfig({ ...base, keylessTrust: 'no' }, (p) => p),
      (e: unknown) => isCustodyError(e) && e.code === 'INPUT_INVALID' && e.message.includes('tuf.keylessTrust'),
    );
  });
});
