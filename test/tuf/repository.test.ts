// The repository writer consumed by tuf-js: delegations, hashed bins, root and targets key
// rotation, delegation changes, offline multi-party signing, strict metadata forms.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TufClient, TufRepository, signExported, tufKeyId } from '../../src/tuf/index.ts';
import { key, makeRepo, serveDir, targetOf } from './repo-kit.ts';

async function withRepo(fn: (dir: string, repo: TufRepository, url: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tuf-repo-'));
  const srv = await serveDir(dir);
  try {
    await fn(dir, await makeRepo(dir), srv.url);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fetchText(url: string, dir: string, path: string, metadataDir?: string): Promise<string> {
  const c = new TufClient({ repo: url, root: join(dir, 'metadata', '1.root.json'), ...(metadataDir === undefined ? {} : { metadataDir }) });
  try {
    const f = await c.fetch(path, dir);
    return readFileSync(f.file, 'utf8');
  } finally {
    c.close();
  }
}

describe('TufRepository consumed by tuf-js', () => {
  it('writes strict forms: integer versions, Z times without fractions, hex signatures', async () => {
    await withRepo((dir) => {
      for (const name of readdirSync(join(dir, 'metadata'))) {
        const doc = JSON.parse(readFileSync(join(dir, 'metadata', name), 'utf8')) as { signed: { version: unknown; expires: string }; signatures: { sig: string }[] };
        assert.ok(Number.isInteger(doc.signed.version), name);
        assert.match(doc.signed.expires, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, name);
        for (const s of doc.signatures) assert.match(s.sig, /^[0-9a-f]+$/, name);
      }
      return Promise.resolve();
    });
  });

  it('serves named delegations and hashed bins (TAP 15) to tuf-js', async () => {
    await withRepo(async (dir, repo, url) => {
      repo.addSigners([key('targets1').signer()]);
      repo.delegate({ role: 'apps', paths: ['apps/*'], keys: [key('apps').publicKey], threshold: 1, terminating: true });
      repo.delegate({ role: 'bins', paths: ['*', 'pkgs/*'], keys: [key('online').publicKey], threshold: 1 });
      await repo.save();
      repo.delegateHashBins({ from: 'bins', bits: 3, keys: [key('online').publicKey], threshold: 1 });
      repo.addSigners([key('apps').signer()]);
      const roles = repo.addTargets([targetOf('apps/a.txt', 'A'), targetOf('pkgs/p.txt', 'P'), targetOf('top.txt', 'T')]);
      assert.equal(roles[0], 'apps');
      assert.match(roles[1] ?? '', /^bins-bin-[0-7]$/);
      await repo.save();
      await repo.publish();
      assert.equal(await fetchText(url, dir, 'apps/a.txt'), 'A');
      assert.equal(await fetchText(url, dir, 'pkgs/p.txt'), 'P');
      assert.equal(await fetchText(url, dir, 'top.txt'), 'T');
    });
  });

  it('refuses to publish while a role lacks signatures, then publishes after offline signing (export / sign-file / import)', async () => {
    await withRepo(async (dir, repo, url) => {
      repo.delegate({ role: 'apps', paths: ['apps/*'], keys: [key('apps').publicKey], threshold: 1 });
      await repo.save();
      await assert.rejects(repo.publish(), { code: 'THRESHOLD_NOT_MET' });
      assert.equal(repo.status('targets').missing, 1);
      // The targets key holder signs on another machine; so does the apps key holder.
      for (const [role, signer] of [['targets', 'targets1'], ['apps', 'apps']] as const) {
        const signed = await signExported(repo.exportRole(role), [key(signer).signer()]);
        assert.deepEqual(repo.importSignatures(role, signed).length, 1);
      }
      const wrong = await signExported(repo.exportRole('apps'), [key('intruder').signer()]);
      assert.throws(() => repo.importSignatures('apps', wrong), { code: 'SIGNATURE_INVALID' });
      await repo.publish();
      const again = TufRepository.open(dir, [key('online').signer(), key('apps').signer()]);
      again.addTargets([targetOf('apps/x.txt', 'X')], 'apps');
      await again.save();
      await again.publish();
      assert.equal(await fetchText(url, dir, 'apps/x.txt'), 'X');
    });
  });

  it('keeps clients working across root and targets key rotation (old and new thresholds)', async () => {
    await withRepo(async (dir, repo, url) => {
      const md = mkdtempSync(join(tmpdir(), 'tuf-md-'));
      try {
        repo.addSigners([key('targets1').signer()]);
        repo.addTargets([targetOf('a.txt', 'one')]);
        await repo.save();
        await repo.publish();
        assert.equal(await fetchText(url, dir, 'a.txt', md), 'one');
        // Root: replace root2 with root3; the new root needs 2 of the old and 2 of the new keys.
        const r = TufRepository.open(dir, [key('online').signer(), key('root1').signer(), key('root3').signer(), key('targets2').signer()]);
        r.rotate({ role: 'root', add: [key('root3').publicKey], remove: [tufKeyId(key('root2').publicKey)] });
        r.rotate({ role: 'targets', add: [key('targets2').publicKey], remove: [tufKeyId(key('targets1').publicKey)] });
        await r.save();
        await assert.rejects(r.publish(), { code: 'THRESHOLD_NOT_MET' }); // old root: 1 of 2
        r.addSigners([key('root2').signer()]);
        await r.sign('root');
        r.addTargets([targetOf('b.txt', 'two')]);
        await r.save();
        const published = await r.publish();
        assert.equal(published.rootVersion, 2);
        assert.equal(await fetchText(url, dir, 'b.txt', md), 'two'); // warm client walks 1 → 2
        assert.equal(await fetchText(url, dir, 'a.txt'), 'one'); // cold client from root v1
        const root = JSON.parse(readFileSync(join(md, 'root.json'), 'utf8')) as { signed: { version: number } };
        assert.equal(root.signed.version, 2);
      } finally {
        rmSync(md, { recursive: true, force: true });
      }
    });
  });

  it('verifies freshness as of --reference-time from a local copy (air-gapped)', async () => {
    await withRepo(async (dir) => {
      const later = new Date(Date.now() + 30 * 86400_000); // the timestamp (1 day) has expired by then
      const c = new TufClient({ repo: dir, root: join(dir, 'metadata', '1.root.json'), referenceTime: later });
      try {
        await assert.rejects(c.refresh(), { code: 'EXPIRED' });
      } finally {
        c.close();
      }
      const ok = new TufClient({ repo: dir, root: join(dir, 'metadata', '1.root.json'), referenceTime: new Date(Date.now() + 3600_000) });
      try {
        await ok.refresh();
      } finally {
        ok.close();
      }
    });
  });
});
