// custody repo / custody fetch end to end as a user runs them: keys on disk, admission by policy
// (naming the failed rule), publication, and a verified fetch over loopback HTTP.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACT_BYTES, attest, functionary, key as policyKey, signedPolicy } from '../policy/policy-kit.ts';
import { spawn } from 'node:child_process';
import { CUSTODY_BIN, assertOneLineError, custody, tempDir, type CliResult } from '../support/cli.ts';
import { key, serveDir } from './repo-kit.ts';

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const policyDoc = {
  name: 'release',
  functionaries: { builder: functionary('builder') },
  steps: [{ name: 'build', predicateTypes: [PROVENANCE], functionaries: ['builder'], rules: ['predicate.runDetails.builder.id == "https://ci.example/builder"'] }],
};
const provenance = (id: string) => ({ buildDefinition: { buildType: 'https://ci.example/v1', externalParameters: {} }, runDetails: { builder: { id } } });

/** The CLI as a child process without blocking this process (the loopback server lives here). */
function custodyAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CUSTODY_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

async function setUp(dir: string): Promise<void> {
  for (const name of ['root1', 'targets1', 'online']) writeFileSync(join(dir, `${name}.key`), key(name).toPkcs8Pem());
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(await signedPolicy(policyDoc)));
  writeFileSync(join(dir, 'owner.pub'), policyKey('owner').publicKey.pem);
  writeFileSync(join(dir, 'app.tgz'), ARTIFACT_BYTES);
  for (const [sub, id] of [['good', 'https://ci.example/builder'], ['bad', 'https://evil.example']] as const) {
    mkdirSync(join(dir, sub));
    writeFileSync(join(dir, sub, 'build.json'), JSON.stringify((await attest(['builder'], PROVENANCE, provenance(id))).envelope));
  }
}

describe('custody repo and custody fetch', () => {
  it('admits only targets whose attestations pass, publishes, and fetches with policy verification', async () => {
    using tmp = tempDir();
    const d = tmp.path;
    await setUp(d);
    const repo = join(d, 'repo');
    const k = (n: string) => join(d, n);
    let r = custody(['repo', 'init', '--dir', repo, '--root-key', k('root1.key'), '--targets-key', k('targets1.key'), '--online-key', k('online.key'), '--expires', 'timestamp=2d']);
    assert.equal(r.status, 0, r.stderr);
    const policy = ['--policy', k('policy.json'), '--policy-key', k('owner.pub')];
    r = custody(['repo', 'add', k('app.tgz'), '--as', 'apps/app.tgz', '--attestations', k('bad'), ...policy, '--dir', repo, '--sign-key', k('targets1.key')]);
    assert.equal(r.status, 1);
    assert.match(assertOneLineError(r), /build.*builder\.id/);
    r = custody(['repo', 'add', k('app.tgz'), '--as', 'apps/app.tgz', '--attestations', k('good'), ...policy, '--dir', repo, '--sign-key', k('targets1.key'), '--publish', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { attestations: string[] }).attestations, ['apps/app.tgz.att.build.json']);
    r = custody(['repo', 'status', '--dir', repo, '--json']);
    const status = JSON.parse(r.stdout) as { roles: { role: string; missing: number; pending: boolean }[] };
    assert.ok(status.roles.every((s) => s.missing === 0 && !s.pending));

    const srv = await serveDir(repo);
    try {
      const out = k('fetched.tgz');
      r = await custodyAsync(['fetch', 'apps/app.tgz', '--repo', srv.url, '--root', join(repo, 'metadata', '1.root.json'), '--out', out, ...policy]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(out, 'utf8'), ARTIFACT_BYTES);
      // A policy the evidence fails: refused, nothing written.
      writeFileSync(k('strict.json'), JSON.stringify(await signedPolicy({ ...policyDoc, steps: [{ ...policyDoc.steps[0], rules: ['predicate.runDetails.builder.id == "https://other"'] }] })));
      const refused = k('refused.tgz');
      r = await custodyAsync(['fetch', 'apps/app.tgz', '--repo', srv.url, '--root', join(repo, 'metadata', '1.root.json'), '--out', refused, '--policy', k('strict.json'), '--policy-key', k('owner.pub')]);
      assert.equal(r.status, 1);
      assert.match(assertOneLineError(r), /fails policy strict\.json: \[build \/ rule 1\] RULE_FAILED/);
      assert.equal(existsSync(refused), false);
      r = await custodyAsync(['fetch', 'apps/missing.tgz', '--repo', srv.url, '--root', join(repo, 'metadata', '1.root.json'), '--out', k('m')]);
      assert.equal(r.status, 1);
      assert.match(assertOneLineError(r), /no trusted role lists this target/);
      // Air-gapped: a local copy, judged as of a reference time after the timestamp expired.
      r = await custodyAsync(['fetch', 'apps/app.tgz', '--repo', repo, '--root', join(repo, 'metadata', '1.root.json'), '--out', k('late.tgz'), '--reference-time', new Date(Date.now() + 5 * 86400_000).toISOString()]);
      assert.equal(r.status, 1);
      assert.match(assertOneLineError(r), /expired/);
    } finally {
      await srv.close();
    }
  });
});
