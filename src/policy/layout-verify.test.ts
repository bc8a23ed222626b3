import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, PolicyError, VerificationError } from '../core/index.ts';
import { makeLink, type Link, type SignedLayout, type SignedMetadata } from '../formats/index.ts';
import {
  FAR_FUTURE,
  HASH_A,
  HASH_B,
  NOW,
  functionary,
  inspection,
  layout,
  rules,
  signLayout,
  signLink,
  step,
} from '../../test/intoto-v09/fixtures.ts';
import { layoutVerificationError } from './layout-report.ts';
import { expectedLinkFiles, verifyLayout, type InspectionRunner, type StepLinks, type VerifyLayoutInput } from './layout-verify.ts';

const owner = functionary('owner');
const owner2 = functionary('owner2');
const alice = functionary('alice');
const bob = functionary('bob');
const carol = functionary('carol');

/** clone (alice) → build (bob): build's materials must match clone's products. */
function chain(overrides: { buildThreshold?: number; buildPubkeys?: string[]; expires?: Date } = {}) {
  return layout({
    functionaries: [alice, bob, carol],
    expires: overrides.expires ?? FAR_FUTURE,
    steps: [
      step({ name: 'clone', pubkeys: [alice.keyid], expectedCommand: ['git', 'clone'], expectedProducts: rules('CREATE src/*', 'DISALLOW *') }),
      step({
        name: 'build',
        pubkeys: overrides.buildPubkeys ?? [bob.keyid],
        threshold: overrides.buildThreshold ?? 1,
        expectedCommand: ['make'],
        expectedMaterials: rules('MATCH src/* WITH PRODUCTS FROM clone', 'DISALLOW *'),
        expectedProducts: rules('CREATE dist/app', 'DISALLOW *'),
      }),
    ],
  });
}

async function chainLinks(build: { products?: Record<string, typeof HASH_A> } = {}): Promise<Record<string, SignedMetadata>> {
  return {
    clone: await signLink({ name: 'clone', products: { 'src/main.c': HASH_A }, command: ['git', 'clone'] }, alice.key),
    build: await signLink({ name: 'build', materials: { 'src/main.c': HASH_A }, products: build.products ?? { 'dist/app': HASH_B }, command: ['make'] }, bob.key),
  };
}

function linksFor(m: Record<string, SignedMetadata>, keyids: Record<string, string> = {}): StepLinks {
  const defaults: Record<string, string> = { clone: alice.keyid, build: bob.keyid, ...keyids };
  const out: Record<string, Record<string, SignedMetadata>> = {};
  for (const [stepName, metadata] of Object.entries(m)) out[stepName] = { [defaults[stepName] ?? '']: metadata };
  return out;
}

async function verify(signed: SignedLayout, links: StepLinks, extra: Partial<VerifyLayoutInput> = {}) {
  return verifyLayout({ layout: signed, layoutKeys: [owner.key.publicKey], links, referenceTime: NOW, ...extra });
}

const codes = (r: { failures: readonly { code: string }[] }): string[] => r.failures.map((f) => f.code);

