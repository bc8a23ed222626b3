import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOpenVex } from './openvex.ts';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'PREDICATE_INVALID';
const doc = (statement: Record<string, unknown>) => ({
  '@context': 'https://openvex.dev/ns/v0.2.0',
  '@id': 'https://example.com/vex/1',
  author: 'Security Team',
  timestamp: '2026-01-01T00:00:00Z',
  version: 1,
  statements: [{ vulnerability: { name: 'CVE-2026-1' }, products: [{ '@id': 'pkg:npm/app@1.0.0' }], ...statement }],
});

describe('parseOpenVex', () => {
  it('reads statements with their status and justification', () => {
    const v = parseOpenVex(doc({ status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }));
    assert.equal(v.statements[0]?.status, 'not_affected');
    assert.equal(v.statements[0]?.products[0]?.['@id'], 'pkg:npm/app@1.0.0');
  });

  it('applies the spec rules for not_affected and affected', () => {
    assert.throws(() => parseOpenVex(doc({ status: 'not_affected' })), isInvalid);
    parseOpenVex(doc({ status: 'not_affected', impact_statement: 'never loaded' }));
    assert.throws(() => parseOpenVex(doc({ status: 'affected' })), isInvalid);
    parseOpenVex(doc({ status: 'affected', action_statement: 'upgrade' }));
  });

  it('refuses unknown statuses, justifications, products without ids and missing fields', () => {
    assert.throws(() => parseOpenVex(doc({ status: 'fine' })), isInvalid);
    assert.throws(() => parseOpenVex(doc({ status: 'not_affected', justification: 'trust me' })), isInvalid);
    assert.throws(() => parseOpenVex(doc({ status: 'fixed', products: [{}] })), isInvalid);
    assert.throws(() => parseOpenVex({ ...doc({ status: 'fixed' }), version: 0 }), isInvalid);
    assert.throws(() => parseOpenVex({ ...doc({ status: 'fixed' }), '@context': 'https://example.com' }), isInvalid);
  });
});
