// The materials commands end to end, in process: sbom → vuln db import → scan vulns (with VEX,
// every output format, --fail-on, --attest) → scan licenses / deps; vex create|add|show.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { generateKeyPair, isCustodyError, parseEnvelope, parseStatement, verifyEnvelope } from '../../src/core/index.ts';
import { parseVulnsV01 } from '../../src/formats/index.ts';
import { sbomCommand } from '../../src/cli/sbom.ts';
import { scanCommand } from '../../src/cli/scan.ts';
import { vexCommand } from '../../src/cli/vex.ts';
import { validateCycloneDx, validateSpdx } from '../../src/sbom/index.ts';

interface Run {
  stdout: string;
  error?: unknown;
}

/** Runs a command in process (outputs go to files); returns the error it threw, as main() would see it. */
async function run(make: () => Command, args: string[]): Promise<Run> {
  const command = make();
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(command);
  try {
    await command.parseAsync(args, { from: 'user' });
    return { stdout: '' };
  } catch (error) {
    return { stdout: '', error };
  }
}

const CUSTODY = new URL('../../bin/custody.js', import.meta.url).pathname;

/** Runs `custody <command> ...` (command = the file's base name) as a user would; the error code comes from stderr's "[CODE]". */
function spawn(file: string, _name: string, args: string[]): Run {
  const r = spawnSync(process.execPath, [CUSTODY, file.replace(/\.ts$/, ''), ...args], { encoding: 'utf8' });
  const code = /\[([A-Z_]+)\]\n?$/.exec(r.stderr)?.[1];
  return { stdout: r.stdout, ...(r.status !== 0 ? { error: code ?? `exit ${String(r.status)}: ${r.stderr}` } : {}) };
}

function codeOf(r: Run): string | undefined {
  if (typeof r.error === 'string') return r.error;
  if (isCustodyError(r.error)) return r.error.code;
  return r.error === undefined ? undefined : r.error instanceof Error ? r.error.message : 'unknown error';
}

const sri = (byte: number): string => `sha512-${Buffer.alloc(64, byte).toString('base64')}`;

