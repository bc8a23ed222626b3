import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdxPredicateType, parseSpdxDocument } from './spdx-document.ts';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'PREDICATE_INVALID';
const valid = () => ({
  spdxVersion: 'SPDX-2.3',
  dataLicense: 'CC0-1.0',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'app',
  documentNamespace: 'https://example.com/spdx/app-1',
  creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: custody'] },
  packages: [{ SPDXID: 'SPDXRef-Package-a', name: 'a', versionInfo: '1.0', downloadLocation: 'NOASSERTION' }],
});

describe('parseSpdxDocument', () => {
  it('reads the mandatory document fields and packages', () => {
    const d = parseSpdxDocument(valid());
    assert.equal(d.packages?.[0]?.name, 'a');
    assert.ok(isSpdxPredicateType('https://spdx.dev/Document/v2.3'));
  });

  it('refuses wrong versions, identifiers, creators and packages', () => {
    assert.throws(() => parseSpdxDocument({ ...valid(), spdxVersion: 'SPDX-3.0' }), isInvalid);
    assert.throws(() => parseSpdxDocument({ ...valid(), SPDXID: 'SPDXRef-X' }), isInvalid);
    assert.throws(() => parseSpdxDocument({ ...valid(), creationInfo: { created: '2026-01-01T00:00:00Z', creators: [] } }), isInvalid);
    assert.throws(() => parseSpdxDocument({ ...valid(), packages: [{ SPDXID: 'Package-a', name: 'a' }] }), isInvalid);
    assert.throws(() => parseSpdxDocument({ ...valid(), documentNamespace: undefined }), isInvalid);
  });
});
