// Interop with the in-toto reference implementation both ways:
//  A. layouts and links made and signed by custody are verified by `in-toto-verify`, and custody's
//     verdict agrees on good and broken supply chains;
//  B. keys, links and a layout made by the reference tools verify in custody, and custody writes
//     their files back byte for byte.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { digestSetOfBytes, publicKeyFromSecuresystemslib, type DigestSet } from '../../src/core/index.ts';
import {
  formatLikeReference,
  linkFileName,
  makeLink,
  metadataToJson,
  parseArtifactRuleString,
  parseSignedLayout,
  parseSignedMetadata,
  type Layout,
  type SignedMetadata,
} from '../../src/formats/index.ts';
import { expectedLinkFiles, verifyLayout, type InspectionRunner, type LayoutVerificationReport, type StepLinks } from '../../src/policy/index.ts';
import { haveComponents } from '../support/components.ts';
import { FAR_FUTURE, functionary, inspection, layout, rules, signLayout, signLink, step } from './fixtures.ts';
import { PYTHON, haveReference } from './reference.ts';

const SOURCE = 'int main(void) { return 0; }\n';
const BINARY = 'not really a binary\n';

function write(dir: string, path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
}

/** What in-toto records for '.': every file, '/'-separated relative paths, default excludes applied. */
function hashTree(dir: string): Record<string, DigestSet> {
  const out: Record<string, DigestSet> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (name === '.git' || /\.link/.test(name) || name.endsWith('.pyc') || name.endsWith('~')) continue;
      if (statSync(full).isDirectory()) walk(full);
      else out[relative(dir, full)] = digestSetOfBytes(readFileSync(full));
    }
  };
  walk(dir);
  return out;
}

/** Runs inspections like in-toto-verify: in the directory, '.' as materials and products. */
function directoryRunner(dir: string): InspectionRunner {
  return {
    run: (insp) => {
      const materials = hashTree(dir);
      const r = spawnSync(insp.run[0] ?? 'false', insp.run.slice(1), { cwd: dir, encoding: 'utf8' });
      return Promise.resolve(
        makeLink({ name: insp.name, materials, products: hashTree(dir), byproducts: { stdout: r.stdout, stderr: r.stderr, 'return-value': r.status ?? -1 }, command: [...insp.run] }),
      );
    },
  };
}

/** Loads the link files in-toto-verify would load, as custody's CLI does. */
function loadLinks(dir: string, l: Layout): StepLinks {
  const links: Record<string, Record<string, SignedMetadata>> = {};
  for (const { step: name, keyid, fileName } of expectedLinkFiles(l)) {
    const path = join(dir, fileName);
    if (!existsSync(path)) continue;
    (links[name] ??= {})[keyid] = parseSignedMetadata(JSON.parse(readFileSync(path, 'utf8')));
  }
  return links;
}

