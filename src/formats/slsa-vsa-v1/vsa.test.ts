import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeVsaPredicate, parseVsaV1 } from './vsa.ts';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'PREDICATE_INVALID';

describe('SLSA VSA v1', () => {
  it('round-trips what makeVsaPredicate writes', () => {
    const p = makeVsaPredicate({
      verifierId: 'https://custody.dev/verifier',
      timeVerified: new Date('2026-06-01T12:34:56.789Z'),
      resourceUri: 'https://dl.example/app.tgz',
      policy: { uri: 'https://example.com/policy', digest: { sha256: 'a'.repeat(64) } },
      inputAttestations: [{ uri: 'build.json', digest: { sha256: 'b'.repeat(64) } }],
      passed: true,
      verifiedLevels: ['SLSA_BUILD_LEVEL_3'],
    });
    assert.equal(p.timeVerified, '2026-06-01T12:34:56Z');
    const parsed = parseVsaV1(JSON.parse(JSON.stringify(p)));
    assert.deepEqual(parsed, p);
  });

  it('refuses a bad result, missing verifier id, missing policy or levels', () => {
    const ok = { verifier: { id: 'v' }, resourceUri: 'r', policy: { uri: 'p' }, verificationResult: 'PASSED', verifiedLevels: [] };
    parseVsaV1(ok);
    assert.throws(() => parseVsaV1({ ...ok, verificationResult: 'OK' }), isInvalid);
    assert.throws(() => parseVsaV1({ ...ok, verifier: {} }), isInvalid);
    assert.throws(() => parseVsaV1({ ...ok, policy: undefined }), isInvalid);
    assert.throws(() => parseVsaV1({ ...ok, verifiedLevels: undefined }), isInvalid);
    assert.throws(() => parseVsaV1({ ...ok, dependencyLevels: { SLSA_BUILD_LEVEL_1: -1 } }), isInvalid);
  });
});
