// evaluatePolicy end to end: every rule kind, every failure code, all failures listed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseVsaV1 } from '../../src/formats/index.ts';
import { evaluatePolicy, makeVsa, type AttestationInput, type Issue, type PolicyInput, type Verdict } from '../../src/policy/index.ts';
import { ARTIFACT, NOW, attest, functionary, key, policy, sha, signedPolicy, tamper } from './policy-kit.ts';

const PROVENANCE = 'https://slsa.dev/provenance/v1';
const LINK = 'https://in-toto.io/attestation/link/v0.3';
const VULNS = 'https://in-toto.io/attestation/vulns/v0.1';
const VSA = 'https://slsa.dev/verification_summary/v1';

function provenance(builderId = 'https://ci.example/builder', deps: unknown[] = []): Record<string, unknown> {
  return {
    buildDefinition: { buildType: 'https://ci.example/build/v1', externalParameters: { ref: 'main' }, resolvedDependencies: deps },
    runDetails: { builder: { id: builderId }, metadata: { startedOn: '2026-05-31T10:00:00Z', finishedOn: '2026-05-31T10:05:00Z' } },
  };
}

function scan(severities: string[]): Record<string, unknown> {
  return {
    scanner: { uri: 'pkg:github/aquasecurity/trivy', result: severities.map((s, i) => ({ id: `CVE-2026-${i}`, severity: [{ method: 'nvd', score: s }] })) },
    metadata: { scanStartedOn: '2026-05-31T11:00:00Z', scanFinishedOn: '2026-05-31T11:01:00Z' },
  };
}

const basePolicy = {
  functionaries: { builder: functionary('builder'), scanner: functionary('scanner'), alice: functionary('alice'), bob: functionary('bob') },
  artifact: { producedBy: ['build'], subjectName: '*.tgz' },
  steps: [
    {
      name: 'build',
      predicateTypes: [PROVENANCE],
      functionaries: ['builder'],
      rules: [
        { name: 'our builder', expr: 'predicate.runDetails.builder.id == "https://ci.example/builder"' },
        { name: 'recent', expr: 'now - timestamp(predicate.runDetails.metadata.finishedOn) < duration("720h")' },
      ],
    },
  ],
  requirements: [
    {
      name: 'scan',
      predicateTypes: [VULNS],
      functionaries: ['scanner'],
      rules: [{ name: 'no critical', expr: 'predicate.scanner.result.all(r, r.severity.all(s, s.score != "critical"))' }],
    },
  ],
};

async function goodEvidence(): Promise<AttestationInput[]> {
  return [await attest(['builder'], PROVENANCE, provenance(), undefined, 'build.json'), await attest(['scanner'], VULNS, scan(['low']), undefined, 'scan.json')];
}

function run(p: PolicyInput, atts: readonly AttestationInput[], now = NOW): Verdict {
  return evaluatePolicy(p, atts, { allowUnsignedPolicy: true }, { artifactDigest: ARTIFACT, now });
}

function codes(v: Verdict, severity: Issue['severity'] = 'error'): string[] {
  return v.issues.filter((i) => i.severity === severity).map((i) => i.code).sort();
}