function inTotoVerify(dir: string, keyFile: string): { status: number | null; output: string } {
  const r = spawnSync('in-toto-verify', ['-v', '-l', 'root.layout', '-k', keyFile, '-t', 'ed25519'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

async function custodyVerify(dir: string, keyFile: string): Promise<LayoutVerificationReport> {
  const signed = parseSignedLayout(JSON.parse(readFileSync(join(dir, 'root.layout'), 'utf8')));
  return verifyLayout({
    layout: signed,
    layoutKeys: [publicKeyFromSecuresystemslib(JSON.parse(readFileSync(join(dir, keyFile), 'utf8')))],
    links: loadLinks(dir, signed.signed),
    referenceTime: new Date(),
    inspectionRunner: directoryRunner(dir),
  });
}

describe('custody-made layouts and links in in-toto-verify', () => {
  const owner = functionary('interop-owner');
  const alice = functionary('interop-alice', 'ed25519');
  const bob = functionary('interop-bob', 'ecdsa-p256');
  const carol = functionary('interop-carol', 'rsa');
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  type Variant = 'good' | 'tampered-link' | 'extra-product' | 'modified-after-build' | 'expired';

  async function setUp(variant: Variant): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), `custody-intoto-${variant}-`));
    dirs.push(dir);
    write(dir, 'src/main.c', SOURCE);
    write(dir, 'out/app', BINARY);
    const src = digestSetOfBytes(SOURCE);
    const app = digestSetOfBytes(BINARY);
    const l = layout({
      functionaries: [alice, bob, carol],
      readme: 'héllo ✓ "quoted" \\ supply chain',
      expires: variant === 'expired' ? new Date('2020-01-01T00:00:00Z') : FAR_FUTURE,
      steps: [
        step({ name: 'clone', pubkeys: [alice.keyid], expectedCommand: ['git', 'clone'], expectedProducts: rules('CREATE src/*', 'DISALLOW *') }),
        step({
          name: 'build',
          pubkeys: [bob.keyid],
          expectedCommand: ['make'],
          expectedMaterials: rules('match src/* with products from clone', 'DISALLOW *'),
          expectedProducts: rules('CREATE out/app', 'DISALLOW *'),
        }),
        step({
          name: 'package',
          pubkeys: [carol.keyid],
          expectedMaterials: rules('MATCH app IN out WITH PRODUCTS IN out FROM build', 'DISALLOW *'),
          expectedProducts: rules('ALLOW out/app', 'DISALLOW *'),
        }),
      ],
      inspect: [
        inspection({
          name: 'check',
          run: ['test', '-f', 'out/app'],
          expectedMaterials: [
            ...rules('MATCH out/app WITH PRODUCTS FROM build', 'MATCH src/* WITH PRODUCTS FROM clone'),
            ...rules('ALLOW root.layout', 'ALLOW owner.pub', 'DISALLOW *'),
          ],
        }),
      ],
    });
    const signedLayout = await signLayout(l, owner.key);
    writeFileSync(join(dir, 'root.layout'), formatLikeReference(metadataToJson(signedLayout)));
    writeFileSync(join(dir, 'owner.pub'), JSON.stringify(owner.key.publicKey.toSecuresystemslib()));

    const buildProducts = variant === 'extra-product' ? { 'out/app': app, 'out/debug': app } : { 'out/app': app };
    const links = [
      { name: 'clone', by: alice, link: await signLink({ name: 'clone', products: { 'src/main.c': src }, command: ['git', 'clone'] }, alice.key) },
      { name: 'build', by: bob, link: await signLink({ name: 'build', materials: { 'src/main.c': src }, products: buildProducts, command: ['make'] }, bob.key) },
      { name: 'package', by: carol, link: await signLink({ name: 'package', materials: { 'out/app': app }, products: { 'out/app': app } }, carol.key) },
    ];
    for (const { name, by, link } of links) {
      let text = formatLikeReference(metadataToJson(link));
      if (variant === 'tampered-link' && name === 'build') text = text.replace(app['sha256'] as string, 'f'.repeat(64));
      writeFileSync(join(dir, linkFileName(name, by.keyid)), text);
    }
    if (variant === 'modified-after-build') write(dir, 'out/app', 'trojan\n');
    return dir;
  }

  before(() => {
    // RSA key generation is slow: do it once, outside the timed tests.
    functionary('interop-carol', 'rsa');
  });

  // variant, passes, custody's first failure, the reference's exception
  const expectations: [Variant, boolean, string | undefined, string][] = [
    ['good', true, undefined, 'passed all verification'],
    ['tampered-link', false, 'STEP_THRESHOLD_NOT_MET', 'ThresholdVerificationError'],
    ['extra-product', false, 'RULE_DISALLOWED', 'RuleVerificationError'],
    ['modified-after-build', false, 'RULE_DISALLOWED', 'RuleVerificationError'],
    ['expired', false, 'LAYOUT_EXPIRED', 'LayoutExpiredError'],
  ];
  for (const [variant, passes, firstCode, referenceSays] of expectations) {
    it(`agrees with in-toto-verify on a ${variant} supply chain (${passes ? 'pass' : 'fail'})`, async (t) => {
      if (!haveComponents(t, 'in-toto-verify')) return;
      const dir = await setUp(variant);
      const reference = inTotoVerify(dir, 'owner.pub');
      assert.equal(reference.status, passes ? 0 : 1, reference.output);
      assert.match(reference.output, new RegExp(referenceSays));
      const ours = await custodyVerify(dir, 'owner.pub');
      assert.equal(ours.passed, passes, JSON.stringify(ours.failures));
      assert.equal(ours.referenceStop?.code, firstCode);
    });
  }
});

