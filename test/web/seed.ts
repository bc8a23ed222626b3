// Realistic evidence for the dashboard tests and benchmark, uploaded through the public API:
// a release of "webapp" built from a source commit by the hermetic CI (SLSA provenance v1 with
// resolved dependencies), its CycloneDX SBOM, a vulnerability scan, a rebuilder's VSA, the
// upstream provenance of one dependency; and a tampered release of the same name built by a
// self-hosted runner from a branch, with a second copy of a dependency (dependency confusion).
import { IN_TOTO_PAYLOAD_TYPE, digestBytes, makeStatement, signEnvelope, type PrivateKey, type ResourceDescriptor } from '../../src/core/index.ts';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const CYCLONEDX = 'https://cyclonedx.org/bom';
export const VULNS = 'https://in-toto.io/attestation/vulns/v0.1';
export const VSA = 'https://slsa.dev/verification_summary/v1';
export const HERMETIC = 'https://ci.example/hermetic';
export const REPO = 'git+https://git.example/acme/webapp';

export async function envelope(key: PrivateKey, subjects: ResourceDescriptor[], predicateType: string, predicate: unknown): Promise<string> {
  const statement = makeStatement(subjects, predicateType, predicate);
  return JSON.stringify(await signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), [key.signer()]));
}

export function sha(text: string): string {
  return digestBytes(text);
}

export function commit(text: string): string {
  return sha(text).slice(0, 40);
}

export interface ProvenanceSpec {
  subject: ResourceDescriptor;
  builder: string;
  ref: string;
  sourceCommit: string;
  dependencies: ResourceDescriptor[];
  finishedOn?: string;
}

export function provenance(p: ProvenanceSpec): Record<string, unknown> {
  return {
    buildDefinition: {
      buildType: 'https://custody.dev/build/npm/v1',
      externalParameters: { repository: REPO, ref: p.ref },
      resolvedDependencies: [{ uri: `${REPO}@${p.ref}`, digest: { gitCommit: p.sourceCommit } }, ...p.dependencies],
    },
    runDetails: { builder: { id: p.builder }, metadata: { invocationId: `run-${p.sourceCommit.slice(0, 8)}`, startedOn: '2026-11-20T10:00:00Z', finishedOn: p.finishedOn ?? '2026-11-20T10:04:00Z' } },
  };
}

export function cyclonedx(components: { name: string; version: string }[]): Record<string, unknown> {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: { component: { type: 'application', name: 'webapp', version: '1.4.2' } },
    components: components.map((c) => ({ type: 'library', name: c.name, version: c.version, purl: `pkg:npm/${c.name}@${c.version}`, 'bom-ref': `pkg:npm/${c.name}@${c.version}` })),
  };
}

/** The policy the dashboard is given: hermetic CI builds from main, with an SBOM. */
export function releasePolicy(builder: PrivateKey): Record<string, unknown> {
  return {
    _type: 'https://custody.dev/policy/v1',
    name: 'webapp-release',
    expires: '2030-01-01T00:00:00Z',
    functionaries: { ci: { publicKey: builder.publicKey.pem } },
    artifact: { producedBy: ['build'] },
    steps: [
      {
        name: 'build',
        predicateTypes: [SLSA_V1],
        functionaries: ['ci'],
        when: 'predicate.buildDefinition.externalParameters.repository == "git+https://git.example/acme/webapp"',
        rules: [
          { name: 'hermetic builder', expr: `predicate.runDetails.builder.id == "${HERMETIC}"` },
          { name: 'built from main', expr: 'predicate.buildDefinition.externalParameters.ref == "refs/heads/main"' },
        ],
      },
    ],
    requirements: [{ name: 'sbom', predicateTypes: [CYCLONEDX], functionaries: ['ci'] }],
  };
}

/** A resource descriptor with its digest always present. */
export interface Descriptor extends ResourceDescriptor {
  name: string;
  digest: Record<string, string>;
}

