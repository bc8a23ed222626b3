import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseVulnsV01 } from './vulns.ts';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'PREDICATE_INVALID';
const metadata = { scanStartedOn: '2021-08-06T17:45:50.52Z', scanFinishedOn: '2021-08-06T17:50:50.52Z' };

describe('parseVulnsV01', () => {
  it('accepts the flat result entries of the spec example and the nested ones of its field list', () => {
    const flat = parseVulnsV01({ scanner: { uri: 'pkg:github/aquasecurity/trivy', version: '0.19.2', db: { lastUpdate: '2021-08-06T17:45:50.52Z' }, result: [{ id: 'CVE-123', severity: [{ method: 'nvd', score: 'medium' }] }] }, metadata });
    const nested = parseVulnsV01({ scanner: { uri: 'x', result: [{ vulnerability: { id: 'CVE-123', severity: [{ method: 'nvd', score: 'medium' }] } }] }, metadata });
    assert.deepEqual(flat.scanner.result[0]?.severity, nested.scanner.result[0]?.severity);
    assert.equal(nested.scanner.result[0]?.id, 'CVE-123');
  });

  it('refuses a missing result list, scanner uri or scan times', () => {
    assert.throws(() => parseVulnsV01({ scanner: { uri: 'x' }, metadata }), isInvalid);
    assert.throws(() => parseVulnsV01({ scanner: { result: [] }, metadata }), isInvalid);
    assert.throws(() => parseVulnsV01({ scanner: { uri: 'x', result: [] }, metadata: {} }), isInvalid);
    assert.throws(() => parseVulnsV01({ scanner: { uri: 'x', result: [{ severity: [] }] }, metadata }), isInvalid);
  });
});