describe('custody-made sublayouts and thresholds in in-toto-verify', () => {
  const owner = functionary('interop-owner');
  const alice = functionary('interop-alice', 'ed25519');
  const bob = functionary('interop-bob', 'ecdsa-p256');
  const dave = functionary('interop-dave');
  const erin = functionary('interop-erin');
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** clone by alice AND dave (threshold 2); build delegated by bob to a sublayout performed by erin. */
  async function setUp(compileProducts: Record<string, DigestSet>): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'custody-intoto-sub-'));
    dirs.push(dir);
    const src = digestSetOfBytes(SOURCE);
    const l = layout({
      functionaries: [alice, bob, dave],
      steps: [
        step({ name: 'clone', pubkeys: [alice.keyid, dave.keyid], threshold: 2, expectedProducts: rules('CREATE src/*', 'DISALLOW *') }),
        step({ name: 'build', pubkeys: [bob.keyid], expectedMaterials: rules('MATCH src/* WITH PRODUCTS FROM clone', 'DISALLOW *'), expectedProducts: rules('ALLOW out/*') }),
      ],
    });
    writeFileSync(join(dir, 'root.layout'), formatLikeReference(metadataToJson(await signLayout(l, owner.key))));
    writeFileSync(join(dir, 'owner.pub'), JSON.stringify(owner.key.publicKey.toSecuresystemslib()));
    for (const f of [alice, dave]) {
      const link = await signLink({ name: 'clone', products: { 'src/main.c': src } }, f.key);
      writeFileSync(join(dir, linkFileName('clone', f.keyid)), formatLikeReference(metadataToJson(link)));
    }
    const sub = layout({
      functionaries: [erin],
      steps: [step({ name: 'compile', pubkeys: [erin.keyid], expectedProducts: rules('CREATE out/app', 'DISALLOW *') })],
    });
    writeFileSync(join(dir, linkFileName('build', bob.keyid)), formatLikeReference(metadataToJson(await signLayout(sub, bob.key))));
    const subDir = join(dir, `build.${bob.keyid.slice(0, 8)}`);
    mkdirSync(subDir);
    const compile = await signLink({ name: 'compile', materials: { 'src/main.c': src }, products: compileProducts }, erin.key);
    writeFileSync(join(subDir, linkFileName('compile', erin.keyid)), formatLikeReference(metadataToJson(compile)));
    return dir;
  }

  async function verifyHere(dir: string): Promise<LayoutVerificationReport> {
    const signed = parseSignedLayout(JSON.parse(readFileSync(join(dir, 'root.layout'), 'utf8')));
    return verifyLayout({
      layout: signed,
      layoutKeys: [owner.key.publicKey],
      links: loadLinks(dir, signed.signed),
      referenceTime: new Date(),
      loadSublayoutLinks: ({ path, layout: sub }) => Promise.resolve(loadLinks(join(dir, ...path.map((p) => p.dirName)), sub)),
    });
  }

  for (const [what, products, passes] of [
    ['passes', { 'out/app': digestSetOfBytes(BINARY) }, true],
    ['fails inside the sublayout', { 'out/app': digestSetOfBytes(BINARY), 'out/x': digestSetOfBytes(BINARY) }, false],
  ] as const) {
    it(`agrees with in-toto-verify when the sublayout ${what}`, async (t) => {
      if (!haveComponents(t, 'in-toto-verify')) return;
      const dir = await setUp(products);
      const reference = inTotoVerify(dir, 'owner.pub');
      assert.equal(reference.status, passes ? 0 : 1, reference.output);
      const ours = await verifyHere(dir);
      assert.equal(ours.passed, passes, JSON.stringify(ours.failures, null, 1));
      if (!passes) {
        assert.equal(ours.referenceStop?.code, 'SUBLAYOUT_FAILED');
        assert.match(reference.output, /RuleVerificationError/);
      }
    });
  }
});

