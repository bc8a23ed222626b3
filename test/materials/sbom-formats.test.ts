// CycloneDX 1.6 and SPDX 2.3 output: the official CycloneDX test files classified by our
// validation path, our own reference checks, determinism, and the SBOM of this repository.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { checkBomReferences, readDirectory, toCycloneDx, toSpdx, validateCycloneDx, validateSpdx, type Inventory } from '../../src/sbom/index.ts';

const VECTORS = new URL('./fixtures/cyclonedx-1.6/', import.meta.url);
const REPO = new URL('../../', import.meta.url).pathname;
const tool = { name: 'custody', version: '0.0.0-test' };

const small: Inventory = {
  root: { name: 'app', version: '1.0.0', purl: 'pkg:npm/app@1.0.0' },
  components: [
    { ref: 'pkg:npm/b@1.0.0', type: 'npm', name: 'b', version: '1.0.0', purl: 'pkg:npm/b@1.0.0', hashes: { 'SHA-512': 'ab'.repeat(64) }, license: 'MIT OR Apache-2.0', scope: 'dev', dependencies: [] },
    { ref: 'pkg:npm/a@1.0.0', type: 'npm', name: 'a', version: '1.0.0', purl: 'pkg:npm/a@1.0.0', hashes: {}, license: 'Some Custom License', scope: 'required', dependencies: ['pkg:npm/b@1.0.0'] },
  ],
  rootDependencies: ['pkg:npm/a@1.0.0'],
  sources: ['package-lock.json'],
};

describe('CycloneDX validation', () => {
  describe('when given the official CycloneDX 1.6 test files', () => {
    for (const file of readdirSync(VECTORS).sort()) {
      it(`classifies ${file}`, async () => {
        const issues = await validateCycloneDx(readFileSync(new URL(file, VECTORS), 'utf8'));
        if (file.startsWith('valid-')) assert.deepEqual(issues, []);
        else assert.ok(issues.length > 0, 'expected at least one issue');
      });
    }
  });

  describe('when references are broken', () => {
    it('reports duplicate bom-refs and dependencies naming unknown refs', () => {
      const doc = {
        components: [{ 'bom-ref': 'x' }, { 'bom-ref': 'x', components: [{ 'bom-ref': 'y' }] }],
        dependencies: [{ ref: 'x', dependsOn: ['y', 'nope'] }, { ref: 'ghost' }, { ref: 'x' }],
      };
      assert.deepEqual(checkBomReferences(doc).map((i) => i.code).sort(), ['BOM_REF_DUPLICATE', 'DEPENDENCY_DUPLICATE', 'DEPENDENCY_REF_UNKNOWN', 'DEPENDENCY_REF_UNKNOWN']);
    });
  });
});

describe('toCycloneDx', () => {
  it('is byte-identical for the same input in any order, and valid', async () => {
    const a = toCycloneDx(small, { tool, timestamp: new Date(0) });
    const b = toCycloneDx({ ...small, components: [...small.components].reverse() }, { tool, timestamp: new Date(0) });
    assert.equal(a, b);
    assert.deepEqual(await validateCycloneDx(a), []);
    const doc = JSON.parse(a) as { metadata: { timestamp: string }; components: { name: string; scope: string; licenses: unknown[] }[]; dependencies: { ref: string; dependsOn?: string[] }[] };
    assert.equal(doc.metadata.timestamp, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(doc.components.map((c) => [c.name, c.scope]), [['a', 'required'], ['b', 'excluded']]);
    assert.deepEqual(doc.components[0]!.licenses, [{ license: { name: 'Some Custom License' } }]);
    assert.deepEqual(doc.components[1]!.licenses, [{ expression: 'MIT OR Apache-2.0' }]);
    assert.deepEqual(doc.dependencies.find((d) => d.ref === 'pkg:npm/app@1.0.0')!.dependsOn, ['pkg:npm/a@1.0.0']);
  });
});

describe('toSpdx', () => {
  it('writes a valid SPDX 2.3 document with relationships by scope and LicenseRefs', () => {
    const text = toSpdx(small, { tool, created: new Date(0) });
    assert.deepEqual(validateSpdx(text), []);
    const doc = JSON.parse(text) as { relationships: { relationshipType: string }[]; hasExtractedLicensingInfos: { extractedText: string }[] };
    assert.deepEqual(doc.relationships.map((r) => r.relationshipType).sort(), ['DEPENDS_ON', 'DESCRIBES', 'DEV_DEPENDENCY_OF']);
    assert.equal(doc.hasExtractedLicensingInfos[0]!.extractedText, 'Some Custom License');
    assert.equal(text, toSpdx({ ...small, components: [...small.components].reverse() }, { tool, created: new Date(0) }));
  });
  it('finds schema errors, duplicate ids, dangling relationships and bad expressions', () => {
    const doc = JSON.parse(toSpdx(small, { tool, created: new Date(0) })) as Record<string, unknown> & { packages: Record<string, unknown>[]; relationships: Record<string, unknown>[] };
    doc.packages[2]!['SPDXID'] = doc.packages[1]!['SPDXID'];
    doc.packages[1]!['licenseDeclared'] = 'MIT AND';
    doc.relationships.push({ spdxElementId: 'SPDXRef-nothing', relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'SPDXRef-DOCUMENT' });
    doc['spdxVersion'] = 'SPDX-2.2';
    const codes = new Set(validateSpdx(JSON.stringify(doc)).map((i) => i.code));
    assert.deepEqual([...codes].sort(), ['LICENSE_EXPRESSION_INVALID', 'RELATIONSHIP_REF_UNKNOWN', 'SCHEMA', 'SPDXID_DUPLICATE']);
  });
});

describe('SBOM of this repository', () => {
  const { inventory } = readDirectory(REPO);
  it('lists the installed packages with hashes and a graph, and validates in both formats', async () => {
    assert.ok(inventory.components.length > 100);
    assert.ok(inventory.components.some((c) => c.purl.startsWith('pkg:npm/%40cyclonedx/cyclonedx-library@')));
    assert.ok(inventory.components.every((c) => Object.keys(c.hashes).length > 0 || c.missingIntegrity !== true || c.resolved !== undefined));
    assert.ok(inventory.rootDependencies.length > 5);
    assert.deepEqual(await validateCycloneDx(toCycloneDx(inventory, { tool })), []);
    assert.deepEqual(validateSpdx(toSpdx(inventory, { tool, created: new Date(0) })), []);
  });
});
