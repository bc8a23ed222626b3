// The attesting commands sign keyless too (issue 13, "every step keyless"): `source verify
// --attest --keyless`, `run --provenance --keyless`, `scan vulns --attest --keyless` and `verify
// --vsa-keyless` each write a Sigstore bundle v0.3 (DSSE, certificate for the step's identity, log
// entry, RFC 3161 time-stamp) that @sigstore/verify accepts for that identity and refuses for
// another (UNTRUSTED_SIGNER_ERROR), and that `custody verify --policy --trusted-root` counts only
// for the functionary naming that identity (otherwise ATTESTATION_MISSING).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { PolicyError as SigstorePolicyError, Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { CUSTODY_BIN, assertOneLineError, tempDir, type CliResult } from '../support/cli.ts';
import { haveComponents } from '../support/components.ts';
import { Repo, policyYaml, sshKey } from '../source/git-fixture.ts';
import { startCaHarness, type CaHarness } from './ca-harness.ts';

/** The CLI, asynchronously: the in-process server must keep answering meanwhile. */
function run(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CUSTODY_BIN, ...args], { env: { ...process.env, CUSTODY_IDENTITY_TOKEN: '', ...env }, encoding: 'utf8', ...(cwd === undefined ? {} : { cwd }) }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const VULNS = 'https://in-toto.io/attestation/vulns/v0.1';
const VSA = 'https://slsa.dev/verification_summary/v1';

interface Bundle {
  mediaType: string;
  dsseEnvelope: { payload: string };
  verificationMaterial: { certificate?: unknown; publicKey?: unknown; tlogEntries: unknown[]; timestampVerificationData: { rfc3161Timestamps: unknown[] } };
}