describe('verifyLayout', () => {
  describe('when the supply chain follows the layout', () => {
    it('passes and summarizes it', async () => {
      const r = await verify(await signLayout(chain(), owner.key), linksFor(await chainLinks()));
      assert.deepEqual(codes(r), []);
      assert.equal(r.passed, true);
      assert.deepEqual(r.layoutSignatures, [{ keyid: owner.keyid, status: 'valid' }]);
      assert.deepEqual(r.steps.map((s) => [s.name, s.links[0]?.status, s.verifiedFunctionaries, s.passed]), [
        ['clone', 'verified', 1, true],
        ['build', 'verified', 1, true],
      ]);
      assert.deepEqual(r.steps[1]?.materialRules?.outcomes[0]?.consumed, ['src/main.c']);
      assert.deepEqual(r.summaryLink?.materials, {});
      assert.deepEqual(r.summaryLink?.products, { 'dist/app': HASH_B });
      assert.deepEqual(r.warnings, []);
      assert.equal(layoutVerificationError(r), undefined);
    });
  });

  describe('layout signatures', () => {
    it('fails and stops when the layout is not signed by the given key', async () => {
      const r = await verify(await signLayout(chain(), owner2.key), linksFor(await chainLinks()));
      assert.deepEqual(codes(r), ['LAYOUT_SIGNATURE_INVALID']);
      assert.deepEqual(r.layoutSignatures, [{ keyid: owner.keyid, status: 'missing' }]);
      assert.deepEqual(r.steps, []);
      const e = layoutVerificationError(r);
      assert.ok(e instanceof VerificationError && e.code === 'SIGNATURE_INVALID');
    });

    it('fails when the layout was changed after signing', async () => {
      const signed = await signLayout(chain(), owner.key);
      const tampered: SignedLayout = { ...signed, signed: { ...signed.signed, readme: 'changed' } };
      const r = await verify(tampered, linksFor(await chainLinks()));
      assert.deepEqual(r.layoutSignatures, [{ keyid: owner.keyid, status: 'invalid' }]);
      assert.deepEqual(codes(r), ['LAYOUT_SIGNATURE_INVALID']);
    });

    it('demands every key by default and a threshold of distinct keys when asked', async () => {
      const signed = await signLayout(chain(), owner.key);
      const links = linksFor(await chainLinks());
      const keys = [owner.key.publicKey, owner2.key.publicKey];
      assert.deepEqual(codes(await verify(signed, links, { layoutKeys: keys })), ['LAYOUT_SIGNATURE_INVALID']);
      assert.deepEqual(codes(await verify(signed, links, { layoutKeys: keys, layoutThreshold: 1 })), []);
      // The same key given twice counts once.
      await assert.rejects(
        verify(signed, links, { layoutKeys: [owner.key.publicKey, owner.key.publicKey], layoutThreshold: 2 }),
        (e: unknown) => e instanceof InputError && e.code === 'INPUT_INVALID',
      );
      const both = await signLayout(chain(), owner.key, owner2.key);
      assert.deepEqual(codes(await verify(both, links, { layoutKeys: keys })), []);
    });

    it('refuses unusable input', async () => {
      const signed = await signLayout(chain(), owner.key);
      const bad = (extra: Partial<VerifyLayoutInput>) =>
        assert.rejects(verify(signed, {}, extra), (e: unknown) => e instanceof InputError && e.code === 'INPUT_INVALID');
      await bad({ layoutKeys: [] });
      await bad({ layoutThreshold: 0 });
      await bad({ layoutThreshold: 2 });
      await bad({ parameters: { 'not valid': 'x' } });
      await bad({ referenceTime: new Date('nonsense') });
    });
  });

  describe('expiry', () => {
    it('fails an expired layout but still checks the evidence', async () => {
      const signed = await signLayout(chain({ expires: new Date('2030-06-01T11:59:59Z') }), owner.key);
      const links = await chainLinks();
      delete links['build'];
      const r = await verify(signed, linksFor(links));
      assert.equal(r.expired, true);
      assert.deepEqual(codes(r), ['LAYOUT_EXPIRED', 'LINKS_MISSING', 'STEP_THRESHOLD_NOT_MET']);
      assert.equal(r.referenceStop?.code, 'LAYOUT_EXPIRED');
      const e = layoutVerificationError(r);
      assert.ok(e instanceof VerificationError && e.code === 'EXPIRED');
    });

    it('accepts a layout expiring exactly at the reference time', async () => {
      const r = await verify(await signLayout(chain({ expires: NOW }), owner.key), linksFor(await chainLinks()));
      assert.equal(r.passed, true);
    });
  });

  describe('functionaries and thresholds', () => {
    it('fails a missing step and goes on checking the others', async () => {
      const links = await chainLinks();
      delete links['clone'];
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links));
      assert.deepEqual(codes(r), ['LINKS_MISSING', 'STEP_THRESHOLD_NOT_MET', 'RULE_DISALLOWED']);
      assert.deepEqual(r.steps[0]?.links, [{ keyid: alice.keyid, status: 'missing', sublayout: false }]);
      // build's MATCH found no clone link, so DISALLOW caught its material.
      assert.deepEqual([r.failures[2]?.item, r.failures[2]?.sourceType, r.failures[2]?.artifact], ['build', 'materials', 'src/main.c']);
      const e = layoutVerificationError(r);
      assert.ok(e instanceof VerificationError && e.code === 'THRESHOLD_NOT_MET');
    });

    it('ignores a link signed by a key that is not authorized for the step', async () => {
      const links = await chainLinks();
      links['build'] = await signLink({ name: 'build', materials: { 'src/main.c': HASH_A }, products: { 'dist/app': HASH_B }, command: ['make'] }, carol.key);
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links));
      assert.deepEqual(r.steps[1]?.links, [{ keyid: bob.keyid, status: 'signature-missing', sublayout: false }]);
      assert.deepEqual(codes(r), ['STEP_THRESHOLD_NOT_MET']);
    });

    it('does not count a key id that the layout lists for a step but has no key for', async () => {
      const l = chain();
      const withoutBob = { ...l, keys: Object.fromEntries(Object.entries(l.keys).filter(([k]) => k !== bob.keyid)) };
      const r = await verify(await signLayout(withoutBob, owner.key), linksFor(await chainLinks()));
      assert.equal(r.steps[1]?.links[0]?.status, 'unauthorized');
      assert.deepEqual(codes(r), ['STEP_THRESHOLD_NOT_MET']);
    });

    it('rejects a tampered link', async () => {
      const links = await chainLinks();
      const build = links['build'] as SignedMetadata & { type: 'link' };
      links['build'] = { ...build, signed: { ...build.signed, products: { 'dist/app': HASH_A } } };
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links));
      assert.equal(r.steps[1]?.links[0]?.status, 'signature-invalid');
      assert.deepEqual(codes(r), ['STEP_THRESHOLD_NOT_MET']);
    });

    it('checks only the first signature by the authorized key id', async () => {
      const links = await chainLinks();
      const build = links['build'] as SignedMetadata;
      links['build'] = { ...build, signatures: [{ keyid: bob.keyid, sig: '00'.repeat(64) }, ...build.signatures] };
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links));
      assert.equal(r.steps[1]?.links[0]?.status, 'signature-invalid');
    });

    it('requires threshold links from distinct functionaries that agree', async () => {
      const signed = await signLayout(chain({ buildThreshold: 2, buildPubkeys: [bob.keyid, carol.keyid] }), owner.key);
      const fields = { name: 'build', materials: { 'src/main.c': HASH_A }, products: { 'dist/app': HASH_B }, command: ['make'] };
      const links = await chainLinks();
      const byBob = await signLink(fields, bob.key);
      const byCarol = await signLink(fields, carol.key);
      const stepLinks = (build: Record<string, SignedMetadata>): StepLinks => ({ clone: { [alice.keyid]: links['clone'] as SignedMetadata }, build });

      assert.deepEqual(codes(await verify(signed, stepLinks({ [bob.keyid]: byBob, [carol.keyid]: byCarol }))), []);
      assert.deepEqual(codes(await verify(signed, stepLinks({ [bob.keyid]: byBob }))), ['LINKS_MISSING', 'STEP_THRESHOLD_NOT_MET']);
      // The same signed link filed under both key ids is one functionary.
      assert.deepEqual(codes(await verify(signed, stepLinks({ [bob.keyid]: byBob, [carol.keyid]: byBob }))), ['STEP_THRESHOLD_NOT_MET']);
      const disagreeing = await signLink({ ...fields, products: { 'dist/app': HASH_A } }, carol.key);
      const r = await verify(signed, stepLinks({ [bob.keyid]: byBob, [carol.keyid]: disagreeing }));
      assert.deepEqual(codes(r), ['LINKS_DISAGREE']);
      assert.equal(r.failures[0]?.keyid, carol.keyid);
    });

    it('reports a functionary key that cannot be used', async () => {
      const l = chain();
      const { keyid: _dropped, ...noKeyid } = bob.layoutKey;
      const broken = { ...l, keys: { ...l.keys, [bob.keyid]: noKeyid } };
      const r = await verify(await signLayout(broken, owner.key), linksFor(await chainLinks()));
      assert.deepEqual(codes(r), ['FUNCTIONARY_KEY_INVALID', 'STEP_THRESHOLD_NOT_MET']);
      assert.equal(r.steps[1]?.links[0]?.status, 'key-invalid');
    });

    it('fails a step with threshold 0 and no link, as the reference does', async () => {
      const l = chain();
      const zero = { ...l, steps: [l.steps[0] as never, { ...(l.steps[1] as object), threshold: 0 } as never] };
      const links = await chainLinks();
      delete links['build'];
      assert.deepEqual(codes(await verify(await signLayout(zero, owner.key), linksFor(links))), ['STEP_WITHOUT_LINK']);
    });

    it('only warns when a command differs from the expected one', async () => {
      const links = await chainLinks();
      links['build'] = await signLink({ name: 'build', materials: { 'src/main.c': HASH_A }, products: { 'dist/app': HASH_B }, command: ['make', '-j'] }, bob.key);
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links));
      assert.equal(r.passed, true);
      assert.deepEqual(r.warnings.map((w) => [w.code, w.item]), [['COMMAND_MISMATCH', 'build']]);
    });
  });

  describe('artifact rules', () => {
    it('reports every rule failure with step, rule and artifact', async () => {
      const links = await chainLinks({ products: { 'dist/app': HASH_B, 'dist/extra': HASH_B, 'dist/more': HASH_A } });
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links));
      assert.deepEqual(
        r.failures.map((f) => [f.code, f.stage, f.item, f.sourceType, f.rule, f.artifact]),
        [
          ['RULE_DISALLOWED', 'step-rules', 'build', 'products', 'DISALLOW *', 'dist/extra'],
          ['RULE_DISALLOWED', 'step-rules', 'build', 'products', 'DISALLOW *', 'dist/more'],
        ],
      );
      const e = layoutVerificationError(r);
      assert.ok(e instanceof PolicyError && e.code === 'RULE_FAILED');
    });

    it('catches a material that does not match the previous step’s product', async () => {
      const links = await chainLinks();
      links['build'] = await signLink({ name: 'build', materials: { 'src/main.c': HASH_B }, products: { 'dist/app': HASH_B }, command: ['make'] }, bob.key);
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links));
      assert.deepEqual(r.failures.map((f) => [f.item, f.sourceType, f.artifact]), [['build', 'materials', 'src/main.c']]);
    });
  });

  describe('parameter substitution', () => {
    const parameterized = () =>
      layout({
        functionaries: [alice],
        steps: [step({ name: 'pkg', pubkeys: [alice.keyid], expectedProducts: rules('CREATE {name}-{version}.tar', 'DISALLOW *') })],
      });
    const pkgLink = () => signLink({ name: 'pkg', products: { 'app-1.0.tar': HASH_A } }, alice.key);

    it('substitutes parameters before applying rules', async () => {
      const r = await verify(await signLayout(parameterized(), owner.key), { pkg: { [alice.keyid]: await pkgLink() } }, { parameters: { name: 'app', version: '1.0' } });
      assert.deepEqual(codes(r), []);
    });

    it('fails when a parameter is missing, and substitutes nothing without parameters', async () => {
      const signed = await signLayout(parameterized(), owner.key);
      const links = { pkg: { [alice.keyid]: await pkgLink() } };
      assert.deepEqual(codes(await verify(signed, links, { parameters: { name: 'app' } })), ['PARAMETER_MISSING']);
      // Without parameters the pattern is literal and the product is disallowed.
      assert.deepEqual(codes(await verify(signed, links)), ['RULE_DISALLOWED']);
    });
  });

  describe('inspections', () => {
    const withInspection = () => {
      const l = chain();
      return {
        ...l,
        inspect: [
          inspection({
            name: 'untar',
            run: ['tar', 'xf', 'dist/app'],
            expectedMaterials: rules('MATCH dist/app WITH PRODUCTS FROM build', 'ALLOW *'),
            expectedProducts: rules('MATCH src/* WITH PRODUCTS FROM clone', 'DISALLOW src/*'),
          }),
        ],
      };
    };
    const runner = (link: Link, calls: string[] = []): InspectionRunner => ({
      run: (i, context) => {
        calls.push(`${i.name}@${context.sublayoutPath.length}`);
        return Promise.resolve(link);
      },
    });
    const good = makeLink({
      name: 'untar',
      materials: { 'dist/app': HASH_B },
      products: { 'src/main.c': HASH_A },
      byproducts: { 'return-value': 0 },
    });

    it('runs inspections after the step rules and applies their rules', async () => {
      const calls: string[] = [];
      const r = await verify(await signLayout(withInspection(), owner.key), linksFor(await chainLinks()), { inspectionRunner: runner(good, calls) });
      assert.deepEqual(codes(r), []);
      assert.deepEqual(calls, ['untar@0']);
      assert.deepEqual(r.inspections.map((i) => [i.name, i.status, i.passed]), [['untar', 'passed', true]]);
    });

    it('fails on a non-zero return value or a rule violation', async () => {
      const signed = await signLayout(withInspection(), owner.key);
      const links = linksFor(await chainLinks());
      const nonZero = await verify(signed, links, { inspectionRunner: runner({ ...good, byproducts: { 'return-value': 1 } }) });
      assert.deepEqual(codes(nonZero), ['INSPECTION_FAILED']);
      assert.equal(nonZero.inspections[0]?.status, 'failed');
      const e = layoutVerificationError(nonZero);
      assert.ok(e instanceof PolicyError && e.code === 'POLICY_FAILED');
      const changed = await verify(signed, links, { inspectionRunner: runner({ ...good, products: { 'src/main.c': HASH_B } }) });
      assert.deepEqual(changed.failures.map((f) => [f.code, f.stage, f.item, f.artifact]), [['RULE_DISALLOWED', 'inspection-rules', 'untar', 'src/main.c']]);
    });

    it('never runs an inspection once verification has failed', async () => {
      const calls: string[] = [];
      const links = await chainLinks({ products: { 'dist/app': HASH_B, 'dist/evil': HASH_A } });
      const r = await verify(await signLayout(withInspection(), owner.key), linksFor(links), { inspectionRunner: runner(good, calls) });
      assert.deepEqual(calls, []);
      assert.deepEqual(codes(r), ['RULE_DISALLOWED']);
      assert.equal(r.inspections[0]?.status, 'skipped');
      assert.deepEqual(r.warnings.map((w) => w.code), ['INSPECTIONS_SKIPPED']);
    });

    it('fails when inspections exist but no runner was given, or the runner throws', async () => {
      const signed = await signLayout(withInspection(), owner.key);
      const links = linksFor(await chainLinks());
      assert.deepEqual(codes(await verify(signed, links)), ['INSPECTION_RUNNER_MISSING']);
      const throwing: InspectionRunner = { run: () => Promise.reject(new Error('boom')) };
      assert.deepEqual(codes(await verify(signed, links, { inspectionRunner: throwing })), ['INSPECTION_ERROR']);
    });
  });

  describe('sublayouts', () => {
    const dave = functionary('dave');
    // bob delegates "build" to a sublayout signed by bob, whose step "compile" dave performs.
    const sublayout = () =>
      layout({
        functionaries: [dave],
        steps: [step({ name: 'compile', pubkeys: [dave.keyid], expectedProducts: rules('CREATE dist/app', 'DISALLOW *') })],
      });
    const compileLink = (products: Record<string, typeof HASH_A> = { 'dist/app': HASH_B }) =>
      signLink({ name: 'compile', materials: { 'src/main.c': HASH_A }, products, command: ['cc'] }, dave.key);

    it('verifies the sublayout with the functionary key and uses its summary link', async () => {
      const links = await chainLinks();
      links['build'] = await signLayout(sublayout(), bob.key);
      const requests: string[] = [];
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links), {
        loadSublayoutLinks: async ({ path, layout: sub }) => {
          requests.push(`${path.map((p) => p.dirName).join('/')}:${expectedLinkFiles(sub).map((f) => f.fileName).join(',')}`);
          return { compile: { [dave.keyid]: await compileLink() } };
        },
      });
      assert.deepEqual(codes(r), []);
      assert.deepEqual(requests, [`build.${bob.keyid.slice(0, 8)}:compile.${dave.keyid.slice(0, 8)}.link`]);
      assert.deepEqual(r.steps[1]?.links, [{ keyid: bob.keyid, status: 'verified', sublayout: true }]);
      // The summary link carries compile's materials into build's MATCH rule.
      assert.deepEqual(r.steps[1]?.materialRules?.outcomes[0]?.consumed, ['src/main.c']);
      // Commands: compile expected none (inside the sublayout); the summary link's command (cc)
      // differs from build's expected (make).
      assert.deepEqual(r.warnings.map((w) => [w.code, w.item]), [
        ['COMMAND_MISMATCH', 'compile'],
        ['COMMAND_MISMATCH', 'build'],
      ]);
    });

    it('fails when the sublayout fails, with its report attached', async () => {
      const links = await chainLinks();
      links['build'] = await signLayout(sublayout(), bob.key);
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links), {
        loadSublayoutLinks: async () => ({ compile: { [dave.keyid]: await compileLink({ 'dist/app': HASH_B, 'dist/evil': HASH_A }) } }),
      });
      assert.equal(r.failures[0]?.code, 'SUBLAYOUT_FAILED');
      assert.deepEqual(codes(r.failures[0]?.sublayout ?? { failures: [] }), ['RULE_DISALLOWED']);
      const e = layoutVerificationError(r);
      assert.ok(e instanceof PolicyError && e.code === 'RULE_FAILED');
      assert.equal(r.steps[1]?.links[0]?.status, 'sublayout-failed');
    });

    it('fails when no loader for sublayout links was given', async () => {
      const links = await chainLinks();
      links['build'] = await signLayout(sublayout(), bob.key);
      const r = await verify(await signLayout(chain(), owner.key), linksFor(links));
      assert.equal(r.failures[0]?.code, 'SUBLAYOUT_LINKS_UNAVAILABLE');
    });
  });

  it('lists the link files in-toto-verify would look for', () => {
    assert.deepEqual(expectedLinkFiles(chain()).map((f) => f.fileName), [`clone.${alice.keyid.slice(0, 8)}.link`, `build.${bob.keyid.slice(0, 8)}.link`]);
  });
});
