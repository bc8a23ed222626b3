import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../core/index.ts';
import { parsePolicyDocument } from './policy-document.ts';
import { openSignedPolicy, signPolicy } from './policy-envelope.ts';

const alice = generateKeyPair('ed25519');
const bob = generateKeyPair('ecdsa-p256');

const yamlPolicy = `
_type: https://custody.dev/policy/v1
name: demo
expires: 2030-01-01T00:00:00Z
functionaries:
  alice:
    publicKey: |
${alice.publicKey.pem.trimEnd().split('\n').map((l) => `      ${l}`).join('\n')}
  bob:
    securesystemslib: ${JSON.stringify(bob.publicKey.toSecuresystemslib())}
  ci:
    certificate: { issuer: https://token.example, subject: repo:org/app }
artifact:
  producedBy: [build]
steps:
  - name: checkout
    predicateTypes: [https://in-toto.io/attestation/link/v0.3]
    functionaries: [alice]
    expectedProducts: ["CREATE *"]
  - name: build
    predicateTypes: [https://slsa.dev/provenance/v1]
    functionaries: [bob, ci]
    threshold: 1
    rules:
      - predicate.runDetails.builder.id == "https://ci.example"
      - name: fresh
        expr: now - timestamp(predicate.runDetails.metadata.finishedOn) < duration("24h")
    expectedMaterials: ["MATCH * WITH PRODUCTS FROM checkout", "DISALLOW *"]
requirements:
  - name: scan
    predicateTypes: [https://in-toto.io/attestation/vulns/v0.1]
    functionaries: [alice]
    aggregateRules: ["size(attestations) == 1"]
verifiedLevels: [SLSA_BUILD_LEVEL_2]
`;

function base(): Record<string, unknown> {
  return {
    _type: 'https://custody.dev/policy/v1',
    expires: '2030-01-01T00:00:00Z',
    functionaries: { alice: { publicKey: alice.publicKey.pem } },
    requirements: [{ name: 'r', predicateTypes: ['x'], functionaries: ['alice'] }],
  };
}

function invalid(change: (doc: Record<string, unknown>) => void): void {
  const doc = base();
  change(doc);
  assert.throws(() => parsePolicyDocument(doc), (e: unknown) => (e as { code?: string }).code === 'POLICY_INVALID', JSON.stringify(doc).slice(0, 200));
}

