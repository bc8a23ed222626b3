// Bad input through the real CLI: a corrupt lockfile, an unknown lockfile version, a malformed
// OSV record and a malformed VEX document each give one clear line (code, file) — never a stack.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneLineError, custody, tempDir } from '../support/cli.ts';

describe('materials commands on bad input', () => {
  it('name the problem in one line with a stable code', () => {
    using dir = tempDir('custody-bad-input-');
    const p = (f: string): string => join(dir.path, f);
    mkdirSync(p('corrupt'));
    writeFileSync(p('corrupt/package-lock.json'), '{"lockfileVersion": 3, "packages": {"": {');
    let r = custody(['sbom', p('corrupt')]);
    assert.equal(r.status, 2);
    assert.match(assertOneLineError(r), /package-lock\.json.*\[LOCKFILE_INVALID\]$/);

    mkdirSync(p('future'));
    writeFileSync(p('future/package-lock.json'), '{"lockfileVersion": 4, "packages": {}}');
    r = custody(['sbom', p('future')]);
    assert.equal(r.status, 2);
    assert.match(assertOneLineError(r), /\[LOCKFILE_UNSUPPORTED\]$/);

    // A malformed OSV record is skipped with a one-line warning; the import goes on.
    writeFileSync(p('good.json'), JSON.stringify({ id: 'TEST-GOOD-1', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }] }));
    writeFileSync(p('bad.json'), JSON.stringify({ id: 'TEST-BAD-1', modified: 'yesterday', affected: [] }));
    r = custody(['vuln', 'db', 'import', p('good.json'), p('bad.json'), '--db', p('osv.sqlite'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([(JSON.parse(r.stdout) as { imported: number }).imported, (JSON.parse(r.stdout) as { skipped: number }).skipped], [1, 1]);
    assert.match(r.stderr, /bad\.json.*modified/);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');

    writeFileSync(p('broken.vex.json'), '{"@context": "https://openvex.dev/ns/v0.2.0", "statements": "none"}');
    r = custody(['vex', 'show', p('broken.vex.json')]);
    assert.equal(r.status, 2);
    assert.match(assertOneLineError(r), /\[VEX_INVALID\]$/);
  });
});