describe('keyless producers: source VSA, build link and provenance, vulnerability scan, verification VSA', () => {
  let h: CaHarness;
  let dir: ReturnType<typeof tempDir>;
  let root: unknown;
  let env: NodeJS.ProcessEnv;
  const p = (...parts: string[]) => join(dir.path, ...parts);
  const subjectFor = (step: string): RegExp => new RegExp(`/steps/${step}$`);

  before(async () => {
    h = await startCaHarness();
    dir = tempDir();
    root = await (await fetch(`${h.url}/v1/ca/trusted-root`)).json();
    writeFileSync(p('root.json'), JSON.stringify(root));
    env = { CUSTODY_SERVER: h.url, CUSTODY_TOKEN: h.tokens.attester, CUSTODY_RUN_ID: 'run-42' };
    mkdirSync(p('att'));
    mkdirSync(p('work', 'src'), { recursive: true });
    writeFileSync(p('work', 'src', 'app.txt'), 'hello\n');
  });
  after(async () => {
    await h.stop();
    dir[Symbol.dispose]();
  });

  /** @sigstore/verify with custody's trusted root: accepts the step's identity, refuses another. */
  function sigstoreVerifies(file: string, step: string): Bundle {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(bundle.verificationMaterial.certificate !== undefined && bundle.verificationMaterial.publicKey === undefined, 'a certificate, not a key');
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
    assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)), { ctlogThreshold: 0 });
    const signer = verifier.verify(toSignedEntity(bundleFromJSON(bundle)), { subjectAlternativeName: `^.*/steps/${step}$`, extensions: { issuer: h.issuer } });
    assert.match(signer.identity?.subjectAlternativeName ?? '', subjectFor(step));
    assert.throws(
      () => verifier.verify(toSignedEntity(bundleFromJSON(bundle)), { subjectAlternativeName: '^.*/steps/someone-else$', extensions: { issuer: h.issuer } }),
      (e: unknown) => e instanceof SigstorePolicyError && e.code === 'UNTRUSTED_SIGNER_ERROR',
    );
    return bundle;
  }

  const statementOf = (b: Bundle): { subject: { name?: string; digest: Record<string, string> }[]; predicateType: string; predicate: Record<string, unknown> } =>
    JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8')) as ReturnType<typeof statementOf>;

  it('source verify --attest --keyless: the source VSA for the commit, signed for the step identity', async (t) => {
    if (!haveComponents(t, 'git', 'ssh-keygen')) return;
    const alice = sshKey(dir.path, 'alice');
    const repo = new Repo(p('repo'), [alice]);
    const commit = repo.commit(alice, { 'a.txt': 'a\n' }, 'first');
    writeFileSync(p('source.yaml'), policyYaml([alice], 'teams:\n  core: [alice]\nrefs:\n  - pattern: refs/heads/main\n    signers: [core]\n'));
    const out = p('source.vsa.sigstore');
    const r = await run(['source', 'verify', '--repo', repo.dir, '--policy', p('source.yaml'), '--ref', 'main', '--attest', out, '--keyless', '--step', 'source-verify', '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { passed: boolean; keyless: { attest: string; identity: string; issuer: string; logIndex: number } };
    assert.equal(json.passed, true);
    assert.equal(json.keyless.attest, out);
    assert.match(json.keyless.identity, subjectFor('source-verify'));
    assert.equal(json.keyless.issuer, h.issuer);
    const statement = statementOf(sigstoreVerifies(out, 'source-verify'));
    assert.equal(statement.predicateType, VSA);
    assert.equal(statement.subject[0]?.digest['gitCommit'], commit);
    // A key and --keyless exclude each other; --keyless without --attest has nothing to sign.
    const both = await run(['source', 'verify', '--repo', repo.dir, '--policy', p('source.yaml'), '--ref', 'main', '--attest', out, '--keyless', '--key', alice.keyFile], env);
    assert.equal(both.status, 2);
    assert.match(assertOneLineError(both), /\[USAGE\]$/);
    const nothing = await run(['source', 'verify', '--repo', repo.dir, '--policy', p('source.yaml'), '--ref', 'main', '--keyless'], env);
    assert.equal(nothing.status, 2);
    assert.match(assertOneLineError(nothing), /give --attest FILE \[USAGE\]$/);
  });

  it('run --provenance --keyless (unsandboxed) and scan vulns --attest --keyless; verify --policy counts them for their identities only', async () => {
    const b = await run(
      ['run', '-n', 'build', '--dsse', '--keyless', '--provenance', '--no-hermetic', '-m', 'src', '-p', 'out', '-d', p('att'), '--json', '--', 'sh', '-c', 'mkdir -p out && cp src/app.txt out/app.txt'],
      env,
      p('work'),
    );
    assert.equal(b.status, 0, b.stderr);
    const built = JSON.parse(b.stdout) as { link: string; provenance: string; identity: string; format: string; hermetic: boolean; keyid?: string };
    assert.deepEqual([built.link, built.provenance, built.format, built.hermetic, built.keyid], [p('att', 'build.keyless.sigstore'), p('att', 'build.keyless.provenance.sigstore'), 'sigstore-dsse', false, undefined]);
    assert.match(built.identity, subjectFor('build'));
    const provenance = statementOf(sigstoreVerifies(built.provenance, 'build'));
    assert.equal(provenance.predicateType, PROVENANCE);
    assert.deepEqual(provenance.subject.map((s) => s.name), ['out/app.txt']);
    assert.equal(statementOf(sigstoreVerifies(built.link, 'build')).predicateType, 'https://in-toto.io/attestation/link/v0.3');

    // The scan: an empty SBOM against the example advisories, attested for the artifact.
    const db = await run(['vuln', 'db', 'import', join(import.meta.dirname, '..', '..', 'examples', 'supply-chain', 'advisories'), '--db', p('osv.sqlite'), '--json']);
    assert.equal(db.status, 0, db.stderr);
    writeFileSync(p('sbom.cdx.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }));
    const artifact = p('work', 'out', 'app.txt');
    const s = await run(['scan', 'vulns', '--sbom', p('sbom.cdx.json'), '--db', p('osv.sqlite'), '--attest', '--keyless', '--step', 'vuln-scan', '--subject', artifact, '--out', p('att', 'vulns.sigstore'), '--json'], env);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(statementOf(sigstoreVerifies(p('att', 'vulns.sigstore'), 'vuln-scan')).predicateType, VULNS);
    const scanBoth = await run(['scan', 'vulns', '--sbom', p('sbom.cdx.json'), '--db', p('osv.sqlite'), '--attest', '--keyless', '--key', p('x.key')], env);
    assert.match(assertOneLineError(scanBoth), /\[USAGE\]$/);
    const scanNoAttest = await run(['scan', 'vulns', '--sbom', p('sbom.cdx.json'), '--db', p('osv.sqlite'), '--keyless'], env);
    assert.match(assertOneLineError(scanNoAttest), /add --attest \[USAGE\]$/);

    // A policy naming the build and scan identities passes, and writes a keyless VSA for the verifier's step.
    const policy = (build: string, scan: string): string =>
      JSON.stringify({
        _type: 'https://custody.dev/policy/v1',
        name: 'keyless-producers',
        expires: '2099-01-01T00:00:00Z',
        functionaries: { builder: { keyless: { issuer: h.issuer, subject: `/.*\\/steps\\/${build}/` } }, scanner: { keyless: { issuer: h.issuer, subject: `/.*\\/steps\\/${scan}/` } } },
        requirements: [
          { name: 'build', predicateTypes: [PROVENANCE], functionaries: ['builder'] },
          { name: 'scan', predicateTypes: [VULNS], functionaries: ['scanner'] },
        ],
      });
    writeFileSync(p('release.json'), policy('build', 'vuln-scan'));
    const verify = ['verify', '--allow-unsigned-policy', '--subject', artifact, '--attestations', p('att'), '--trusted-root', p('root.json'), '--json'];
    const v = await run([...verify, '--policy', p('release.json'), '--vsa-keyless', '--step', 'verify', '--vsa-out', p('release.vsa.sigstore'), '--verifier-id', 'https://ci.example/check'], env);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const report = JSON.parse(v.stdout) as { passed: boolean; vsa: { out: string; identity: string; issuer: string; logIndex: number } };
    assert.equal(report.passed, true);
    assert.equal(report.vsa.out, p('release.vsa.sigstore'));
    assert.match(report.vsa.identity, subjectFor('verify'));
    const vsa = statementOf(sigstoreVerifies(p('release.vsa.sigstore'), 'verify'));
    assert.deepEqual([vsa.predicateType, vsa.predicate['verificationResult'], (vsa.predicate['verifier'] as { id: string }).id], [VSA, 'PASSED', 'https://ci.example/check']);

    // The wrong workload identity: the provenance signed for `build` does not count for a builder that must be `vuln-scan`.
    writeFileSync(p('wrong.json'), policy('vuln-scan', 'vuln-scan'));
    const wrong = await run([...verify, '--policy', p('wrong.json')], env);
    assert.equal(wrong.status, 1, wrong.stdout + wrong.stderr);
    const issues = (JSON.parse(wrong.stdout) as { issues: { code: string; step?: string; reason?: string; severity: string }[] }).issues.filter((i) => i.severity === 'error');
    assert.ok(issues.some((i) => i.code === 'ATTESTATION_MISSING' && i.step === 'build' && /is not functionary 'builder'/.test(i.reason ?? '')), JSON.stringify(issues));
    assert.ok(!issues.some((i) => i.step === 'scan'), JSON.stringify(issues));

    // --vsa-keyless needs --vsa-out and excludes --vsa-key.
    const noOut = await run([...verify, '--policy', p('release.json'), '--vsa-keyless', '--step', 'verify'], env);
    assert.match(assertOneLineError(noOut), /--vsa-keyless needs --vsa-out \[USAGE\]$/);
    const both = await run([...verify, '--policy', p('release.json'), '--vsa-keyless', '--vsa-key', p('x.key'), '--vsa-out', p('x.json')], env);
    assert.match(assertOneLineError(both), /drop --vsa-key \[USAGE\]$/);
    assert.equal(existsSync(p('x.json')), false);
  });

  it('run --hermetic --keyless: the sandboxed build link and provenance are bundles too', async (t) => {
    if (!haveComponents(t, 'bwrap')) return;
    const b = await run(['run', '-n', 'package', '--dsse', '--keyless', '--provenance', '--hermetic', '-m', 'src', '-p', 'pkg', '-d', p('att-h'), '--json', '--', '/bin/sh', '-c', 'mkdir -p pkg && cp src/app.txt pkg/app.txt'], env, p('work'));
    assert.equal(b.status, 0, b.stderr);
    const built = JSON.parse(b.stdout) as { link: string; provenance: string; hermetic: boolean };
    assert.equal(built.hermetic, true);
    const provenance = statementOf(sigstoreVerifies(built.provenance, 'package'));
    assert.equal((provenance.predicate['buildDefinition'] as { externalParameters: { hermetic: boolean } }).externalParameters.hermetic, true);
    sigstoreVerifies(built.link, 'package');
  });
});
