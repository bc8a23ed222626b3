// The TUF attack suite: a real repository served over loopback HTTP, consumed by tuf-js through
// TufClient; each attack must be refused with a stable code (the reason is in the message).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetaFile, Metadata, MetadataKind, Snapshot, Timestamp } from '@tufjs/models';
import { digestBytes } from '../../src/core/index.ts';
import { TufClient, TufRepository, formatTufTime, parseMetadata, signMetadata, tufKeyId } from '../../src/tuf/index.ts';
import { key, makeRepo, serveDir, targetOf } from './repo-kit.ts';

interface Env {
  dir: string;
  repo: TufRepository;
  client: (options?: { metadataDir?: string }) => TufClient;
  srv: Awaited<ReturnType<typeof serveDir>>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function env(now?: () => Date): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'tuf-attack-'));
  const repo = await makeRepo(dir, now);
  repo.addSigners([key('targets1').signer()]);
  repo.addTargets([targetOf('app.txt', 'the app v1')]);
  await repo.save();
  await repo.publish();
  const srv = await serveDir(dir);
  const md = mkdtempSync(join(tmpdir(), 'tuf-client-'));
  const clients: TufClient[] = [];
  return {
    dir,
    repo,
    srv,
    client: (o = {}) => {
      const c = new TufClient({ repo: srv.url, root: join(dir, 'metadata', '1.root.json'), metadataDir: o.metadataDir ?? md });
      clients.push(c);
      return c;
    },
    [Symbol.asyncDispose]: async () => {
      clients.forEach((c) => c.close());
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(md, { recursive: true, force: true });
    },
  };
}

const file = (e: Env, name: string): Buffer => readFileSync(join(e.dir, 'metadata', name));
const serve = (e: Env, path: string, body: Buffer | string): void => {
  e.srv.override.set(path, (res) => res.writeHead(200).end(body));
};

async function refused(p: Promise<unknown>, code: string): Promise<string> {
  const err = await p.then(
    () => assert.fail(`expected ${code}`),
    (x: unknown) => x as { code?: string; message?: string },
  );
  assert.equal(err.code, code, err.message);
  return err.message ?? '';
}

/** An attacker holding the online key: a new snapshot/timestamp pair of its choosing. */
async function forgeOnline(e: Env, snapshotMeta: Record<string, number>, snapshotVersion: number, timestampVersion: number): Promise<void> {
  const expires = formatTufTime(new Date(Date.now() + 86400_000));
  const meta = Object.fromEntries(Object.entries(snapshotMeta).map(([k, v]) => [k, new MetaFile({ version: v })]));
  const snap = new Metadata(new Snapshot({ version: snapshotVersion, specVersion: '1.0.31', expires, meta }));
  await signMetadata(snap, [key('online').signer()]);
  const snapBytes = JSON.stringify(snap.toJSON());
  const ts = new Metadata(new Timestamp({ version: timestampVersion, specVersion: '1.0.31', expires, snapshotMeta: new MetaFile({ version: snapshotVersion, length: snapBytes.length, hashes: { sha256: digestBytes(snapBytes) } }) }));
  await signMetadata(ts, [key('online').signer()]);
  serve(e, `/metadata/${snapshotVersion}.snapshot.json`, snapBytes);
  serve(e, '/metadata/timestamp.json', JSON.stringify(ts.toJSON()));
}