describe('parsePolicyDocument', () => {
  it('reads the YAML form with PEM, securesystemslib and certificate functionaries', () => {
    const p = parsePolicyDocument(yamlPolicy);
    assert.equal(p.name, 'demo');
    assert.equal(p.expires, '2030-01-01T00:00:00Z');
    assert.equal(p.functionaries.get('alice')?.keys[0]?.keyid, alice.publicKey.keyid);
    assert.equal(p.functionaries.get('bob')?.keys[0]?.keyid, bob.publicKey.keyid);
    assert.deepEqual(p.functionaries.get('ci')?.certificate, { issuer: 'https://token.example', subject: 'repo:org/app' });
    assert.deepEqual(p.steps.map((s) => s.name), ['checkout', 'build']);
    assert.deepEqual(p.steps[1]?.rules.map((r) => r.name), ['rule 1', 'fresh']);
    assert.equal(p.steps[1]?.expectedMaterials[0]?.type, 'MATCH');
    assert.deepEqual(p.artifact.producedBy, ['build']);
    assert.deepEqual(p.verifiedLevels, ['SLSA_BUILD_LEVEL_2']);
  });

  it('refuses malformed policies with POLICY_INVALID', () => {
    invalid((d) => (d['_type'] = 'https://custody.dev/policy/v2'));
    invalid((d) => (d['expires'] = 'tomorrow'));
    invalid((d) => (d['extra'] = true));
    invalid((d) => (d['functionaries'] = {}));
    invalid((d) => (d['functionaries'] = { alice: { publicKey: 'not a key' } }));
    invalid((d) => (d['functionaries'] = { alice: { publicKey: alice.toPkcs8Pem() } }));
    invalid((d) => (d['requirements'] = []));
    invalid((d) => (d['requirements'] = [{ name: 'r', predicateTypes: ['x'], functionaries: ['nobody'] }]));
    invalid((d) => (d['requirements'] = [{ name: 'r', predicateTypes: ['x'], functionaries: ['alice'], threshold: 0 }]));
    invalid((d) => (d['requirements'] = [{ name: 'r', predicateTypes: ['x'], functionaries: ['alice'], rules: ['predicate.x =='] }]));
    invalid((d) => (d['requirements'] = [{ name: 'r', predicateTypes: ['x'], functionaries: ['alice'], rules: ['unknownVar == 1'] }]));
    invalid((d) => (d['requirements'] = [{ name: 'r', predicateTypes: ['x'], functionaries: ['alice'], aggregateRules: ['predicate.x == 1'] }]));
    invalid((d) => (d['requirements'] = [{ name: 'r', predicateTypes: ['x'], functionaries: ['alice'], expectedProducts: ['CREATE x'] }]));
    invalid((d) => (d['requirements'] = [{ name: 'r', predicateTypes: ['x'], functionaries: ['alice'] }, { name: 'r', predicateTypes: ['y'], functionaries: ['alice'] }]));
    invalid((d) => (d['steps'] = [{ name: 's', predicateTypes: ['x'], functionaries: ['alice'], expectedMaterials: ['MATCH * WITH PRODUCTS FROM nowhere'] }]));
    invalid((d) => (d['steps'] = [{ name: 's', predicateTypes: ['x'], functionaries: ['alice'], expectedMaterials: ['FROB *'] }]));
    invalid((d) => (d['artifact'] = { producedBy: ['nowhere'] }));
    invalid((d) => (d['extraAttestations'] = 'sometimes'));
  });

  it('refuses YAML that is not a mapping or is malformed', () => {
    assert.throws(() => parsePolicyDocument('- a\n- b\n'), (e: unknown) => (e as { code?: string }).code === 'POLICY_INVALID');
    assert.throws(() => parsePolicyDocument('a: [\n'), (e: unknown) => (e as { code?: string }).code === 'POLICY_INVALID');
    assert.throws(() => parsePolicyDocument('a: 1\na: 2\n'), (e: unknown) => (e as { code?: string }).code === 'POLICY_INVALID');
  });
});

describe('signed policies', () => {
  it('signs the JSON form and opens it with the owners threshold', async () => {
    const envelope = await signPolicy(yamlPolicy, [alice.signer(), bob.signer()]);
    assert.equal(envelope.payloadType, 'application/vnd.custody.policy+json');
    const opened = openSignedPolicy(envelope, { keys: [alice.publicKey, bob.publicKey], threshold: 2 });
    assert.equal(opened.policy.name, 'demo');
    assert.equal(opened.signers.length, 2);
    assert.match(opened.digest['sha256'] ?? '', /^[0-9a-f]{64}$/);
  });

  it('refuses too few owner signatures and a changed payload type', async () => {
    const envelope = await signPolicy(yamlPolicy, [alice.signer()]);
    assert.throws(() => openSignedPolicy(envelope, { keys: [alice.publicKey, bob.publicKey], threshold: 2 }), (e: unknown) => (e as { code?: string }).code === 'THRESHOLD_NOT_MET');
    assert.throws(() => openSignedPolicy({ ...envelope, payloadType: 'application/json' }, { keys: [alice.publicKey], threshold: 1 }), (e: unknown) => (e as { code?: string }).code === 'PAYLOAD_TYPE_MISMATCH');
  });
});

describe('docs/policy.md', () => {
  it('has an example policy that parses once its placeholder keys are real', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const text = readFileSync(new URL('../../../docs/policy.md', import.meta.url), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(text)?.[1];
    assert.ok(block !== undefined);
    const doc = parse(block) as { functionaries: Record<string, unknown> };
    for (const [name, f] of Object.entries(doc.functionaries)) {
      if (!(typeof f === 'object' && f !== null && ('certificate' in f || 'keyless' in f))) doc.functionaries[name] = { publicKey: generateKeyPair('ed25519').publicKey.pem };
    }
    const p = parsePolicyDocument(doc);
    assert.deepEqual(p.requirements.map((r) => r.name), ['vulnerability-scan', 'rebuilds']);
    assert.equal(p.functionaries.get('release-bot')?.certificate?.issuer, 'https://token.actions.githubusercontent.com');
    assert.equal(p.functionaries.get('packager')?.certificate?.subject, '/https:\\/\\/custody\\.example\\/principals\\/[^/]+\\/steps\\/package/');
  });
});