describe('evaluatePolicy', () => {
  describe('when all evidence satisfies the policy', () => {
    it('passes with one report per step and requirement and no issues', async () => {
      const v = run({ document: policy(basePolicy) }, await goodEvidence());
      assert.deepEqual(v.issues, []);
      assert.equal(v.passed, true);
      assert.deepEqual(v.steps.map((s) => [s.name, s.passed, s.attestations]), [['build', true, ['build.json']], ['scan', true, ['scan.json']]]);
      assert.deepEqual(v.attestations.map((a) => a.usedBy), [['build'], ['scan']]);
    });
  });

  describe('when CEL rules fail', () => {
    it('reports a false rule as RULE_FAILED with the step, rule and attestation', async () => {
      const atts = [await attest(['builder'], PROVENANCE, provenance('https://evil.example'), undefined, 'build.json'), (await goodEvidence())[1]!];
      const v = run({ document: policy(basePolicy) }, atts);
      assert.equal(v.passed, false);
      const issue = v.issues.find((i) => i.code === 'RULE_FAILED');
      assert.deepEqual([issue?.step, issue?.rule, issue?.attestation], ['build', 'our builder', 'build.json']);
      // The build attestation does not count, so nothing counted names the artifact either.
      assert.deepEqual(codes(v), ['ARTIFACT_NOT_SUBJECT', 'RULE_FAILED', 'THRESHOLD_NOT_MET']);
    });

    it('reports a rule that raises an error (missing field) as RULE_ERROR', async () => {
      const p = policy({ ...basePolicy, steps: [{ ...basePolicy.steps[0], rules: ['predicate.runDetails.noSuchField == "x"'] }] });
      const v = run({ document: p }, await goodEvidence());
      assert.deepEqual(codes(v), ['ARTIFACT_NOT_SUBJECT', 'RULE_ERROR', 'THRESHOLD_NOT_MET']);
    });

    it('treats a rule that yields a non-bool as failed', async () => {
      const p = policy({ ...basePolicy, steps: [{ ...basePolicy.steps[0], rules: ['predicate.runDetails.builder.id'] }] });
      const v = run({ document: p }, await goodEvidence());
      assert.ok(codes(v).includes('RULE_FAILED'));
      assert.match(v.steps[0]!.rules[0]!.reason ?? '', /string/);
    });

    it('fails a rule whose evaluation exceeds the cost limit, even if || would absorb the error', async () => {
      const big = Array.from({ length: 200 }, (_, i) => ({ id: `CVE-${i}`, severity: [{ method: 'nvd', score: 'low' }] }));
      const p = policy({
        ...basePolicy,
        requirements: [{ ...basePolicy.requirements[0], rules: ['true || predicate.scanner.result.all(a, predicate.scanner.result.all(b, predicate.scanner.result.all(c, true)))'] }],
      });
      const atts = [(await goodEvidence())[0]!, await attest(['scanner'], VULNS, { ...scan([]), scanner: { uri: 'x', result: big } }, undefined, 'scan.json')];
      const cheap = run({ document: p }, atts);
      // `true || …` short-circuits: nothing is evaluated, nothing exceeded.
      assert.equal(cheap.passed, true);
      const p2 = policy({
        ...basePolicy,
        requirements: [{ ...basePolicy.requirements[0], rules: ['predicate.scanner.result.all(a, predicate.scanner.result.all(b, predicate.scanner.result.all(c, true))) || true'] }],
      });
      const v = evaluatePolicy({ document: p2 }, atts, { allowUnsignedPolicy: true }, { artifactDigest: ARTIFACT, now: NOW, limits: { maxCost: 10_000 } });
      assert.deepEqual(codes(v), ['RULE_COST_EXCEEDED', 'THRESHOLD_NOT_MET']);
    });
  });

  describe('when attestations are missing or extra', () => {
    it('reports a missing requirement as ATTESTATION_MISSING', async () => {
      const v = run({ document: policy(basePolicy) }, [(await goodEvidence())[0]!]);
      assert.deepEqual(codes(v), ['ATTESTATION_MISSING']);
      assert.equal(v.issues[0]?.step, 'scan');
    });

    it('warns about extra attestations by default and refuses them with extraAttestations: reject', async () => {
      const extra = await attest(['alice'], 'https://example.com/custom/v1', { anything: 1 }, undefined, 'extra.json');
      const atts = [...(await goodEvidence()), extra];
      const lenient = run({ document: policy(basePolicy) }, atts);
      assert.equal(lenient.passed, true);
      assert.deepEqual(codes(lenient, 'warning'), ['EXTRA_ATTESTATION']);
      const strict = run({ document: policy({ ...basePolicy, extraAttestations: 'reject' }) }, atts);
      assert.deepEqual(codes(strict), ['EXTRA_ATTESTATION']);
      assert.equal(strict.issues[0]?.attestation, 'extra.json');
    });
  });

  describe('when signers are not authorized', () => {
    it('does not count an attestation by a functionary of another step', async () => {
      const atts = [await attest(['alice'], PROVENANCE, provenance(), undefined, 'build.json'), (await goodEvidence())[1]!];
      const v = run({ document: policy(basePolicy) }, atts);
      assert.deepEqual(codes(v), ['ARTIFACT_NOT_SUBJECT', 'ATTESTATION_MISSING']);
      assert.deepEqual(codes(v, 'warning'), ['EXTRA_ATTESTATION', 'UNAUTHORIZED_FUNCTIONARY']);
    });

    it('ignores an attestation by a key the policy does not know (warning KEY_UNKNOWN)', async () => {
      const atts = [await attest(['mallory'], PROVENANCE, provenance(), undefined, 'build.json'), (await goodEvidence())[1]!];
      const v = run({ document: policy(basePolicy) }, atts);
      assert.deepEqual(codes(v), ['ARTIFACT_NOT_SUBJECT', 'ATTESTATION_MISSING']);
      assert.deepEqual(codes(v, 'warning'), ['KEY_UNKNOWN']);
    });
  });

  describe('thresholds', () => {
    const reviewPolicy = {
      functionaries: { alice: functionary('alice'), bob: functionary('bob'), builder: functionary('builder') },
      steps: [{ name: 'build', predicateTypes: [PROVENANCE], functionaries: ['builder'] }],
      requirements: [{ name: 'review', predicateTypes: ['https://custody.dev/review/v1'], functionaries: ['alice', 'bob'], threshold: 2, rules: ['predicate.result == "approved"'] }],
    };
    const review = (who: string) => ({ commit: 'a'.repeat(40), tree: 'b'.repeat(40), result: 'approved', timeReviewed: '2026-05-30T09:00:00Z', comment: who });

    it('counts distinct keys: two attestations by one key do not make two', async () => {
      const atts = [await attest(['builder'], PROVENANCE, provenance()), await attest(['alice'], 'https://custody.dev/review/v1', review('alice')), await attest(['alice'], 'https://custody.dev/review/v1', review('alice'))];
      const v = run({ document: policy(reviewPolicy) }, atts);
      assert.deepEqual(codes(v), ['THRESHOLD_NOT_MET']);
    });

    it('counts one envelope signed twice by the same key once', async () => {
      const atts = [await attest(['builder'], PROVENANCE, provenance()), await attest(['alice', 'alice'], 'https://custody.dev/review/v1', review('alice'))];
      assert.deepEqual(codes(run({ document: policy(reviewPolicy) }, atts)), ['THRESHOLD_NOT_MET']);
    });

    it('passes with two distinct keys, in one envelope or in two', async () => {
      const two = [await attest(['builder'], PROVENANCE, provenance()), await attest(['alice'], 'https://custody.dev/review/v1', review('alice')), await attest(['bob'], 'https://custody.dev/review/v1', review('bob'))];
      assert.equal(run({ document: policy(reviewPolicy) }, two).passed, true);
      const one = [await attest(['builder'], PROVENANCE, provenance()), await attest(['alice', 'bob'], 'https://custody.dev/review/v1', review('both'))];
      const v = run({ document: policy(reviewPolicy) }, one);
      assert.equal(v.passed, true);
      assert.equal(v.steps[1]?.signers.length, 2);
    });
  });

  describe('policy integrity', () => {
    it('reports an expired policy and still lists the other failures', async () => {
      const v = run({ document: policy({ ...basePolicy, expires: '2026-01-01T00:00:00Z' }) }, [(await goodEvidence())[0]!]);
      assert.deepEqual(codes(v), ['ATTESTATION_MISSING', 'POLICY_EXPIRED']);
    });

    it('verifies a signed policy against its owners, with a threshold', async () => {
      const envelope = await signedPolicy(basePolicy, ['owner1', 'owner2']);
      const owners = { keys: [key('owner1').publicKey, key('owner2').publicKey], threshold: 2 };
      const ok = evaluatePolicy({ envelope }, await goodEvidence(), { owners }, { artifactDigest: ARTIFACT, now: NOW });
      assert.equal(ok.passed, true);
      assert.ok(ok.policy.digest?.['sha256'] !== undefined);
      assert.equal(ok.policy.signers.length, 2);
      const wrong = evaluatePolicy({ envelope }, await goodEvidence(), { owners: { keys: [key('owner1').publicKey, key('other').publicKey], threshold: 2 } }, { artifactDigest: ARTIFACT, now: NOW });
      assert.deepEqual(codes(wrong), ['POLICY_SIGNATURE_INVALID']);
    });

    it('refuses an unsigned policy unless allowed', async () => {
      const v = evaluatePolicy({ document: policy(basePolicy) }, await goodEvidence(), {}, { artifactDigest: ARTIFACT, now: NOW });
      assert.deepEqual(codes(v), ['POLICY_UNSIGNED']);
    });
  });

  describe('evidence integrity', () => {
    it('reports a tampered attestation as SIGNATURE_INVALID and does not use it', async () => {
      const [build, scanAtt] = await goodEvidence();
      const forged = tamper(build!, (s) => {
        (s['predicate'] as { runDetails: { builder: { id: string } } }).runDetails.builder.id = 'https://ci.example/builder';
        s['subject'] = [{ name: 'evil.tgz', digest: sha('evil') }];
      });
      const v = run({ document: policy(basePolicy) }, [forged, scanAtt!]);
      assert.deepEqual(codes(v), ['ATTESTATION_MISSING', 'ARTIFACT_NOT_SUBJECT', 'SIGNATURE_INVALID'].sort());
    });

    it('rejects a known predicate that does not parse strictly (PREDICATE_INVALID)', async () => {
      const bad = await attest(['builder'], PROVENANCE, { buildDefinition: { buildType: 7 }, runDetails: {} }, undefined, 'build.json');
      const v = run({ document: policy(basePolicy) }, [bad, (await goodEvidence())[1]!]);
      assert.deepEqual(codes(v), ['ATTESTATION_MISSING', 'ARTIFACT_NOT_SUBJECT', 'PREDICATE_INVALID'].sort());
    });

    it('refuses an attestation beyond the input limits (ATTESTATION_TOO_LARGE)', async () => {
      const deep: Record<string, unknown> = {};
      let cur = deep;
      for (let i = 0; i < 40; i++) cur = (cur['x'] = {});
      const atts = [...(await goodEvidence()), await attest(['alice'], 'https://example.com/deep/v1', deep, undefined, 'deep.json')];
      const v = run({ document: policy(basePolicy) }, atts);
      assert.deepEqual(codes(v), ['ATTESTATION_TOO_LARGE']);
    });
  });

  describe('hostile envelopes', () => {
    it('refuses an envelope with more signatures than are checked', async () => {
      const [build, scanAtt] = await goodEvidence();
      const many = { ...build!, envelope: { ...build!.envelope, signatures: Array.from({ length: 17 }, () => build!.envelope.signatures[0]!) } };
      const v = run({ document: policy(basePolicy) }, [many, scanAtt!]);
      assert.ok(codes(v).includes('ATTESTATION_TOO_LARGE'));
      assert.equal(v.passed, false);
    });
  });

  describe('the artifact as a subject', () => {
    it('fails when the producing step does not name the artifact', async () => {
      const other = [{ name: 'other.tgz', digest: sha('other') }];
      const atts = [await attest(['builder'], PROVENANCE, provenance(), other, 'build.json'), (await goodEvidence())[1]!];
      const v = run({ document: policy(basePolicy) }, atts);
      assert.deepEqual(codes(v), ['ARTIFACT_NOT_SUBJECT']);
      assert.equal(v.issues.find((i) => i.code === 'ARTIFACT_NOT_SUBJECT')?.step, 'build');
    });

    it('checks the subject name pattern', async () => {
      const renamed = [{ name: 'app.zip', digest: ARTIFACT }];
      const atts = [await attest(['builder'], PROVENANCE, provenance(), renamed), (await goodEvidence())[1]!];
      assert.deepEqual(codes(run({ document: policy(basePolicy) }, atts)), ['ARTIFACT_NOT_SUBJECT']);
    });

    it('does not accept a requirement attestation about another artifact', async () => {
      const atts = [(await goodEvidence())[0]!, await attest(['scanner'], VULNS, scan([]), [{ name: 'x', digest: sha('x') }])];
      const v = run({ document: policy(basePolicy) }, atts);
      assert.deepEqual(codes(v), ['ATTESTATION_MISSING']);
    });
  });

  describe('artifact rules across steps (in-toto rules over attestations)', () => {
    const src = sha('source of main.c');
    const chainPolicy = {
      functionaries: { alice: functionary('alice'), builder: functionary('builder') },
      steps: [
        { name: 'checkout', predicateTypes: [LINK], functionaries: ['alice'], expectedProducts: ['CREATE main.c', 'DISALLOW *'] },
        {
          name: 'build',
          predicateTypes: [PROVENANCE],
          functionaries: ['builder'],
          expectedMaterials: ['MATCH main.c WITH PRODUCTS FROM checkout', 'DISALLOW *'],
          expectedProducts: ['CREATE app.tgz', 'DISALLOW *'],
        },
      ],
    };
    const checkout = (digest = src) => attest(['alice'], LINK, { name: 'checkout', command: ['git', 'clone'], materials: [] }, [{ name: 'main.c', digest }], 'checkout.json');
    const build = (deps: unknown[]) => attest(['builder'], PROVENANCE, provenance(undefined, deps), undefined, 'build.json');

    it('passes when materials match the products of the earlier step', async () => {
      const v = run({ document: policy(chainPolicy) }, [await checkout(), await build([{ name: 'main.c', digest: src }])]);
      assert.deepEqual(v.issues, []);
      assert.ok(v.steps[1]!.rules.some((r) => r.kind === 'artifact' && r.expr === 'MATCH main.c WITH PRODUCTS FROM checkout' && r.passed));
    });

    it('reports every artifact rule failure: a changed material and an unexpected one', async () => {
      const v = run({ document: policy(chainPolicy) }, [await checkout(), await build([{ name: 'main.c', digest: sha('changed') }, { name: 'evil.c', digest: sha('evil') }])]);
      const failures = v.issues.filter((i) => i.code === 'ARTIFACT_RULE_FAILED');
      assert.deepEqual(failures.map((f) => f.artifact).sort(), ['evil.c', 'main.c']);
      assert.ok(failures.every((f) => f.step === 'build' && f.rule === 'DISALLOW *'));
    });

    it('takes a link attestation only for the step it names', async () => {
      const wrong = await attest(['alice'], LINK, { name: 'not-checkout' }, [{ name: 'main.c', digest: src }]);
      const v = run({ document: policy(chainPolicy) }, [wrong, await build([{ name: 'main.c', digest: src }])]);
      assert.ok(codes(v).includes('ATTESTATION_MISSING'));
    });

    it('reports attestations of one step that disagree on their artifacts', async () => {
      const p = policy({ ...chainPolicy, functionaries: { ...chainPolicy.functionaries, bob: functionary('bob') }, steps: [{ ...chainPolicy.steps[0], functionaries: ['alice', 'bob'] }, chainPolicy.steps[1]] });
      const other = await attest(['bob'], LINK, { name: 'checkout' }, [{ name: 'main.c', digest: sha('other source') }], 'checkout-bob.json');
      const v = run({ document: p }, [await checkout(), other, await build([{ name: 'main.c', digest: src }])]);
      assert.deepEqual(codes(v), ['ARTIFACTS_DISAGREE']);
    });
  });

  describe('aggregate rules and selectors', () => {
    const rebuildPolicy = {
      functionaries: { builder: functionary('builder'), r1: functionary('rebuilder1'), r2: functionary('rebuilder2') },
      steps: [{ name: 'build', predicateTypes: [PROVENANCE], functionaries: ['builder'] }],
      requirements: [
        {
          name: 'rebuilds',
          predicateTypes: [VSA],
          functionaries: ['r1', 'r2'],
          when: 'predicate.verifier.id.startsWith("https://rebuild.example/")',
          rules: ['predicate.verificationResult == "PASSED"'],
          aggregateRules: [
            { name: 'two independent rebuilders', expr: 'distinctSigners(attestations) >= 2 && countDistinct(attestations.map(a, a.predicate.verifier.id)) >= 2' },
            { name: 'same artifact as the build', expr: 'attestations.all(a, hasSubject(a.subject, steps.build[0].subject[0].digest))' },
          ],
        },
      ],
    };
    const vsa = (verifier: string) => ({
      verifier: { id: verifier },
      timeVerified: '2026-05-31T12:00:00Z',
      resourceUri: 'https://dl.example/app.tgz',
      policy: { uri: 'https://rebuild.example/policy' },
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_3'],
    });

    it('passes when two rebuilders agree', async () => {
      const atts = [await attest(['builder'], PROVENANCE, provenance()), await attest(['rebuilder1'], VSA, vsa('https://rebuild.example/one')), await attest(['rebuilder2'], VSA, vsa('https://rebuild.example/two'))];
      const v = run({ document: policy(rebuildPolicy) }, atts);
      assert.deepEqual(v.issues, []);
    });

    it('fails the aggregate rule with one rebuilder, and skips attestations the selector does not pick', async () => {
      const atts = [await attest(['builder'], PROVENANCE, provenance()), await attest(['rebuilder1'], VSA, vsa('https://rebuild.example/one')), await attest(['rebuilder2'], VSA, vsa('https://elsewhere.example/'))];
      const v = run({ document: policy(rebuildPolicy) }, atts);
      assert.deepEqual(codes(v), ['RULE_FAILED']);
      assert.equal(v.issues.find((i) => i.code === 'RULE_FAILED')?.rule, 'two independent rebuilders');
      assert.deepEqual(codes(v, 'warning'), ['EXTRA_ATTESTATION']);
    });
  });

  describe('unknown predicate types', () => {
    it('are usable through CEL without a parser', async () => {
      const p = policy({
        functionaries: { alice: functionary('alice') },
        requirements: [{ name: 'custom', predicateTypes: ['https://example.com/custom/v1'], functionaries: ['alice'], rules: ['predicate.score >= 7 && predicate.tags.exists(t, t == "ok")'] }],
      });
      const good = await attest(['alice'], 'https://example.com/custom/v1', { score: 9, tags: ['ok'] });
      assert.equal(run({ document: p }, [good]).passed, true);
      const bad = await attest(['alice'], 'https://example.com/custom/v1', { score: 3, tags: ['ok'] });
      assert.deepEqual(codes(run({ document: p }, [bad])), ['ARTIFACT_NOT_SUBJECT', 'RULE_FAILED', 'THRESHOLD_NOT_MET']);
    });
  });

  describe('the report', () => {
    it('lists every failure at once, not only the first', async () => {
      const atts = [
        await attest(['builder'], PROVENANCE, provenance('https://evil.example'), [{ name: 'other.tgz', digest: sha('o') }], 'build.json'),
        await attest(['scanner'], VULNS, scan(['critical']), undefined, 'scan.json'),
        tamper(await attest(['alice'], VULNS, scan([])), (s) => (s['predicateType'] = 'x')),
      ];
      const v = run({ document: policy({ ...basePolicy, expires: '2026-01-01T00:00:00Z' }) }, atts);
      assert.deepEqual(codes(v), ['ARTIFACT_NOT_SUBJECT', 'POLICY_EXPIRED', 'RULE_FAILED', 'RULE_FAILED', 'SIGNATURE_INVALID', 'THRESHOLD_NOT_MET', 'THRESHOLD_NOT_MET']);
    });
  });

  describe('makeVsa', () => {
    it('records the verdict as a SLSA VSA v1 statement about the artifact', async () => {
      const envelope = await signedPolicy(basePolicy);
      const v = evaluatePolicy({ envelope }, await goodEvidence(), { owners: { keys: [key('owner').publicKey], threshold: 1 } }, { artifactDigest: ARTIFACT, now: NOW });
      const statement = makeVsa(v, { verifierId: 'https://custody.dev/verifier', resourceUri: 'https://dl.example/app.tgz', verifiedLevels: ['SLSA_BUILD_LEVEL_2'], subjectName: 'app.tgz' });
      assert.equal(statement.predicateType, VSA);
      assert.deepEqual(statement.subject, [{ digest: ARTIFACT, name: 'app.tgz' }]);
      const parsed = parseVsaV1(JSON.parse(JSON.stringify(statement.predicate)));
      assert.equal(parsed.verificationResult, 'PASSED');
      assert.deepEqual(parsed.verifiedLevels, ['SLSA_BUILD_LEVEL_2']);
      assert.deepEqual(parsed.policy.digest, v.policy.digest);
      assert.deepEqual(parsed.inputAttestations?.map((a) => a.uri), ['build.json', 'scan.json']);
      assert.equal(parsed.timeVerified, '2026-06-01T00:00:00Z');
    });

    it('says FAILED for a failed verdict', async () => {
      const envelope = await signedPolicy(basePolicy);
      const v = evaluatePolicy({ envelope }, [], { owners: { keys: [key('owner').publicKey], threshold: 1 } }, { artifactDigest: ARTIFACT, now: NOW });
      const statement = makeVsa(v, { verifierId: 'https://custody.dev/verifier', resourceUri: 'file:app.tgz', verifiedLevels: ['SLSA_BUILD_LEVEL_2'] });
      assert.equal(statement.predicate.verificationResult, 'FAILED');
      assert.deepEqual(statement.predicate.verifiedLevels, ['FAILED']);
    });
  });
});
