// The SQLite OSV index: import of files, directories and zip exports; malformed records skipped;
// newer records replace older ones; lookups by ecosystem and name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { deflateRawSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import { parseOsvRecord } from '../formats/index.ts';
import { matchComponents } from './match.ts';
import { OsvDatabase } from './osv-db.ts';
import { readZip } from './zip-reader.ts';

const VECTORS = new URL('../../test/materials/fixtures/osv/', import.meta.url);

/** A minimal zip writer (stored or deflated entries) for the tests. */
function makeZip(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [i, e] of entries.entries()) {
    const deflate = i % 2 === 0;
    const body = deflate ? deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const adv = (id: string, modified: string, fixed: string): Record<string, unknown> => ({
  id,
  modified,
  affected: [{ package: { ecosystem: 'npm', name: 'pkg' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }] }],
});

describe('parseOsvRecord', () => {
  it('accepts exactly the OSV test records the official schema accepts', () => {
    const schema = JSON.parse(readFileSync(new URL('schema.json', VECTORS), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv2020({ strict: false });
    (addFormatsModule as unknown as (a: Ajv2020) => Ajv2020)(ajv);
    const validate = ajv.compile(schema);
    const files = readdirSync(VECTORS).filter((f) => f !== 'schema.json').sort();
    assert.ok(files.length >= 10);
    for (const f of files) {
      const json: unknown = JSON.parse(readFileSync(new URL(f, VECTORS), 'utf8'));
      let ours = true;
      try {
        parseOsvRecord(json, f);
      } catch (e) {
        assert.ok(e instanceof InputError && e.code === 'OSV_INVALID');
        ours = false;
      }
      assert.equal(ours, validate(json), f);
    }
  });
  it('never fails with anything but OSV_INVALID on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (j) => {
      try {
        parseOsvRecord(j);
      } catch (e) {
        if (!(e instanceof InputError) || e.code !== 'OSV_INVALID') throw e;
      }
    }), { numRuns: 500 });
  });
});

describe('OsvDatabase', () => {
  it('imports files, directories and zip exports, skipping malformed records with a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custody-osv-'));
    try {
      mkdirSync(join(dir, 'tree/nested'), { recursive: true });
      for (const f of readdirSync(VECTORS)) if (f !== 'schema.json') writeFileSync(join(dir, 'tree/nested', f), readFileSync(new URL(f, VECTORS)));
      writeFileSync(join(dir, 'tree/broken.json'), '{ not json');
      writeFileSync(join(dir, 'npm.zip'), makeZip([
        { name: 'TEST-1.json', data: Buffer.from(JSON.stringify(adv('TEST-1', '2024-01-01T00:00:00Z', '1.0.0'))) },
        { name: 'TEST-2.json', data: Buffer.from(JSON.stringify(adv('TEST-2', '2024-01-01T00:00:00Z', '2.0.0'))) },
        { name: 'bad.json', data: Buffer.from(JSON.stringify({ id: 'TEST-3' })) },
      ]));
      const db = new OsvDatabase(join(dir, 'osv.sqlite'));
      const report = db.importPaths([join(dir, 'tree'), join(dir, 'npm.zip')]);
      // 12 test records, one invalid, two repeating an id with the same `modified`; 3 zip entries, one bad.
      assert.deepEqual([report.imported, report.unchanged, report.skipped], [11, 2, 3]);
      assert.equal(report.warnings.length, 3);
      assert.deepEqual(db.advisoriesFor('npm', 'pkg').map((r) => r.id).sort(), ['TEST-1', 'TEST-2']);
      const status = db.status();
      assert.equal(status.advisories, 11);
      assert.equal(status.ecosystems['npm'], 2);
      // A newer record replaces the older one; an older or equal one is left alone.
      const again = db.importRecords([{ json: adv('TEST-1', '2025-01-01T00:00:00Z', '9.0.0'), where: 'x' }, { json: adv('TEST-2', '2023-01-01T00:00:00Z', '0.1.0'), where: 'y' }]);
      assert.deepEqual([again.imported, again.unchanged], [1, 1]);
      assert.deepEqual(db.get('TEST-1')!.affected[0]!.ranges[0]!.events, [{ introduced: '0' }, { fixed: '9.0.0' }]);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('matches from per-package rows, also in an index written by the first release (migrated on open)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custody-osv-'));
    try {
      const record = parseOsvRecord({
        id: 'TEST-OLD', modified: '2024-01-01T00:00:00Z', aliases: ['CVE-2024-9'],
        affected: [
          { package: { ecosystem: 'npm', name: 'a' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }] },
          { package: { ecosystem: 'npm', name: 'b' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '2.0.0' }, { fixed: '2.1.0' }] }] },
        ],
      });
      // The index layout of the first release: `affected` without the `entries` column.
      const old = new DatabaseSync(join(dir, 'old.sqlite'));
      old.exec('CREATE TABLE advisories (id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn TEXT, json TEXT NOT NULL); CREATE TABLE affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL);');
      old.prepare('INSERT INTO advisories VALUES (?, ?, NULL, ?)').run(record.id, record.modified, JSON.stringify(record));
      for (const n of ['a', 'b']) old.prepare('INSERT INTO affected VALUES (?, ?, ?)').run('npm', n, record.id);
      old.close();
      const fresh = new OsvDatabase(join(dir, 'new.sqlite'));
      fresh.importRecords([{ json: record, where: 'x' }]);
      const components = ['pkg:npm/a@0.9.0', 'pkg:npm/a@1.0.0', 'pkg:npm/b@2.0.5', 'pkg:npm/b@0.9.0'].map((purl) => ({ ref: purl, name: purl, purl }));
      for (const db of [new OsvDatabase(join(dir, 'old.sqlite')), fresh]) {
        const r = matchComponents(db, components);
        assert.deepEqual(r.findings.map((f) => [f.id, f.component.purl, f.aliases]), [['TEST-OLD', 'pkg:npm/a@0.9.0', ['CVE-2024-9']], ['TEST-OLD', 'pkg:npm/b@2.0.5', ['CVE-2024-9']]]);
        db.close();
      }
      // Per-package lookups without a prefetch see only that package's entries.
      for (const file of ['old.sqlite', 'new.sqlite']) {
        const db = new OsvDatabase(join(dir, file));
        const found = db.advisoriesFor('npm', 'b');
        assert.deepEqual(found.map((a) => [a.id, a.affected.map((x) => x.name)]), [['TEST-OLD', ['b']]]);
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses files that are not zip archives', () => {
    assert.throws(() => readZip(Buffer.from('PK not really a zip, just text')), (e: unknown) => e instanceof InputError && e.code === 'INPUT_INVALID');
  });
});
