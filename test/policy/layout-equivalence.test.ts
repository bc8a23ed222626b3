// An in-toto v0.9 layout re-expressed as an attestation policy over DSSE link v0.3 attestations
// gives the same verdicts as the layout verifier on the same evidence (the artifact rule engine is
// shared; thresholds, authorization and missing steps are the policy's own). Layouts here have no
// inspections: a policy has no equivalent of running commands at verification time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IN_TOTO_PAYLOAD_TYPE, makeStatement, signEnvelope, type PrivateKey } from '../../src/core/index.ts';
import { ruleToString, type ArtifactMap, type Layout, type SignedLink } from '../../src/formats/index.ts';
import { evaluatePolicy, parsePolicyDocument, verifyLayout, type AttestationInput, type Policy } from '../../src/policy/index.ts';
import { FAR_FUTURE, HASH_A, HASH_B, HASH_C, NOW, functionary, layout, rules, signLayout, signLink, step } from '../intoto-v09/fixtures.ts';

const LINK_V03 = 'https://in-toto.io/attestation/link/v0.3';

function layoutAsPolicy(l: Layout): Policy {
  return parsePolicyDocument({
    _type: 'https://custody.dev/policy/v1',
    expires: l.expires,
    functionaries: Object.fromEntries(Object.entries(l.keys).map(([keyid, key]) => [keyid, { securesystemslib: key }])),
    steps: l.steps.map((s) => ({
      name: s.name,
      predicateTypes: [LINK_V03],
      functionaries: [...s.pubkeys],
      threshold: s.threshold,
      expectedMaterials: s.expectedMaterials.map(ruleToString),
      expectedProducts: s.expectedProducts.map(ruleToString),
    })),
  });
}

const descriptors = (m: ArtifactMap) => Object.entries(m).map(([name, digest]) => ({ name, digest: { ...digest } }));

/** The link as a Statement (link.md: products become subjects) in a DSSE envelope by the same keys. */
async function linkAsAttestation(link: SignedLink, signers: readonly PrivateKey[]): Promise<AttestationInput> {
  const l = link.signed;
  const statement = makeStatement(descriptors(l.products), LINK_V03, {
    name: l.name,
    command: [...l.command],
    materials: descriptors(l.materials),
    byproducts: l.byproducts,
    environment: l.environment,
  });
  const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode(JSON.stringify(statement)), signers.map((k) => k.signer()));
  return { envelope, source: `${l.name}.link` };
}

const alice = functionary('eq-alice');
const bob = functionary('eq-bob');
const carl = functionary('eq-carl');
const owner = functionary('eq-owner');

function supplyChain(buildThreshold = 1): Layout {
  return layout({
    functionaries: [alice, bob, carl],
    expires: FAR_FUTURE,
    steps: [
      step({ name: 'write-code', pubkeys: [alice.keyid], expectedProducts: rules('CREATE src/hello.c', 'DISALLOW *') }),
      step({
        name: 'build',
        pubkeys: [bob.keyid, carl.keyid],
        threshold: buildThreshold,
        expectedMaterials: rules('MATCH src/hello.c WITH PRODUCTS FROM write-code', 'DISALLOW *'),
        expectedProducts: rules('CREATE out/hello', 'DISALLOW *'),
      }),
      step({
        name: 'package',
        pubkeys: [alice.keyid],
        expectedMaterials: rules('MATCH out/hello WITH PRODUCTS FROM build', 'DISALLOW *'),
        expectedProducts: rules('CREATE hello.tar.gz', 'DISALLOW *'),
      }),
    ],
  });
}

interface Evidence {
  readonly link: SignedLink;
  readonly by: readonly PrivateKey[];
}

async function evidence(fields: Parameters<typeof signLink>[0], ...by: PrivateKey[]): Promise<Evidence> {
  return { link: await signLink(fields, ...by), by };
}

async function goodLinks(): Promise<Evidence[]> {
  return [
    await evidence({ name: 'write-code', products: { 'src/hello.c': HASH_A } }, alice.key),
    await evidence({ name: 'build', materials: { 'src/hello.c': HASH_A }, products: { 'out/hello': HASH_B } }, bob.key),
    await evidence({ name: 'package', materials: { 'out/hello': HASH_B }, products: { 'hello.tar.gz': HASH_C } }, alice.key),
  ];
}

