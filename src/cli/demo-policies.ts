// The policies of `custody demo`: who may sign what, and the rules each stage of the example
// secure supply chain (CNCF TAG Security, "Software Supply Chain Best Practices v2", the 15-step
// example) must meet. One owner key signs them; every gate checks that signature first.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPrivateKeyPem } from '../core/index.ts';
import { signPolicy } from '../policy/index.ts';

export const SLSA_PROVENANCE = 'https://slsa.dev/provenance/v1';
export const SLSA_VSA = 'https://slsa.dev/verification_summary/v1';
export const LINK_V03 = 'https://in-toto.io/attestation/link/v0.3';
export const CYCLONEDX = 'https://cyclonedx.org/bom';
export const VULNS = 'https://in-toto.io/attestation/vulns/v0.1';
export const SOURCE_VERIFIER_ID = 'https://custody.dev/source-verifier/v1';
export const REBUILDER_ID = 'https://rebuild.example/independent';
export const CONSUMER_VERIFIER_ID = 'https://consumer.example/release-check';
export const HERMETIC_BUILDER = 'https://custody.dev/builder/hermetic/v1';

/** Every key-holding role of the demo (one key per step identity: the CNCF "identity tied to the instance of that step"). */
export const ROLES = ['owner', 'source-verifier', 'ci-checkout', 'ci-lint', 'ci-secret-scan', 'ci-dependency-review', 'builder', 'ci-verifier', 'scanner', 'rebuilder', 'consumer', 'tuf-root', 'tuf-targets', 'tuf-online'] as const;
export type Role = (typeof ROLES)[number];

/** The files the CI checks out and the build reads: in-toto MATCH rules tie each to the checkout. */
export const SOURCE_FILES = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'build.sh'] as const;

type Doc = Record<string, unknown>;

/** No finding at or above CVSS 7.0 (high); a severity without a numeric score counts as high. */
const NO_HIGH_FINDINGS = 'predicate.scanner.result.all(r, r.severity.all(s, s.score.matches("^[0-9]+([.][0-9]+)?$") && double(s.score) < 7.0))';

/** `custody demo --keyless`: the issuer of the demo server's workload ID tokens (fixed: tokens name it, nothing fetches it). */
export const KEYLESS_ISSUER = 'https://ci.demo.custody.local';
/**
 * With --keyless, every attesting functionary is a workload identity (the step named in its ID
 * token), not a key. The owner key (policies), the signing service's release key and the TUF keys
 * stay keys by design; the developers sign commits and reviews with their SSH keys.
 */
export const KEYLESS_STEPS: Readonly<Record<string, string>> = {
  'source-verifier': 'source-verify',
  'ci-checkout': 'checkout',
  'ci-lint': 'lint',
  'ci-secret-scan': 'secret-scan',
  'ci-dependency-review': 'dependency-review',
  builder: 'build',
  'ci-sbom': 'sbom',
  'ci-verifier': 'build-check',
  scanner: 'vuln-scan',
  rebuilder: 'rebuild',
  consumer: 'consumer-(scan|verify)',
};

/** The subject pattern of a step's minted ID token: `<issuer>/principals/<actor>/steps/<step>` (docs/keyless.md); `step` may be a regular expression. */
export function keylessSubject(step: string): string {
  return `/${KEYLESS_ISSUER.replace(/[./]/g, (c) => `\\${c}`)}\\/principals\\/[^/]+\\/steps\\/${step}/`;
}

function functionaries(keys: string, roles: readonly string[], keyless = false): Doc {
  const out: Doc = {};
  for (const role of roles) {
    const step = keyless ? KEYLESS_STEPS[role] : undefined;
    out[role] = step === undefined ? { publicKey: readFileSync(join(keys, `${role}.pub`), 'utf8') } : { keyless: { issuer: KEYLESS_ISSUER, subject: keylessSubject(step) } };
  }
  return out;
}

/** A pre-build check: an in-toto link (v0.3) of the step, its command succeeded, its inputs are the checkout's. */
function prebuildStep(name: string, functionary: Role, materials: readonly string[]): Doc {
  return {
    name,
    predicateTypes: [LINK_V03],
    functionaries: [functionary],
    rules: [{ name: `${name} passed`, expr: 'predicate.byproducts["return-value"] == 0' }],
    expectedMaterials: [...materials.map((m) => `MATCH ${m} WITH PRODUCTS FROM checkout`), 'DISALLOW *'],
  };
}