export interface Seeded {
  /** Documents to upload, one per line (NDJSON). */
  lines: string[];
  good: Descriptor;
  tampered: Descriptor;
  lodash: Descriptor;
  policy: Record<string, unknown>;
}

export async function releaseEvidence(builder: PrivateKey, upstream: PrivateKey): Promise<Seeded> {
  const lodash: Descriptor = { name: 'lodash-4.17.21.tgz', uri: 'pkg:npm/lodash@4.17.21', digest: { sha256: sha('lodash-4.17.21') } };
  const express: Descriptor = { name: 'express-4.18.2.tgz', uri: 'pkg:npm/express@4.18.2', digest: { sha256: sha('express-4.18.2') } };
  const good: Descriptor = { name: 'webapp-1.4.2.tgz', digest: { sha256: sha('webapp-1.4.2 honest') } };
  const tampered: Descriptor = { name: 'webapp-1.4.2.tgz', digest: { sha256: sha('webapp-1.4.2 tampered') } };
  const evilLodash: Descriptor = { name: 'lodash-4.17.21.tgz', uri: 'https://registry.evil.example/lodash-4.17.21.tgz', digest: { sha256: sha('lodash-4.17.21 evil') } };
  const lines = [
    // Upstream: lodash built from its own source by its own builder.
    await envelope(upstream, [{ name: lodash.name, digest: lodash.digest }], SLSA_V1, {
      buildDefinition: { buildType: 'https://custody.dev/build/npm/v1', externalParameters: { repository: 'git+https://git.example/lodash/lodash', ref: 'refs/tags/4.17.21' }, resolvedDependencies: [{ uri: 'git+https://git.example/lodash/lodash@refs/tags/4.17.21', digest: { gitCommit: commit('lodash 4.17.21') } }] },
      runDetails: { builder: { id: 'https://ci.example/upstream' }, metadata: { invocationId: 'lodash-release' } },
    }),
    await envelope(builder, [good], SLSA_V1, provenance({ subject: good, builder: HERMETIC, ref: 'refs/heads/main', sourceCommit: commit('webapp main'), dependencies: [lodash, express] })),
    await envelope(builder, [good], CYCLONEDX, cyclonedx([{ name: 'lodash', version: '4.17.21' }, { name: 'express', version: '4.18.2' }, { name: 'left-pad', version: '1.3.0' }])),
    await envelope(builder, [good], VULNS, {
      scanner: {
        uri: 'https://custody.dev/scan',
        version: '0.1.0',
        db: { uri: 'osv', lastUpdate: '2026-11-20T00:00:00Z' },
        result: [{ id: 'GHSA-35jh-r3h4-6jhm', severity: [{ method: 'CVSS:3.1', score: '7.2' }], annotations: [{ component: 'pkg:npm/lodash@4.17.21', vex: 'not_affected' }] }],
      },
      metadata: { scanStartedOn: '2026-11-20T10:05:00Z', scanFinishedOn: '2026-11-20T10:05:03Z' },
    }),
    await envelope(upstream, [good], VSA, {
      verifier: { id: 'https://rebuild.example/a' },
      timeVerified: '2026-11-20T11:00:00Z',
      resourceUri: 'pkg:npm/webapp@1.4.2',
      policy: { uri: 'https://custody.dev/build/rebuild-policy/v1' },
      verificationResult: 'PASSED',
      verifiedLevels: ['SLSA_BUILD_LEVEL_3'],
    }),
    // The attack: a self-hosted runner (compromised) builds from a branch, pulling a second
    // lodash from another registry; the provenance is signed with the stolen CI key.
    await envelope(builder, [tampered], SLSA_V1, provenance({ subject: tampered, builder: 'https://ci.example/self-hosted-runner', ref: 'refs/heads/hotfix', sourceCommit: commit('webapp hotfix'), dependencies: [lodash, evilLodash, express] })),
  ];
  return { lines, good, tampered, lodash, policy: releasePolicy(builder) };
}
