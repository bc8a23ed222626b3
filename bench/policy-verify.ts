// Benchmark: evaluatePolicy on a policy of 10 steps over 1,000 DSSE attestations with CEL rules and
// artifact rules, next to the bare signature checks of the same envelopes in the same run (one
// verifyEnvelope per attestation, with its signer's key). Reports the policy overhead ratio.
//
//   node bench/policy-verify.ts [--attestations 1000] [--steps 10] [--runs 5] [--key ed25519|ecdsa-p256]
import {
  IN_TOTO_PAYLOAD_TYPE,
  digestBytes,
  generateKeyPair,
  makeStatement,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
  type KeyType,
  type PrivateKey,
} from '../src/core/index.ts';
import { evaluatePolicy, parsePolicyDocument, type AttestationInput } from '../src/policy/index.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const ATTESTATIONS = Number(flag('--attestations', '1000'));
const STEPS = Number(flag('--steps', '10'));
const RUNS = Number(flag('--runs', '5'));
const KEY_TYPE = flag('--key', 'ed25519') as KeyType;
const PER_STEP = Math.ceil(ATTESTATIONS / STEPS);
const PROVENANCE = 'https://slsa.dev/provenance/v1';
const NOW = new Date('2026-06-01T00:00:00Z');

const artifactDigest = { sha256: digestBytes('final artifact') };
const keys: PrivateKey[] = Array.from({ length: STEPS }, () => generateKeyPair(KEY_TYPE));
const outputOf = (step: number) => ({ name: `out-${step}.bin`, digest: step === STEPS - 1 ? artifactDigest : { sha256: digestBytes(`output of step ${step}`) } });

const policy = parsePolicyDocument({
  _type: 'https://custody.dev/policy/v1',
  expires: '2030-01-01T00:00:00Z',
  functionaries: Object.fromEntries(keys.map((k, i) => [`f${i}`, { publicKey: k.publicKey.pem }])),
  artifact: { producedBy: [`step${STEPS - 1}`] },
  steps: keys.map((_, i) => ({
    name: `step${i}`,
    predicateTypes: [PROVENANCE],
    functionaries: [`f${i}`],
    when: `predicate.buildDefinition.externalParameters.step == ${i}`,
    rules: [
      { name: 'builder', expr: `predicate.runDetails.builder.id == "https://ci.example/builder/${i}"` },
      { name: 'fresh', expr: 'now - timestamp(predicate.runDetails.metadata.finishedOn) < duration("720h")' },
      { name: 'pinned deps', expr: 'predicate.buildDefinition.resolvedDependencies.all(d, has(d.digest) && size(d.digest.sha256) == 64)' },
      { name: 'subject', expr: 'subject.exists(s, s.name.endsWith(".bin"))' },
    ],
    aggregateRules: [{ name: 'one signer', expr: 'distinctSigners(attestations) >= 1' }],
    expectedMaterials: i === 0 ? ['ALLOW *'] : [`MATCH out-${i - 1}.bin WITH PRODUCTS FROM step${i - 1}`, 'ALLOW lib-*', 'DISALLOW *'],
    expectedProducts: [`CREATE out-${i}.bin`, 'DISALLOW *'],
  })),
});

async function makeAttestations(): Promise<{ inputs: AttestationInput[]; owner: number[] }> {
  const inputs: AttestationInput[] = [];
  const owner: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const deps = Array.from({ length: 8 }, (_, d) => ({ name: `lib-${d}.tar`, digest: { sha256: digestBytes(`lib ${d}`) } }));
    if (step > 0) deps.push(outputOf(step - 1));
    for (let n = 0; n < PER_STEP && inputs.length < ATTESTATIONS; n++) {
      const statement = makeStatement([outputOf(step)], PROVENANCE, {
        buildDefinition: { buildType: 'https://ci.example/build/v1', externalParameters: { step, attempt: n }, resolvedDependencies: deps },
        runDetails: { builder: { id: `https://ci.example/builder/${step}` }, metadata: { invocationId: `run-${step}-${n}`, startedOn: '2026-05-31T10:00:00Z', finishedOn: '2026-05-31T10:05:00Z' } },
      });
      const envelope: Envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), [keys[step]!.signer()]);
      inputs.push({ envelope, source: `step${step}-${n}.json` });
      owner.push(step);
    }
  }
  return { inputs, owner };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const { inputs, owner } = await makeAttestations();

function bare(): void {
  for (let i = 0; i < inputs.length; i++) verifyEnvelope(inputs[i]!.envelope, [keys[owner[i]!]!.publicKey]);
}
function full(): boolean {
  return evaluatePolicy({ document: policy }, inputs, { allowUnsignedPolicy: true }, { artifactDigest, now: NOW }).passed;
}

// Warm up both paths; the verdict must pass or the timing would measure a failure path.
bare();
const verdict = evaluatePolicy({ document: policy }, inputs, { allowUnsignedPolicy: true }, { artifactDigest, now: NOW });
if (!verdict.passed) throw new Error(`benchmark policy failed: ${JSON.stringify(verdict.issues.slice(0, 3))}`);

const bareTimes: number[] = [];
const fullTimes: number[] = [];
for (let r = 0; r < RUNS; r++) {
  let t = performance.now();
  bare();
  bareTimes.push(performance.now() - t);
  t = performance.now();
  if (!full()) throw new Error('verdict changed between runs');
  fullTimes.push(performance.now() - t);
}
const bareMs = median(bareTimes);
const fullMs = median(fullTimes);
const rules = verdict.steps.reduce((n, s) => n + s.rules.length, 0);
const result = {
  attestations: inputs.length,
  steps: STEPS,
  keyType: KEY_TYPE,
  ruleEvaluations: rules,
  runs: RUNS,
  bareSignatureChecksMs: Number(bareMs.toFixed(1)),
  policyEvaluationMs: Number(fullMs.toFixed(1)),
  overheadRatio: Number((fullMs / bareMs).toFixed(2)),
  perAttestationUs: Number(((fullMs * 1000) / inputs.length).toFixed(0)),
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