const MAKE_LAYOUT = `
import sys
from in_toto.models.layout import Layout
from in_toto.models.metadata import Metablock
from securesystemslib.interface import import_ed25519_privatekey_from_file, import_ed25519_publickey_from_file
owner = import_ed25519_privatekey_from_file('owner')
alice = import_ed25519_publickey_from_file('alice.pub')
layout = Layout.read({
  "_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "made by the reference",
  "keys": {alice["keyid"]: alice},
  "steps": [
    {"name": "clone", "pubkeys": [alice["keyid"]], "expected_command": ["true"],
     "expected_products": [["CREATE", "src/*"], ["DISALLOW", "*"]]},
    {"name": "build", "pubkeys": [alice["keyid"]], "expected_command": ["sh", "-c", "mkdir -p out && cp src/main.c out/app"],
     "expected_materials": [["MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "clone"], ["DISALLOW", "*"]],
     "expected_products": [["CREATE", "out/app"], ["DISALLOW", "*"]]},
  ],
  "inspect": [],
})
metablock = Metablock(signed=layout)
metablock.sign(owner)
metablock.dump('root.layout')
`;

describe('reference-made keys, links and layouts in custody', () => {
  let dir = '';
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('verifies them, agrees on a violation, and rewrites the files byte for byte', async (t) => {
    if (!haveReference(t) || !haveComponents(t, 'in-toto-keygen', 'in-toto-run')) return;
    dir = mkdtempSync(join(tmpdir(), 'custody-intoto-ref-'));
    const run = (cmd: string, args: string[]): void => {
      const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    };
    run('in-toto-keygen', ['-t', 'ed25519', 'owner']);
    run('in-toto-keygen', ['-t', 'ed25519', 'alice']);
    write(dir, 'src/main.c', SOURCE);
    run('in-toto-run', ['-n', 'clone', '-k', 'alice', '-t', 'ed25519', '-p', 'src', '--', 'true']);
    run('in-toto-run', ['-n', 'build', '-k', 'alice', '-t', 'ed25519', '-m', 'src', '-p', 'out', '--', 'sh', '-c', 'mkdir -p out && cp src/main.c out/app']);
    run(PYTHON, ['-c', MAKE_LAYOUT]);

    const report = await custodyVerify(dir, 'owner.pub');
    assert.deepEqual(report.failures, []);
    assert.deepEqual(report.warnings, []);
    assert.deepEqual(report.summaryLink?.products, { 'out/app': digestSetOfBytes(SOURCE) });

    // Byte-identical re-serialization of everything the reference wrote.
    const files = ['root.layout', ...readdirSync(dir).filter((f) => f.endsWith('.link'))];
    assert.equal(files.length, 3);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      assert.equal(formatLikeReference(metadataToJson(parseSignedMetadata(JSON.parse(text)))), text, f);
    }

    // The build step now leaves an unexpected product: both implementations reject it.
    run('in-toto-run', ['-n', 'build', '-k', 'alice', '-t', 'ed25519', '-m', 'src', '-p', 'out', '--', 'sh', '-c', 'cp src/main.c out/app && touch out/extra']);
    const reference = inTotoVerify(dir, 'owner.pub');
    assert.equal(reference.status, 1, reference.output);
    const after = await custodyVerify(dir, 'owner.pub');
    assert.deepEqual(
      after.failures.map((f) => [f.code, f.item, f.artifact]),
      [['RULE_DISALLOWED', 'build', 'out/extra']],
    );
    // Sanity: the parsed rule text matches what the reference wrote.
    assert.equal(parseArtifactRuleString('CREATE out/app').raw.join(' '), 'CREATE out/app');
  });
});
