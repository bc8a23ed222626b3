// `custody rebuilder` against a running server: a provenance is stored and queued for two
// independent rebuilds, two rebuilders (distinct tokens and keys) each claim it once, post their
// VSAs and complete it; the stored VSAs then satisfy a "2 of 2 rebuilders agree" policy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IN_TOTO_PAYLOAD_TYPE, generateKeyPair, parseEnvelope, parseJson, signEnvelope, type Envelope } from '../../src/core/index.ts';
import { runBuildStep } from '../../src/build/index.ts';
import { evaluatePolicy, parsePolicyDocument } from '../../src/policy/index.ts';
import { CUSTODY_BIN, tempDir } from '../support/cli.ts';
import { haveComponents } from '../support/components.ts';
import { startHarness, type Harness } from '../support/server-harness.ts';

const run = promisify(execFile);
const dir = tempDir('custody-rebuilder-');
let harness: Harness;
let url = '';

before(async () => {
  harness = await startHarness();
  url = await harness.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await harness.close();
  dir[Symbol.dispose]();
});

/** The CLI as a child process, without blocking this process's event loop (the server runs here). */
async function custodyAsync(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CUSTODY_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('custody rebuilder', () => {
  it('serves the queue: two rebuilders, one job each, VSAs stored, policy satisfied', async (t) => {
    if (!haveComponents(t, 'bwrap', 'git')) return;
    // A small hermetic build in a git repository.
    const repo = join(dir.path, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, 'in.txt'), 'input\n');
    const env = { ...process.env, GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' };
    for (const args of [['init', '-q'], ['add', '-A'], ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'x']]) execFileSync('git', args, { cwd: repo, env });
    const built = await runBuildStep({ name: 'build', dir: repo, materials: ['in.txt'], products: ['out'], command: ['sh', '-c', 'cp in.txt out/a.txt && echo "$SOURCE_DATE_EPOCH" > out/epoch'], env: {}, tools: [], hermetic: true, passThrough: false });
    const builder = generateKeyPair('ed25519');
    const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(built.provenance)), [builder.signer()]);
    const pushed = await harness.inject({ method: 'POST', url: '/v1/attestations', token: harness.tokens.attester, payload: envelope });
    assert.equal(pushed.statusCode, 201, pushed.body);
    const provenanceId = pushed.json<{ id: string }>().id;

    const queued = await harness.inject({ method: 'POST', url: '/v1/rebuilds', token: harness.tokens.attester, payload: { provenanceId, wanted: 2 } });
    assert.equal(queued.statusCode, 201, queued.body);
    const jobId = queued.json<{ id: number }>().id;

    const rebuilders = ['a', 'b'];
    const keys: Record<string, string> = {};
    for (const r of rebuilders) {
      const k = generateKeyPair('ed25519');
      keys[r] = k.publicKey.pem;
      writeFileSync(join(dir.path, `${r}.key`), k.toPkcs8Pem(), { mode: 0o600 });
    }
    const tokens: Record<string, string> = { a: await harness.token('attester', ['*']), b: await harness.token('attester', ['*']) };
    const rebuilder = (r: string) =>
      custodyAsync(['rebuilder', '--server', url, '--key', join(dir.path, `${r}.key`), '--once', '--json', '--verifier-id', `https://rebuild.example/${r}`], { CUSTODY_TOKEN: tokens[r]! });

    const first = await rebuilder('a');
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual((JSON.parse(first.stdout) as { jobs: { job: number; result: string }[] }).jobs.map((j) => [j.job, j.result]), [[jobId, 'PASSED']]);
    const again = await rebuilder('a');
    assert.deepEqual((JSON.parse(again.stdout) as { jobs: unknown[] }).jobs, [], 'rebuilder a does not count twice');
    const second = await rebuilder('b');
    assert.equal(second.status, 0, second.stderr);

    const status = await harness.inject({ method: 'GET', url: `/v1/rebuilds/${jobId}`, token: harness.tokens.reader });
    const job = status.json<{ state: string; claims: { result: string; vsaId: string }[] }>();
    assert.equal(job.state, 'done');
    assert.deepEqual(job.claims.map((c) => c.result), ['PASSED', 'PASSED']);

    // The stored VSAs and the provenance satisfy the policy; rebuilders are matched by key.
    const fetch = async (id: string): Promise<Envelope> => parseEnvelope(parseJson((await harness.inject({ method: 'GET', url: `/v1/attestations/${id}`, token: harness.tokens.reader })).body, id));
    const attestations = await Promise.all([provenanceId, ...job.claims.map((c) => c.vsaId)].map(async (id) => ({ envelope: await fetch(id), source: id })));
    const policy = parsePolicyDocument({
      _type: 'https://custody.dev/policy/v1',
      expires: '2030-01-01T00:00:00Z',
      functionaries: { builder: { publicKey: builder.publicKey.pem }, 'rebuilder-a': { publicKey: keys['a'] }, 'rebuilder-b': { publicKey: keys['b'] } },
      steps: [{ name: 'build', predicateTypes: ['https://slsa.dev/provenance/v1'], functionaries: ['builder'] }],
      requirements: [
        {
          name: 'rebuilds',
          predicateTypes: ['https://slsa.dev/verification_summary/v1'],
          functionaries: ['rebuilder-a', 'rebuilder-b'],
          threshold: 2,
          rules: ['predicate.verificationResult == "PASSED"'],
          aggregateRules: ['distinctSigners(attestations) >= 2'],
        },
      ],
    });
    const subject = built.provenance!.subject.find((s) => s.name === 'out/a.txt')!;
    const verdict = evaluatePolicy({ document: policy }, attestations, { allowUnsignedPolicy: true }, { artifactDigest: subject.digest!, now: new Date() });
    assert.equal(verdict.passed, true, JSON.stringify(verdict.issues));
  });

  it('refuses to queue what is not a stored provenance', async () => {
    const missing = await harness.inject({ method: 'POST', url: '/v1/rebuilds', token: harness.tokens.attester, payload: { provenanceId: '0'.repeat(64) } });
    assert.equal(missing.statusCode, 404);
    const reader = await harness.inject({ method: 'POST', url: '/v1/rebuilds', token: harness.tokens.reader, payload: { provenanceId: '0'.repeat(64) } });
    assert.equal(reader.statusCode, 403);
    const scoped = await harness.inject({ method: 'POST', url: '/v1/rebuilds/claim', token: harness.tokens.attester });
    assert.equal(scoped.statusCode, 403, 'claiming needs a token for all namespaces');
  });
});
