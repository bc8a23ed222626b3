// Property tests: random attestation content never crashes the verifier, and never passes a
// policy whose rule it violates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../../src/core/index.ts';
import { STANDARD_PREDICATES, evaluatePolicy, type AttestationInput, type Verdict } from '../../src/policy/index.ts';
import { ARTIFACT, NOW, attest, functionary, key, policy } from './policy-kit.ts';

const KNOWN_TYPES = [
  'https://in-toto.io/attestation/link/v0.3',
  'https://slsa.dev/provenance/v1',
  'https://slsa.dev/verification_summary/v1',
  'https://cyclonedx.org/bom',
  'https://spdx.dev/Document',
  'https://in-toto.io/attestation/vulns/v0.1',
  'https://openvex.dev/ns/v0.2.0',
  'https://in-toto.io/attestation/test-result/v0.1',
  'https://custody.dev/review/v1',
];
const CUSTOM = 'https://example.com/custom/v1';

const anyPolicy = policy({
  functionaries: { alice: functionary('alice') },
  requirements: KNOWN_TYPES.concat(CUSTOM).map((t, i) => ({
    name: `r${i}`,
    predicateTypes: [t],
    functionaries: ['alice'],
    rules: ['has(predicate.x) ? predicate.x != "boom" : size(subject) > 0', 'predicate.all(k, k != "")'],
    aggregateRules: ['size(attestations) >= 0'],
  })),
});

function wellFormed(v: Verdict): void {
  assert.equal(typeof v.passed, 'boolean');
  assert.equal(v.passed, !v.issues.some((i) => i.severity === 'error'));
  for (const i of v.issues) assert.equal(typeof i.code, 'string');
}

const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 });

describe('attestation policy properties', () => {
  it('never crashes on random predicates of known and unknown types', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KNOWN_TYPES, CUSTOM), jsonObject, async (type, predicate) => {
        const v = evaluatePolicy({ document: anyPolicy }, [await attest(['alice'], type, predicate)], { allowUnsignedPolicy: true }, { artifactDigest: ARTIFACT, now: NOW });
        wellFormed(v);
      }),
      { numRuns: 150 },
    );
  });

  it('never crashes on random payloads, payload types and signatures', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.json().map((j) => j)), fc.constantFrom(IN_TOTO_PAYLOAD_TYPE, 'text/plain'), async (payload, payloadType) => {
        const envelope = await signEnvelope(payloadType, new TextEncoder().encode(payload), [key('alice').signer()]);
        const v = evaluatePolicy({ document: anyPolicy }, [{ envelope }], { allowUnsignedPolicy: true }, { artifactDigest: ARTIFACT, now: NOW });
        wellFormed(v);
        assert.equal(v.passed, false);
      }),
      { numRuns: 100 },
    );
  });

  it('never passes a rule the content violates', async () => {
    const p = policy({
      functionaries: { alice: functionary('alice') },
      requirements: [{ name: 'custom', predicateTypes: [CUSTOM], functionaries: ['alice'], rules: ['predicate.score >= 5 && predicate.tags.all(t, t != "bad")'] }],
    });
    const tag = fc.constantFrom('ok', 'good', 'bad', '');
    await fc.assert(
      fc.asyncProperty(
        fc.record({ score: fc.oneof(fc.integer({ min: -10, max: 10 }), fc.double({ noNaN: true, min: -10, max: 10 }), fc.string()), tags: fc.array(tag, { maxLength: 5 }) }, { requiredKeys: [] }),
        jsonObject,
        async (fields, junk) => {
          const predicate = { ...junk, ...fields };
          if (!('score' in fields)) delete predicate['score'];
          if (!('tags' in fields)) delete predicate['tags'];
          const v = evaluatePolicy({ document: p }, [await attest(['alice'], CUSTOM, predicate)], { allowUnsignedPolicy: true }, { artifactDigest: ARTIFACT, now: NOW });
          wellFormed(v);
          const satisfied = typeof fields.score === 'number' && fields.score >= 5 && Array.isArray(fields.tags) && fields.tags.every((t) => t !== 'bad');
          assert.equal(v.passed, satisfied, JSON.stringify({ predicate, issues: v.issues }));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('parses every standard predicate strictly or reports it, never throwing anything but a typed error', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STANDARD_PREDICATES), fc.jsonValue({ maxDepth: 5 }), (k, json) => {
        try {
          k.parse(json);
        } catch (e) {
          assert.ok(e instanceof Error && 'code' in e, `untyped error from ${k.name}: ${String(e)}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never lets an attestation by an outsider count', async () => {
    const p = policy({
      functionaries: { alice: functionary('alice') },
      requirements: [{ name: 'custom', predicateTypes: [CUSTOM], functionaries: ['alice'] }],
    });
    await fc.assert(
      fc.asyncProperty(jsonObject, fc.constantFrom('mallory', 'eve'), async (predicate, outsider) => {
        const atts: AttestationInput[] = [await attest([outsider], CUSTOM, predicate)];
        const v = evaluatePolicy({ document: p }, atts, { allowUnsignedPolicy: true }, { artifactDigest: ARTIFACT, now: NOW });
        assert.equal(v.passed, false);
      }),
      { numRuns: 30 },
    );
  });
});
