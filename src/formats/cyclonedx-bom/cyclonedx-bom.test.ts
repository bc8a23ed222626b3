import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isCycloneDxPredicateType, parseCycloneDxBom } from './cyclonedx-bom.ts';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'PREDICATE_INVALID';

describe('parseCycloneDxBom', () => {
  it('reads components (nested) and vulnerabilities', () => {
    const bom = parseCycloneDxBom({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
      version: 1,
      components: [{ type: 'library', name: 'left-pad', version: '1.3.0', purl: 'pkg:npm/left-pad@1.3.0', hashes: [{ alg: 'SHA-256', content: 'ab' }], components: [{ type: 'file', name: 'index.js' }] }],
      vulnerabilities: [{ id: 'CVE-2026-1' }],
    });
    assert.equal(bom.components?.[0]?.components?.[0]?.name, 'index.js');
    assert.equal(bom.vulnerabilities?.[0]?.id, 'CVE-2026-1');
    assert.ok(isCycloneDxPredicateType('https://cyclonedx.org/bom/v1.6'));
    assert.ok(!isCycloneDxPredicateType('https://cyclonedx.org/bom/2'));
  });

  it('refuses documents that are not CycloneDX or have malformed components', () => {
    assert.throws(() => parseCycloneDxBom({ bomFormat: 'SPDX', specVersion: '1.6' }), isInvalid);
    assert.throws(() => parseCycloneDxBom({ bomFormat: 'CycloneDX', specVersion: '2' }), isInvalid);
    assert.throws(() => parseCycloneDxBom({ bomFormat: 'CycloneDX', specVersion: '1.5', serialNumber: 'x' }), isInvalid);
    assert.throws(() => parseCycloneDxBom({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'x' }] }), isInvalid);
    let nested: Record<string, unknown> = { type: 'library', name: 'leaf' };
    for (let i = 0; i < 20; i++) nested = { type: 'library', name: `n${i}`, components: [nested] };
    assert.throws(() => parseCycloneDxBom({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [nested] }), isInvalid);
  });
});
