// Issue 9 end to end on the examples: `custody run --provenance` in a git checkout, two
// independent rebuilds that differ in working directory, sandbox path, uid and time (reprotest
// style) reaching identical digests, the non-reproducible example failing with a diffoscope report
// that names the differing bytes, and the provenance and VSAs validating against the SLSA v1
// schemas and passing custody's own policy ("2 of 2 rebuilders agree").
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { decodeBase64, digestFile, parseEnvelope, parseJson, verifyEnvelope, publicKeyFromPem, type DigestSet, type Statement } from '../../src/core/index.ts';
import { parseProvenanceV1, parseVsaV1 } from '../../src/formats/index.ts';
import { evaluatePolicy, parsePolicyDocument } from '../../src/policy/index.ts';
import { CUSTODY_BIN, custody, tempDir } from '../support/cli.ts';
import { haveComponents, which } from '../support/components.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const TYPESCRIPT = join(ROOT, 'node_modules', 'typescript');
// The checkout may live under /tmp (CI clones anywhere): name the tool paths this rebuilder accepts.
const ALLOW_TOOLS = ['--allow-tool', TYPESCRIPT, '--allow-tool', '/usr/bin'];
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const schema = (name: string): object => JSON.parse(readFileSync(join(ROOT, 'docs', 'schemas', name), 'utf8')) as object;
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const validateProvenance = ajv.compile(schema('slsa-provenance-v1.schema.json'));
const validateVsa = ajv.compile(schema('slsa-vsa-v1.schema.json'));
const validateBuildType = ajv.compile(schema('custody-build-run-v1.schema.json'));

const dir = tempDir('custody-rebuild-');
const key = (name: string): string => join(dir.path, `${name}.key`);
const pub = (name: string): string => join(dir.path, `${name}.pub`);

function statementOf(file: string): Statement {
  const envelope = parseEnvelope(parseJson(readFileSync(file, 'utf8'), file));
  return JSON.parse(Buffer.from(decodeBase64(envelope.payload, 'payload')).toString('utf8')) as Statement;
}

/** A git repository holding one example, committed at a fixed time. */
function checkout(example: string, name: string): string {
  const repo = join(dir.path, name);
  cpSync(join(ROOT, 'examples', example), repo, { recursive: true });
  const env = { ...process.env, GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' };
  for (const args of [['init', '-q'], ['add', '-A'], ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'example']]) {
    execFileSync('git', args, { cwd: repo, env });
  }
  return repo;
}

function build(repo: string): { provenance: string; status: number; stderr: string } {
  const r = custody(
    [
      'run', '--step', 'build', '--key', key('builder'), '--provenance', '--json',
      '--tool', TYPESCRIPT, '--tool', '/usr/bin/node', '--pass-env', `TSC=${join(TYPESCRIPT, 'bin', 'tsc')}`,
      '-m', 'src', '-m', 'package.json', '-m', 'package-lock.json', '-m', 'tsconfig.json', '-m', 'build.sh',
      '-p', 'dist', '-p', 'out', '-d', join(repo, '..', `${repo.split('/').pop()!}-attestations`),
      '--', 'sh', 'build.sh',
    ],
    { cwd: repo },
  );
  const out = r.status === 0 ? (JSON.parse(r.stdout) as { provenance: string }).provenance : '';
  return { provenance: out, status: r.status, stderr: r.stderr };
}

/** The CLI as a child process without blocking (two rebuilders at once). */
async function custodyAsync(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [CUSTODY_BIN, ...args], { encoding: 'utf8' });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

function components(t: Parameters<typeof haveComponents>[0]): boolean {
  return haveComponents(t, 'bwrap', 'git', 'diffoscope', 'npm') && which('/usr/bin/node') !== undefined;
}

before(() => {
  for (const name of ['builder', 'rebuilder-a', 'rebuilder-b']) custody(['key', 'generate', '--out', join(dir.path, name)]);
});

