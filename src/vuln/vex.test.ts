// OpenVEX: schema classification of the OpenVEX examples, create/add, and applying statements.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import type { Finding } from './match.ts';
import { addVexStatement, applyVex, createVexDocument, parseVexDocument } from './vex.ts';

const VECTORS = new URL('../../test/materials/fixtures/openvex/', import.meta.url);
const isVexInvalid = (e: unknown): boolean => e instanceof InputError && e.code === 'VEX_INVALID';

function finding(id: string, purl: string, aliases: string[] = []): Finding {
  return { id, aliases, component: { ref: purl, name: purl, purl }, ecosystem: 'npm', severity: { rating: 'high', source: 'database' }, cvss: [], fixed: [], references: [] };
}

describe('parseVexDocument', () => {
  it('validates with the official OpenVEX JSON schema (the bundled copy is that file, unchanged)', () => {
    const bundled = readFileSync(new URL('./openvex-schema-0.2.0.json', import.meta.url), 'utf8');
    assert.deepEqual(JSON.parse(bundled), JSON.parse(readFileSync(new URL('openvex_json_schema.json', VECTORS), 'utf8')));
  });
  it('accepts valid OpenVEX 0.2.0 examples (purls as IRIs) and rejects the others', () => {
    assert.equal(parseVexDocument(readFileSync(new URL('v0.2.0.json', VECTORS)), 'v0.2.0.json').statements.length, 5);
    assert.equal(parseVexDocument(readFileSync(new URL('demo.vex.json', VECTORS)), 'demo').statements.length, 1);
    // v0.0.1 is the pre-0.2 format; the vexctl examples lack the required timestamp and version.
    for (const f of ['v0.0.1.json', 'v020-1.vex.json', 'v020-2.vex.json']) assert.throws(() => parseVexDocument(readFileSync(new URL(f, VECTORS)), f), isVexInvalid, f);
  });
  it('rejects malformed JSON and spec violations the schema allows', () => {
    assert.throws(() => parseVexDocument('{', 'x'), isVexInvalid);
    const doc = createVexDocument({ author: 'sec', timestamp: new Date(0) }, { vulnerability: 'CVE-0', products: ['pkg:npm/a@1'], status: 'under_investigation', timestamp: new Date(0) });
    const bad = { ...doc, statements: [{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a@1' }], status: 'not_affected' }] };
    assert.throws(() => parseVexDocument(JSON.stringify({ ...doc, statements: [] }), 'x'), isVexInvalid);
    assert.throws(() => parseVexDocument(JSON.stringify(bad), 'x'), isVexInvalid);
  });
  it('never fails with anything but VEX_INVALID on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (j) => {
      try {
        parseVexDocument(JSON.stringify(j), 'x');
      } catch (e) {
        if (!isVexInvalid(e)) throw e;
      }
    }), { numRuns: 300 });
  });
});

describe('createVexDocument and addVexStatement', () => {
  const first = { vulnerability: 'CVE-0', products: ['pkg:npm/z@1'], status: 'under_investigation', timestamp: new Date(0) };
  it('builds a schema-valid document, bumping version and timestamp', () => {
    let doc = createVexDocument({ author: 'Security <sec@example.com>', timestamp: new Date(0) }, first);
    assert.equal(doc.version, 1);
    doc = addVexStatement(doc, { vulnerability: 'CVE-2024-1', products: ['pkg:npm/app@1.0.0'], subcomponents: ['pkg:npm/x@1.0.0'], status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', timestamp: new Date(1000) });
    assert.equal(doc.version, 2);
    assert.equal(doc.timestamp, '1970-01-01T00:00:01Z');
    assert.equal(parseVexDocument(JSON.stringify(doc)).statements[1]!.products[0]!.subcomponents![0]!['@id'], 'pkg:npm/x@1.0.0');
  });
  it('refuses statements the spec forbids', () => {
    const doc = createVexDocument({ author: 'a', timestamp: new Date(0) }, first);
    assert.throws(() => createVexDocument({ author: 'a', timestamp: new Date(0) }, { ...first, status: 'not_affected' }), isVexInvalid);
    assert.throws(() => addVexStatement(doc, { vulnerability: 'CVE-1', products: ['pkg:npm/a@1'], status: 'affected', timestamp: new Date(0) }), isVexInvalid);
    assert.throws(() => addVexStatement(doc, { vulnerability: 'CVE-1', products: ['pkg:npm/a@1'], status: 'maybe', timestamp: new Date(0) }), isVexInvalid);
    assert.throws(() => addVexStatement(doc, { vulnerability: 'CVE-1', products: ['pkg:npm/a@1'], status: 'not_affected', justification: 'because', timestamp: new Date(0) }), isVexInvalid);
  });
});

describe('applyVex', () => {
  const base = createVexDocument({ author: 'a', timestamp: new Date(0) }, { vulnerability: 'CVE-0', products: ['pkg:npm/z@1'], status: 'under_investigation', timestamp: new Date(0) });
  it('suppresses not_affected and fixed findings, matching aliases, versionless purls and subcomponents', () => {
    let doc = addVexStatement(base, { vulnerability: 'GHSA-1', products: ['pkg:npm/a'], status: 'not_affected', justification: 'component_not_present', timestamp: new Date(1000) });
    doc = addVexStatement(doc, { vulnerability: 'CVE-2', products: ['pkg:oci/app'], subcomponents: ['pkg:npm/b@2.0.0'], status: 'fixed', timestamp: new Date(1000) });
    const out = applyVex([finding('CVE-1', 'pkg:npm/a@1.0.0', ['GHSA-1']), finding('CVE-2', 'pkg:npm/b@2.0.0'), finding('CVE-2', 'pkg:npm/b@3.0.0'), finding('CVE-3', 'pkg:npm/a@1.0.0')], [{ doc, name: 'app.vex.json' }]);
    assert.deepEqual(out.suppressed.map((f) => [f.id, f.component.purl, f.vex?.status]), [['CVE-1', 'pkg:npm/a@1.0.0', 'not_affected'], ['CVE-2', 'pkg:npm/b@2.0.0', 'fixed']]);
    assert.deepEqual(out.active.map((f) => `${f.id} ${f.component.purl ?? ''}`), ['CVE-2 pkg:npm/b@3.0.0', 'CVE-3 pkg:npm/a@1.0.0']);
  });
  it('lets the latest statement win and keeps affected findings active with the note', () => {
    let doc = addVexStatement(base, { vulnerability: 'CVE-1', products: ['pkg:npm/a@1.0.0'], status: 'not_affected', impactStatement: 'not reachable', timestamp: new Date(1000) });
    doc = addVexStatement(doc, { vulnerability: 'CVE-1', products: ['pkg:npm/a@1.0.0'], status: 'affected', actionStatement: 'upgrade', timestamp: new Date(2000) });
    const out = applyVex([finding('CVE-1', 'pkg:npm/a@1.0.0')], [{ doc, name: 'v' }]);
    assert.equal(out.suppressed.length, 0);
    assert.equal(out.active[0]!.vex?.status, 'affected');
  });
});
