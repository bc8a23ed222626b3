import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseLinkPredicateV03 } from './link-predicate.ts';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'PREDICATE_INVALID';

describe('parseLinkPredicateV03', () => {
  it('reads name, command, materials, byproducts and environment, keeping extensions', () => {
    const p = parseLinkPredicateV03({ name: 'build', command: ['make'], materials: [{ name: 'a.c', digest: { sha256: 'a'.repeat(64) } }], byproducts: { 'return-value': 0 }, environment: {}, x: 1 });
    assert.equal(p.name, 'build');
    assert.deepEqual(p.command, ['make']);
    assert.equal(p.materials?.[0]?.name, 'a.c');
    assert.equal(p['x'], 1);
  });

  it('refuses a missing name, a non-string command and bad materials', () => {
    assert.throws(() => parseLinkPredicateV03({ command: [] }), isInvalid);
    assert.throws(() => parseLinkPredicateV03({ name: 'b', command: 'make' }), isInvalid);
    assert.throws(() => parseLinkPredicateV03({ name: 'b', materials: [{ digest: { sha256: 'zz' } }] }), isInvalid);
    assert.throws(() => parseLinkPredicateV03({ name: 'b', environment: [] }), isInvalid);
  });
});