describe('custody run --provenance and custody rebuild', () => {
  let provenance = '';
  let repo = '';

  it('writes a signed SLSA provenance v1 that validates against the schemas', (t) => {
    if (!components(t)) return;
    repo = checkout('reproducible-ts', 'repro');
    const r = build(repo);
    assert.equal(r.status, 0, r.stderr);
    provenance = r.provenance;
    const envelope = parseEnvelope(parseJson(readFileSync(provenance, 'utf8'), 'provenance'));
    assert.equal(verifyEnvelope(envelope, [publicKeyFromPem(readFileSync(pub('builder'), 'utf8'))]).keyids.length, 1);
    const statement = statementOf(provenance);
    assert.ok(validateProvenance(statement), JSON.stringify(validateProvenance.errors));
    const predicate = parseProvenanceV1(statement.predicate);
    assert.ok(validateBuildType(predicate.buildDefinition), JSON.stringify(validateBuildType.errors));
    const external = predicate.buildDefinition.externalParameters as { source: { commit: string; uri: string }; hermetic: boolean; command: string[] };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    assert.equal(external.source.commit, head);
    assert.equal(external.hermetic, true);
    assert.deepEqual(external.command, ['sh', 'build.sh']);
    assert.equal(predicate.buildDefinition.internalParameters?.['sourceDateEpoch'], Date.parse('2026-01-01T00:00:00Z') / 1000);
    const deps = predicate.buildDefinition.resolvedDependencies ?? [];
    assert.ok(deps.some((d) => d.digest?.['gitCommit'] === head), 'the source commit is a resolved dependency');
    assert.ok(deps.some((d) => d.name === '/usr/bin/node' && d.digest?.['sha256'] !== undefined && typeof d.annotations?.['version'] === 'string'), 'toolchain binary with digest and version');
    assert.ok(deps.some((d) => d.name === 'src/index.ts'), 'materials');
    assert.equal(predicate.runDetails.builder.id, 'https://custody.dev/builder/hermetic/v1');
    assert.deepEqual(statement.subject.map((s) => s.name).sort(), ['dist/index.d.ts', 'dist/index.js', 'out/custody-example-reproducible-1.0.0.tgz']);
  });

  it('rebuilds to identical digests in a different directory, sandbox path, uid and time', async (t) => {
    if (!components(t) || provenance === '') return;
    // Rebuilder A: from the repository (a clean checkout of the recorded commit), default sandbox.
    // Rebuilder B: a clone elsewhere (by --git), another sandbox path and uid. They run at the
    // same time, so each also differs in time from the original build.
    const clone = join(dir.path, 'elsewhere', 'mirror');
    execFileSync('git', ['clone', '-q', repo, clone]);
    const [a, b] = await Promise.all([
      custodyAsync(['rebuild', '--provenance', provenance, ...ALLOW_TOOLS, '--source', repo, '--key', key('rebuilder-a'), '--out', join(dir.path, 'rebuild-a'), '--verifier-id', 'https://rebuild.example/a', '--json']),
      custodyAsync(['rebuild', '--provenance', provenance, ...ALLOW_TOOLS, '--git', clone, '--key', key('rebuilder-b'), '--out', join(dir.path, 'rebuild-b'), '--verifier-id', 'https://rebuild.example/b', '--uid', '4242', '--workdir', '/var/tmp/other/place', '--json']),
    ]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    const tgz = 'out/custody-example-reproducible-1.0.0.tgz';
    const [da, db, original] = await Promise.all([digestFile(join(dir.path, 'rebuild-a', 'rebuilt', tgz)), digestFile(join(dir.path, 'rebuild-b', 'rebuilt', tgz)), digestFile(join(repo, tgz))]);
    assert.deepEqual(da, original);
    assert.deepEqual(db, original);
    const internalB = parseProvenanceV1(statementOf(join(dir.path, 'rebuild-b', 'rebuild.provenance.json')).predicate).buildDefinition.internalParameters as { sandbox: { uid: number; workdir: string } };
    assert.equal(internalB.sandbox.uid, 4242);
    assert.equal(internalB.sandbox.workdir, '/var/tmp/other/place');

    // Both VSAs validate and say PASSED; together with the provenance they satisfy a policy
    // that asks for the hermetic builder and two independent rebuilders agreeing.
    const vsaFiles = ['rebuild-a', 'rebuild-b'].map((d) => join(dir.path, d, 'rebuild.vsa.json'));
    for (const f of vsaFiles) {
      const statement = statementOf(f);
      assert.ok(validateVsa(statement), JSON.stringify(validateVsa.errors));
      assert.equal(parseVsaV1(statement.predicate).verificationResult, 'PASSED');
    }
    const policy = parsePolicyDocument({
      _type: 'https://custody.dev/policy/v1',
      expires: '2030-01-01T00:00:00Z',
      functionaries: Object.fromEntries(['builder', 'rebuilder-a', 'rebuilder-b'].map((n) => [n, { publicKey: readFileSync(pub(n), 'utf8') }])),
      artifact: { producedBy: ['build'] },
      steps: [
        {
          name: 'build',
          predicateTypes: ['https://slsa.dev/provenance/v1'],
          functionaries: ['builder'],
          rules: ['predicate.runDetails.builder.id == "https://custody.dev/builder/hermetic/v1"', 'predicate.buildDefinition.externalParameters.hermetic'],
        },
      ],
      requirements: [
        {
          name: 'rebuilds',
          predicateTypes: ['https://slsa.dev/verification_summary/v1'],
          functionaries: ['rebuilder-a', 'rebuilder-b'],
          threshold: 2,
          rules: ['predicate.verificationResult == "PASSED"'],
          aggregateRules: ['distinctSigners(attestations) >= 2 && countDistinct(attestations.map(a, a.predicate.verifier.id)) >= 2'],
        },
      ],
    });
    const attestations = [provenance, ...vsaFiles].map((f) => ({ envelope: parseEnvelope(parseJson(readFileSync(f, 'utf8'), f)), source: f }));
    const artifactDigest: DigestSet = await digestFile(join(repo, tgz), ['sha256', 'sha512']);
    const verdict = evaluatePolicy({ document: policy }, attestations, { allowUnsignedPolicy: true }, { artifactDigest, now: new Date() });
    assert.equal(verdict.passed, true, JSON.stringify(verdict.issues));
    // One rebuilder alone does not meet "2 of 2".
    const one = evaluatePolicy({ document: policy }, attestations.slice(0, 2), { allowUnsignedPolicy: true }, { artifactDigest, now: new Date() });
    assert.equal(one.passed, false);
    assert.ok(one.issues.some((i) => i.code === 'THRESHOLD_NOT_MET'));
  });

  it('fails to rebuild the non-reproducible example and names the differing bytes', (t) => {
    if (!components(t)) return;
    const other = checkout('nonreproducible-ts', 'nonrepro');
    const r = build(other);
    assert.equal(r.status, 0, r.stderr);
    const out = join(dir.path, 'rebuild-n');
    const rb = custody(['rebuild', '--provenance', r.provenance, ...ALLOW_TOOLS, '--source', other, '--key', key('rebuilder-a'), '--out', out, '--json']);
    assert.equal(rb.status, 1, rb.stderr);
    assert.match(rb.stderr, /\[DIGEST_MISMATCH\]/);
    const report = JSON.parse(rb.stdout) as { result: string; subjects: { name: string; matches: boolean; report?: { text: string } }[] };
    assert.equal(report.result, 'FAILED');
    const tgz = report.subjects.find((s) => s.name.endsWith('.tgz'));
    assert.equal(tgz?.matches, false);
    assert.equal(report.subjects.find((s) => s.name === 'dist/index.js')?.matches, true, 'the reproducible parts still agree');
    const text = readFileSync(tgz.report!.text, 'utf8');
    assert.match(text, /package\/dist\/build-info\.js/);
    assert.match(text, /^│ │ │ -export const builtAt = '/m);
    assert.match(text, /^│ │ │ \+export const builtAt = '/m);
    assert.ok(readdirSync(out).some((f) => f.endsWith('.diffoscope.html')));
    // The VSA records the failure; the rebuild provenance carries the reports as byproducts.
    const vsa = statementOf(join(out, 'rebuild.vsa.json'));
    assert.ok(validateVsa(vsa), JSON.stringify(validateVsa.errors));
    const predicate = parseVsaV1(vsa.predicate);
    assert.equal(predicate.verificationResult, 'FAILED');
    assert.deepEqual(predicate.verifiedLevels, ['FAILED']);
    const rebuildProvenance = statementOf(join(out, 'rebuild.provenance.json'));
    assert.ok(validateProvenance(rebuildProvenance), JSON.stringify(validateProvenance.errors));
    const byproducts = parseProvenanceV1(rebuildProvenance.predicate).runDetails.byproducts ?? [];
    const textReport = byproducts.find((b) => b.name?.endsWith('.tgz.diffoscope.txt'));
    assert.equal(Buffer.from(textReport?.content ?? '', 'base64').toString('utf8'), text);
    assert.ok(byproducts.some((b) => b.mediaType === 'text/html'));
  });
});