async function bothVerdicts(l: Layout, links: readonly Evidence[]): Promise<{ layout: boolean; policy: boolean; policyCodes: string[] }> {
  const byStep: Record<string, Record<string, SignedLink>> = {};
  for (const e of links) {
    for (const k of e.by) (byStep[e.link.signed.name] ??= {})[k.publicKey.keyid] = e.link;
  }
  const report = await verifyLayout({ layout: await signLayout(l, owner.key), layoutKeys: [owner.key.publicKey], links: byStep, referenceTime: NOW });
  const attestations = await Promise.all(links.map((e) => linkAsAttestation(e.link, e.by)));
  const verdict = evaluatePolicy({ document: layoutAsPolicy(l) }, attestations, { allowUnsignedPolicy: true }, { artifactDigest: HASH_C, now: NOW });
  return { layout: report.passed, policy: verdict.passed, policyCodes: verdict.issues.filter((i) => i.severity === 'error').map((i) => i.code) };
}

describe('an in-toto layout re-expressed as a policy', () => {
  it('passes where the layout passes', async () => {
    const v = await bothVerdicts(supplyChain(), await goodLinks());
    assert.deepEqual(v, { layout: true, policy: true, policyCodes: [] });
  });

  it('fails where a product changes between steps (MATCH, then DISALLOW)', async () => {
    const links = await goodLinks();
    links[2] = await evidence({ name: 'package', materials: { 'out/hello': HASH_A }, products: { 'hello.tar.gz': HASH_C } }, alice.key);
    const v = await bothVerdicts(supplyChain(), links);
    assert.deepEqual([v.layout, v.policy], [false, false]);
    assert.deepEqual(v.policyCodes, ['ARTIFACT_RULE_FAILED']);
  });

  it('fails where a step creates an unexpected product', async () => {
    const links = await goodLinks();
    links[0] = await evidence({ name: 'write-code', products: { 'src/hello.c': HASH_A, 'src/backdoor.c': HASH_B } }, alice.key);
    const v = await bothVerdicts(supplyChain(), links);
    assert.deepEqual([v.layout, v.policy], [false, false]);
  });

  it('fails where a step has no link', async () => {
    const links = (await goodLinks()).filter((e) => e.link.signed.name !== 'build');
    const v = await bothVerdicts(supplyChain(), links);
    assert.deepEqual([v.layout, v.policy], [false, false]);
    assert.ok(v.policyCodes.includes('ATTESTATION_MISSING'));
  });

  it('fails where the link is signed by a functionary of another step', async () => {
    const links = await goodLinks();
    links[1] = await evidence({ name: 'build', materials: { 'src/hello.c': HASH_A }, products: { 'out/hello': HASH_B } }, alice.key);
    const v = await bothVerdicts(supplyChain(), links);
    assert.deepEqual([v.layout, v.policy], [false, false]);
  });

  it('agrees on thresholds: two distinct functionaries pass, one does not', async () => {
    const links = await goodLinks();
    const v1 = await bothVerdicts(supplyChain(2), links);
    assert.deepEqual([v1.layout, v1.policy], [false, false]);
    links.push(await evidence({ name: 'build', materials: { 'src/hello.c': HASH_A }, products: { 'out/hello': HASH_B } }, carl.key));
    const v2 = await bothVerdicts(supplyChain(2), links);
    assert.deepEqual([v2.layout, v2.policy], [true, true]);
  });

  it('agrees that links of one step must report the same artifacts', async () => {
    const links = await goodLinks();
    links.push(await evidence({ name: 'build', materials: { 'src/hello.c': HASH_A }, products: { 'out/hello': HASH_C } }, carl.key));
    const v = await bothVerdicts(supplyChain(2), links);
    assert.deepEqual([v.layout, v.policy], [false, false]);
    assert.ok(v.policyCodes.includes('ARTIFACTS_DISAGREE'));
  });
});