/** The steps the CI's own evidence must show: source verified, checked out, checked, built hermetically. */
function pipelineSteps(): Doc[] {
  const matchSources = SOURCE_FILES.map((f) => (f === 'src' ? 'MATCH src/* WITH PRODUCTS FROM checkout' : `MATCH ${f} WITH PRODUCTS FROM checkout`));
  const disallowSources = SOURCE_FILES.map((f) => (f === 'src' ? 'DISALLOW src/*' : `DISALLOW ${f}`));
  return [
    {
      name: 'source',
      predicateTypes: [SLSA_VSA],
      functionaries: ['source-verifier'],
      when: `predicate.verifier.id == "${SOURCE_VERIFIER_ID}"`,
      rules: [
        { name: 'source verified', expr: 'predicate.verificationResult == "PASSED"' },
        { name: 'signed, authorized and two-party reviewed (SLSA source level 4)', expr: 'predicate.verifiedLevels.exists(l, l == "SLSA_SOURCE_LEVEL_4")' },
      ],
    },
    { name: 'checkout', predicateTypes: [LINK_V03], functionaries: ['ci-checkout'], expectedProducts: ['ALLOW *'] },
    prebuildStep('lint', 'ci-lint', ['src/*', 'tsconfig.json']),
    prebuildStep('secret-scan', 'ci-secret-scan', ['src/*', 'package.json', 'package-lock.json', 'tsconfig.json', 'build.sh']),
    prebuildStep('dependency-review', 'ci-dependency-review', ['package.json', 'package-lock.json']),
    {
      name: 'build',
      predicateTypes: [SLSA_PROVENANCE],
      functionaries: ['builder'],
      rules: [
        { name: 'hermetic build', expr: `predicate.buildDefinition.externalParameters.hermetic == true && predicate.runDetails.builder.id == "${HERMETIC_BUILDER}"` },
        { name: 'the reviewed build command', expr: 'predicate.buildDefinition.externalParameters.command == ["sh", "build.sh"]' },
        { name: 'no build parameters beyond the compiler path', expr: 'predicate.buildDefinition.externalParameters.env.all(k, k == "TSC")' },
      ],
      aggregateRules: [
        // An aggregate rule, so the attestation still counts and the artifact rules below name the changed file.
        {
          name: 'built from a clean checkout',
          expr: 'attestations.all(b, !has(b.predicate.buildDefinition.internalParameters.dirty) || b.predicate.buildDefinition.internalParameters.dirty == false)',
        },
        {
          name: 'built from the verified commit',
          expr: 'attestations.all(b, steps.source.exists(s, s.subject.exists(x, has(x.digest.gitCommit) && x.digest.gitCommit == b.predicate.buildDefinition.externalParameters.source.commit)))',
        },
      ],
      expectedMaterials: [...matchSources, ...disallowSources, 'ALLOW *'],
      expectedProducts: ['ALLOW *'],
    },
  ];
}

function sbomRequirement(keyless = false): Doc {
  return { name: 'sbom', predicateTypes: [CYCLONEDX], functionaries: [keyless ? 'ci-sbom' : 'builder'], rules: [{ name: 'a CycloneDX SBOM', expr: 'predicate.bomFormat == "CycloneDX"' }] };
}

/** What the CI checks right after the build (post-build), before anything leaves it. */
export function buildPolicy(keys: string, expires: string, keyless = false): Doc {
  const roles = ['source-verifier', 'ci-checkout', 'ci-lint', 'ci-secret-scan', 'ci-dependency-review', 'builder', ...(keyless ? ['ci-sbom'] : [])];
  return {
    _type: 'https://custody.dev/policy/v1',
    name: 'greeter-build',
    expires,
    functionaries: functionaries(keys, roles, keyless),
    artifact: { producedBy: ['build'], subjectName: 'out/greeter-*.tgz' },
    steps: pipelineSteps(),
    requirements: [sbomRequirement(keyless)],
  };
}

/** The verifier id of the post-build check's VSA (`custody verify --vsa-out` in the post-build stage). */
export const BUILD_CHECK_ID = 'https://ci.example/build-check';

/**
 * What the signing service, the repository's admission and the consumer require of a release. With
 * --keyless every functionary is an identity, verified against the CA's trusted root by each of them
 * (the signing service's own CA, `repo add --trusted-root`, `fetch --trusted-root`).
 */
export function releasePolicy(keys: string, expires: string, keyless = false): Doc {
  return {
    _type: 'https://custody.dev/policy/v1',
    name: 'greeter-release',
    expires,
    functionaries: functionaries(keys, ['source-verifier', 'ci-checkout', 'ci-lint', 'ci-secret-scan', 'ci-dependency-review', 'builder', ...(keyless ? ['ci-sbom'] : []), 'scanner', 'rebuilder'], keyless),
    artifact: { producedBy: ['build'], subjectName: 'out/greeter-*.tgz' },
    steps: pipelineSteps(),
    requirements: [
      sbomRequirement(keyless),
      { name: 'vulnerability-scan', predicateTypes: [VULNS], functionaries: ['scanner'], rules: [{ name: 'no high or critical vulnerabilities', expr: NO_HIGH_FINDINGS }] },
      {
        name: 'rebuild',
        predicateTypes: [SLSA_VSA],
        functionaries: ['rebuilder'],
        when: `predicate.verifier.id == "${REBUILDER_ID}"`,
        rules: [{ name: 'an independent rebuild reproduced the artifact', expr: 'predicate.verificationResult == "PASSED"' }],
      },
    ],
    verifiedLevels: ['SLSA_BUILD_LEVEL_3'],
  };
}

/** What the deploy gate requires: the consumer's own verification and scan. */
export function deployPolicy(keys: string, expires: string, keyless = false): Doc {
  return {
    _type: 'https://custody.dev/policy/v1',
    name: 'greeter-deploy',
    expires,
    functionaries: functionaries(keys, ['consumer'], keyless),
    requirements: [
      {
        name: 'consumer-verified',
        predicateTypes: [SLSA_VSA],
        functionaries: ['consumer'],
        when: `predicate.verifier.id == "${CONSUMER_VERIFIER_ID}"`,
        rules: [{ name: 'the release policy passed at the consumer', expr: 'predicate.verificationResult == "PASSED"' }],
      },
      { name: 'consumer-scan', predicateTypes: [VULNS], functionaries: ['consumer'], rules: [{ name: 'no high or critical vulnerabilities (consumer scan)', expr: NO_HIGH_FINDINGS }] },
    ],
  };
}

/** Writes `<name>.policy.json`: a DSSE envelope signed by the owner key. */
export async function writeSignedPolicy(path: string, doc: Doc, ownerKeyFile: string): Promise<void> {
  const owner = loadPrivateKeyPem(readFileSync(ownerKeyFile, 'utf8'));
  const envelope = await signPolicy(JSON.stringify(doc), [owner.signer()]);
  writeFileSync(path, `${JSON.stringify(envelope, null, 2)}\n`);
}