describe('TUF attacks against tuf-js on a custody repository', () => {
  it('accepts the honest repository', async () => {
    await using e = await env();
    const f = await e.client().fetch('app.txt', e.dir);
    assert.equal(readFileSync(f.file, 'utf8'), 'the app v1');
  });

  it('refuses a rolled-back timestamp (ROLLBACK)', async () => {
    await using e = await env();
    const old = file(e, 'timestamp.json');
    await e.repo.publish();
    await e.client().refresh();
    serve(e, '/metadata/timestamp.json', old);
    assert.match(await refused(e.client().refresh(), 'ROLLBACK'), /timestamp version/);
  });

  it('refuses a timestamp pointing at an older snapshot (ROLLBACK)', async () => {
    await using e = await env();
    await e.client().refresh(); // trusts snapshot v2, timestamp v2
    await forgeOnline(e, { 'targets.json': 2 }, 1, 9);
    assert.match(await refused(e.client().refresh(), 'ROLLBACK'), /snapshot version/);
  });

  it('refuses a snapshot that rolls targets back (ROLLBACK)', async () => {
    await using e = await env();
    await e.client().refresh(); // trusts targets v2
    await forgeOnline(e, { 'targets.json': 1 }, 5, 9);
    assert.match(await refused(e.client().refresh(), 'ROLLBACK'), /targets\.json/);
  });

  it('refuses expired metadata (freeze attack, EXPIRED)', async () => {
    const past = new Date(Date.now() - 3 * 86400_000);
    await using e = await env(() => past);
    assert.match(await refused(e.client().refresh(), 'EXPIRED'), /expired/);
  });

  it('refuses mix-and-match: a targets file other than the version the snapshot names (ROLLBACK)', async () => {
    await using e = await env();
    serve(e, '/metadata/2.targets.json', file(e, '1.targets.json'));
    assert.match(await refused(e.client().refresh(), 'ROLLBACK'), /does not match snapshot/);
  });

  it('refuses a substituted target of the same length (DIGEST_MISMATCH)', async () => {
    await using e = await env();
    serve(e, `/targets/${digestBytes('the app v1')}.app.txt`, 'the app v6');
    await refused(e.client().fetch('app.txt', e.dir), 'DIGEST_MISMATCH');
  });

  it('stops endless data at the length limit (LENGTH_EXCEEDED)', async () => {
    await using e = await env();
    e.srv.override.set('/metadata/timestamp.json', (res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < 256 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 256 * 1024 * 1024 && !res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => (sent = Infinity));
      pump();
    });
    await refused(e.client().refresh(), 'LENGTH_EXCEEDED');
  });

  it('refuses a root signed below its threshold (THRESHOLD_NOT_MET)', async () => {
    await using e = await env();
    e.repo.addSigners([key('root1').signer(), key('root2').signer()]);
    e.repo.rotate({ role: 'root', add: [key('root3').publicKey], remove: [], threshold: 2 });
    await e.repo.save();
    await e.repo.publish();
    const v2 = JSON.parse(file(e, '2.root.json').toString()) as { signatures: unknown[] };
    v2.signatures = v2.signatures.slice(0, 1);
    serve(e, '/metadata/2.root.json', JSON.stringify(v2));
    assert.match(await refused(e.client().refresh(), 'THRESHOLD_NOT_MET'), /signed by 1\/2/);
  });

  it('recovers from a fast-forward attack through timestamp key rotation', async () => {
    await using e = await env();
    await forgeOnline(e, { 'targets.json': 2 }, 2, 1000); // compromised online key: timestamp v1000
    await e.client().refresh();
    e.srv.override.clear();
    await refused(e.client().refresh(), 'ROLLBACK'); // honest timestamp v2 now looks like a rollback
    // Recovery (TUF spec §5.3.11): a new root with a new timestamp/snapshot key.
    const repo = TufRepository.open(e.dir, [key('online2').signer(), key('root1').signer(), key('root2').signer()]);
    for (const role of ['timestamp', 'snapshot'] as const) repo.rotate({ role, add: [key('online2').publicKey], remove: [tufKeyId(key('online').publicKey)] });
    await repo.save();
    await repo.publish();
    const f = await e.client().fetch('app.txt', e.dir);
    assert.equal(readFileSync(f.file, 'utf8'), 'the app v1');
  });

  it('ignores targets a delegated role lists outside its paths (TARGET_MISSING)', async () => {
    await using e = await env();
    e.repo.delegate({ role: 'apps', paths: ['apps/*'], keys: [key('apps').publicKey], threshold: 1 });
    e.repo.addSigners([key('apps').signer()]);
    e.repo.addTargets([targetOf('apps/ok.txt', 'ok')], 'apps');
    await e.repo.save();
    assert.throws(() => e.repo.addTargets([targetOf('core/evil.txt', 'evil')], 'apps'), { code: 'ACCESS_DENIED' });
    // The apps key holder signs a target outside apps/* anyway.
    const staged = join(e.dir, 'staged', 'apps.json');
    const md = parseMetadata(MetadataKind.Targets, JSON.parse(readFileSync(staged, 'utf8')), 'apps');
    const json = md.toJSON() as { signed: { targets: Record<string, unknown> }; signatures: unknown[] };
    json.signed.targets['core/evil.txt'] = { length: 4, hashes: { sha256: digestBytes('evil') } };
    json.signatures = [];
    const forged = parseMetadata(MetadataKind.Targets, json, 'apps');
    await signMetadata(forged, [key('apps').signer()]);
    writeFileSync(staged, JSON.stringify(forged.toJSON()));
    await TufRepository.open(e.dir, [key('online').signer()]).publish();
    const c = e.client();
    assert.equal(readFileSync((await c.fetch('apps/ok.txt', e.dir)).file, 'utf8'), 'ok');
    assert.match(await refused(c.targetInfo('core/evil.txt'), 'TARGET_MISSING'), /no trusted role/);
  });

  it('refuses delegated metadata signed by a revoked key (THRESHOLD_NOT_MET)', async () => {
    await using e = await env();
    e.repo.delegate({ role: 'apps', paths: ['apps/*'], keys: [key('apps').publicKey], threshold: 1 });
    e.repo.addSigners([key('apps').signer()]);
    e.repo.addTargets([targetOf('apps/ok.txt', 'ok')], 'apps');
    await e.repo.save();
    await e.repo.publish();
    // Revoke the apps key: the role moves to a new key and a new version.
    const repo = TufRepository.open(e.dir, [key('online').signer(), key('targets1').signer(), key('apps2').signer()]);
    repo.delegate({ role: 'apps', paths: ['apps/*'], keys: [key('apps2').publicKey], threshold: 1 });
    await repo.save();
    await repo.publish();
    const honest = await e.client().fetch('apps/ok.txt', e.dir);
    assert.equal(readFileSync(honest.file, 'utf8'), 'ok');
    // The old key signs what the snapshot names: refused.
    const name = readdirVersion(e, 'apps');
    const forged = parseMetadata(MetadataKind.Targets, JSON.parse(file(e, name).toString()), 'apps');
    forged.signatures = {};
    await signMetadata(forged, [key('apps').signer()]);
    serve(e, `/metadata/${name}`, JSON.stringify(forged.toJSON()));
    const fresh = mkdtempSync(join(tmpdir(), 'tuf-client-'));
    try {
      assert.match(await refused(e.client({ metadataDir: fresh }).targetInfo('apps/ok.txt'), 'THRESHOLD_NOT_MET'), /apps/);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

function readdirVersion(e: Env, role: string): string {
  const snap = JSON.parse(file(e, 'timestamp.json').toString()) as { signed: { meta: Record<string, { version: number }> } };
  const v = snap.signed.meta['snapshot.json']?.version ?? 0;
  const s = JSON.parse(file(e, `${v}.snapshot.json`).toString()) as { signed: { meta: Record<string, { version: number }> } };
  return `${s.signed.meta[`${role}.json`]?.version ?? 0}.${role}.json`;
}