describe('materials commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custody-materials-'));
  const p = (f: string): string => join(dir, f);
  const key = generateKeyPair('ed25519');

  before(() => {
    writeFileSync(p('package.json'), JSON.stringify({ name: 'demo', version: '1.0.0', dependencies: { 'left-pad': '^1.0.0', 'gpl-thing': '^1' } }));
    writeFileSync(p('package-lock.json'), JSON.stringify({
      name: 'demo', version: '1.0.0', lockfileVersion: 3,
      packages: {
        '': { name: 'demo', version: '1.0.0', dependencies: { 'left-pad': '^1.0.0', 'gpl-thing': '^1' } },
        'node_modules/left-pad': { version: '1.2.0', resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.2.0.tgz', integrity: sri(1), license: 'WTFPL' },
        'node_modules/gpl-thing': { version: '1.0.0', resolved: 'https://registry.npmjs.org/gpl-thing/-/gpl-thing-1.0.0.tgz', license: 'GPL-3.0-only' },
      },
    }));
    writeFileSync(p('artifact.tgz'), 'the built artifact');
    writeFileSync(p('signer.key'), key.toPkcs8Pem());
    writeFileSync(p('CUSTODY-TEST-1.json'), JSON.stringify({
      id: 'CUSTODY-TEST-1', modified: '2024-01-01T00:00:00Z', aliases: ['CVE-2099-0001'], summary: 'left-pad pads wrongly',
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }] }],
      references: [{ type: 'ADVISORY', url: 'https://example.com/advisory' }],
    }));
    writeFileSync(p('CUSTODY-TEST-2.json'), JSON.stringify({
      id: 'CUSTODY-TEST-2', modified: '2024-01-01T00:00:00Z', withdrawn: '2024-02-01T00:00:00Z',
      affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }],
    }));
    writeFileSync(p('malformed.json'), JSON.stringify({ id: 'CUSTODY-TEST-3', modified: 'yesterday' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes byte-identical, valid CycloneDX and SPDX SBOMs under SOURCE_DATE_EPOCH', async () => {
    process.env['SOURCE_DATE_EPOCH'] = '1700000000';
    try {
      assert.equal(codeOf(await run(sbomCommand, [dir, '--out', p('a.cdx.json')])), undefined);
      assert.equal(codeOf(await run(sbomCommand, [dir, '--out', p('b.cdx.json')])), undefined);
      assert.equal(codeOf(await run(sbomCommand, [dir, '--format', 'spdx', '--out', p('sbom.spdx.json')])), undefined);
    } finally {
      delete process.env['SOURCE_DATE_EPOCH'];
    }
    const a = readFileSync(p('a.cdx.json'), 'utf8');
    assert.equal(a, readFileSync(p('b.cdx.json'), 'utf8'));
    assert.match(a, /"timestamp": "2023-11-14T22:13:20.000Z"/);
    assert.deepEqual(await validateCycloneDx(a), []);
    assert.deepEqual(validateSpdx(readFileSync(p('sbom.spdx.json'), 'utf8')), []);
  });

  it('signs the SBOM as an in-toto statement about the artifact', async () => {
    assert.equal(codeOf(await run(sbomCommand, [dir, '--attest', '--key', p('signer.key'), '--subject', p('artifact.tgz'), '--out', p('sbom.att.json')])), undefined);
    const verified = verifyEnvelope(parseEnvelope(JSON.parse(readFileSync(p('sbom.att.json'), 'utf8'))), [key.publicKey]);
    const statement = parseStatement(JSON.parse(Buffer.from(verified.payload).toString('utf8')));
    assert.equal(statement.predicateType, 'https://cyclonedx.org/bom');
    assert.equal(statement.subject[0]!.name, 'artifact.tgz');
    assert.equal((statement.predicate as { bomFormat: string }).bomFormat, 'CycloneDX');
  });

  it('imports advisories, skipping malformed ones, and reports status', () => {
    const r = spawn('vuln.ts', 'vulnCommand', ['db', 'import', p('CUSTODY-TEST-1.json'), p('CUSTODY-TEST-2.json'), p('malformed.json'), '--db', p('osv.sqlite'), '--json']);
    assert.equal(codeOf(r), undefined);
    assert.deepEqual((JSON.parse(r.stdout) as { imported: number; skipped: number }).skipped, 1);
    const s = spawn('vuln.ts', 'vulnCommand', ['db', 'status', '--db', p('osv.sqlite'), '--json']);
    assert.deepEqual((JSON.parse(s.stdout) as { advisories: number; withdrawn: number }).advisories, 2);
    assert.equal(codeOf(spawn('vuln.ts', 'vulnCommand', ['db', 'status', '--db', p('nothing.sqlite')])), 'FILE_UNREADABLE');
  });

  it('finds the vulnerability, ignores the withdrawn record, and fails on --fail-on high', async () => {
    const r = await run(scanCommand, ['vulns', '--sbom', p('a.cdx.json'), '--db', p('osv.sqlite'), '--format', 'json', '--fail-on', 'high', '--out', p('scan.json')]);
    assert.equal(codeOf(r), 'VULNERABILITIES_FOUND');
    const out = JSON.parse(readFileSync(p('scan.json'), 'utf8')) as { findings: { id: string; aliases: string[]; severity: { rating: string } }[] };
    assert.deepEqual(out.findings.map((f) => [f.id, f.aliases, f.severity.rating]), [['CUSTODY-TEST-1', ['CVE-2099-0001'], 'critical']]);
    await run(scanCommand, ['vulns', '--sbom', p('sbom.spdx.json'), '--db', p('osv.sqlite'), '--format', 'json', '--out', p('scan-spdx.json')]);
    assert.equal((JSON.parse(readFileSync(p('scan-spdx.json'), 'utf8')) as { findings: unknown[] }).findings.length, 1);
  });

  it('writes SARIF 2.1.0 and a valid CycloneDX VEX BOM', async () => {
    await run(scanCommand, ['vulns', '--sbom', p('a.cdx.json'), '--db', p('osv.sqlite'), '--format', 'sarif', '--out', p('vulns.sarif')]);
    const sarif = JSON.parse(readFileSync(p('vulns.sarif'), 'utf8')) as { version: string; runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; level: string }[] }[] };
    assert.equal(sarif.version, '2.1.0');
    assert.deepEqual(sarif.runs[0]!.results.map((x) => [x.ruleId, x.level]), [['CUSTODY-TEST-1', 'error']]);
    assert.deepEqual(sarif.runs[0]!.tool.driver.rules.map((x) => x.id), ['CUSTODY-TEST-1']);
    await run(scanCommand, ['vulns', '--sbom', p('a.cdx.json'), '--db', p('osv.sqlite'), '--format', 'cyclonedx-vex', '--out', p('vex.cdx.json')]);
    const vexBom = readFileSync(p('vex.cdx.json'), 'utf8');
    assert.deepEqual(await validateCycloneDx(vexBom), []);
    assert.equal((JSON.parse(vexBom) as { vulnerabilities: { ratings: { method: string }[] }[] }).vulnerabilities[0]!.ratings[0]!.method, 'CVSSv31');
  });

  it('creates a VEX document that suppresses the finding, and shows it', async () => {
    assert.equal(codeOf(await run(vexCommand, ['create', '--author', 'Security', '--out', p('app.vex.json'), '--vuln', 'CVE-2099-0002', '--product', 'pkg:npm/demo@1.0.0', '--status', 'under_investigation'])), undefined);
    assert.equal(codeOf(await run(vexCommand, ['add', p('app.vex.json'), '--vuln', 'CVE-2099-0001', '--product', 'pkg:npm/left-pad@1.2.0', '--status', 'not_affected', '--justification', 'vulnerable_code_not_in_execute_path'])), undefined);
    assert.equal(codeOf(await run(vexCommand, ['add', p('app.vex.json'), '--vuln', 'CVE-1', '--product', 'pkg:npm/x@1', '--status', 'affected'])), 'VEX_INVALID');
    const shown = spawn('vex.ts', 'vexCommand', ['show', p('app.vex.json')]);
    assert.match(shown.stdout, /CVE-2099-0001 {2}not_affected \(vulnerable_code_not_in_execute_path\)/);
    const r = await run(scanCommand, ['vulns', '--sbom', p('a.cdx.json'), '--db', p('osv.sqlite'), '--vex', p('app.vex.json'), '--fail-on', 'low', '--out', p('scan.txt')]);
    assert.equal(codeOf(r), undefined);
    assert.match(readFileSync(p('scan.txt'), 'utf8'), /0 finding\(s\), 1 suppressed by VEX/);
    writeFileSync(p('broken.vex.json'), '{"@context": "https://openvex.dev/ns/v0.2.0"}');
    assert.equal(codeOf(await run(scanCommand, ['vulns', '--sbom', p('a.cdx.json'), '--db', p('osv.sqlite'), '--vex', p('broken.vex.json')])), 'VEX_INVALID');
  });

  it('signs the scan as an in-toto vulns predicate', async () => {
    await run(scanCommand, ['vulns', '--sbom', p('a.cdx.json'), '--db', p('osv.sqlite'), '--attest', '--key', p('signer.key'), '--out', p('vulns.att.json')]);
    const verified = verifyEnvelope(parseEnvelope(JSON.parse(readFileSync(p('vulns.att.json'), 'utf8'))), [key.publicKey]);
    const statement = parseStatement(JSON.parse(Buffer.from(verified.payload).toString('utf8')));
    assert.equal(statement.predicateType, 'https://in-toto.io/attestation/vulns/v0.1');
    assert.equal(statement.subject[0]!.name, 'a.cdx.json');
    const predicate = parseVulnsV01(statement.predicate);
    assert.deepEqual(predicate.scanner.result.map((x) => [x.id, x.severity[0]!.score]), [['CUSTODY-TEST-1', '9.8']]);
  });

  it('applies the license policy and flags dependency risks', () => {
    const lic = spawn('scan.ts', 'scanCommand', ['licenses', '--sbom', p('a.cdx.json'), '--allow', 'MIT', '--allow', 'WTFPL', '--deny', 'GPL-3.0-only', '--json']);

    assert.equal(codeOf(lic), 'LICENSE_DENIED');
    assert.deepEqual((JSON.parse(lic.stdout) as { counts: Record<string, number> }).counts, { allowed: 1, denied: 1, 'not-allowed': 0, unknown: 0 });
    const deps = spawn('scan.ts', 'scanCommand', ['deps', '--sbom', p('a.cdx.json'), '--json', '--fail-on', 'missing-integrity']);
    assert.equal(codeOf(deps), 'DEPENDENCY_RISK');
    assert.deepEqual((JSON.parse(deps.stdout) as { risks: { kind: string; component: string }[] }).risks, [{ kind: 'missing-integrity', component: 'pkg:npm/gpl-thing@1.0.0', detail: 'no integrity hash in the SBOM (lockfile entry without integrity)' }]);
  });

  it('reports bad input with codes: corrupt lockfile, unknown version, missing database', async () => {
    writeFileSync(p('bad-lock.json'), '{"lockfileVersion": 99, "packages": {}}');
    const bad = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(bad, 'package-lock.json'), '{"lockfileVersion": 99, "packages": {}}');
    assert.equal(codeOf(await run(sbomCommand, [bad])), 'LOCKFILE_UNSUPPORTED');
    writeFileSync(join(bad, 'package-lock.json'), '{"lockfileVersion": 3, "packa');
    assert.equal(codeOf(await run(sbomCommand, [bad])), 'LOCKFILE_INVALID');
    assert.equal(codeOf(await run(scanCommand, ['vulns', '--sbom', p('a.cdx.json'), '--db', p('missing.sqlite')])), 'FILE_UNREADABLE');
    assert.equal(codeOf(await run(scanCommand, ['vulns', '--sbom', p('package.json'), '--db', p('osv.sqlite')])), 'SBOM_INVALID');
  });
});
