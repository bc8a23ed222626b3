import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseProvenanceV1 } from './provenance.ts';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'PREDICATE_INVALID';
const valid = () => ({
  buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: { ref: 'main' }, resolvedDependencies: [{ uri: 'git+https://example.com/repo', digest: { gitCommit: 'c'.repeat(40) } }] },
  runDetails: { builder: { id: 'https://ci.example', version: { ci: '1.2' } }, metadata: { invocationId: 'run-1', startedOn: '2026-01-01T00:00:00Z', finishedOn: '2026-01-01T00:01:00.5Z' } },
});

describe('parseProvenanceV1', () => {
  it('reads the build definition and run details', () => {
    const p = parseProvenanceV1(valid());
    assert.equal(p.buildDefinition.buildType, 'https://example.com/build/v1');
    assert.equal(p.buildDefinition.resolvedDependencies?.[0]?.uri, 'git+https://example.com/repo');
    assert.equal(p.runDetails.builder.id, 'https://ci.example');
    assert.equal(p.runDetails.metadata?.finishedOn, '2026-01-01T00:01:00.5Z');
  });

  it('refuses missing required fields and mistyped optional ones', () => {
    const cases: ((p: ReturnType<typeof valid>) => void)[] = [
      (p) => delete (p.buildDefinition as Partial<typeof p.buildDefinition>).buildType,
      (p) => delete (p.buildDefinition as Partial<typeof p.buildDefinition>).externalParameters,
      (p) => ((p.runDetails.builder as { id: unknown }).id = 5),
      (p) => ((p.runDetails.builder.version as Record<string, unknown>)['ci'] = 1),
      (p) => (p.runDetails.metadata.startedOn = 'yesterday'),
      (p) => ((p.buildDefinition as Record<string, unknown>)['resolvedDependencies'] = {}),
    ];
    for (const change of cases) {
      const p = valid();
      change(p);
      assert.throws(() => parseProvenanceV1(p), isInvalid);
    }
  });
});
