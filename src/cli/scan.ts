// custody scan vulns|licenses|deps — scans of an SBOM file.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { InputError, PolicyError, digestFile, makeStatement, type ResourceDescriptor } from '../core/index.ts';
import { parseSbomDocument } from '../sbom/index.ts';
import {
  OsvDatabase,
  SEVERITY_ORDER,
  VULNS_PREDICATE_TYPE,
  evaluateLicenses,
  findDependencyRisks,
  findingsAtOrAbove,
  formatTable,
  isSeverityRating,
  parseVexDocument,
  scanComponents,
  toCycloneDxVex,
  toSarif,
  toVulnsPredicate,
  type RiskKind,
  type ScanReport,
} from '../vuln/index.ts';
import { collect, common, output, passphraseFromEnv, readFileOrFail, writeFileAtomic, type CommonOptions } from './io.ts';
import { buildTime, signStatement, toolInfo } from './materials-io.ts';
import { DEFAULT_VULN_DB } from './vuln.ts';
import { keylessAttestation } from './attest-keyless.ts';
import { addKeylessOptions, refuseKeyWithKeyless, type KeylessFlags } from './keyless-options.ts';

function emit(text: string, out: string | undefined): void {
  if (out === undefined) process.stdout.write(text);
  else writeFileAtomic(out, text);
}

interface VulnsOptions extends CommonOptions, KeylessFlags {
  sbom: string;
  vex?: string[];
  failOn?: string;
  format: 'table' | 'json' | 'sarif' | 'cyclonedx-vex';
  db: string;
  out?: string;
  attest?: boolean;
  key?: string[];
  subject?: string[];
  passphraseEnv?: string;
  /** --attest --keyless: the statement in a Sigstore bundle, signed for the caller's workload identity. */
  keyless?: boolean;
}

async function writeVulnsResult(report: ScanReport, options: VulnsOptions, times: { started: Date; finished: Date; lastImport: string | undefined }): Promise<void> {
  const tool = toolInfo();
  if (options.attest === true) {
    const subject: ResourceDescriptor[] = [];
    for (const file of options.subject ?? [options.sbom]) subject.push({ name: basename(file), digest: await digestFile(file) });
    const db = { uri: `osv+sqlite:${basename(options.db)}`, lastUpdate: times.lastImport ?? times.finished.toISOString() };
    const predicate = toVulnsPredicate(report, { uri: 'https://custody.dev', version: tool.version, db }, times.started, times.finished);
    const statement = makeStatement(subject, VULNS_PREDICATE_TYPE, predicate);
    emit(options.keyless === true ? (await keylessAttestation(statement, options)).text : await signStatement(statement, options.key ?? [], passphraseFromEnv(options.passphraseEnv)), options.out);
  } else if (options.format === 'sarif') {
    emit(`${JSON.stringify(toSarif(report, tool), null, 2)}\n`, options.out);
  } else if (options.format === 'cyclonedx-vex') {
    const serial = createHash('sha256').update(JSON.stringify([report.active, report.suppressed])).digest('hex');
    const uuid = `${serial.slice(0, 8)}-${serial.slice(8, 12)}-8${serial.slice(13, 16)}-a${serial.slice(17, 20)}-${serial.slice(20, 32)}`;
    emit(`${JSON.stringify(toCycloneDxVex(report, tool, `urn:uuid:${uuid}`, buildTime().date), null, 2)}\n`, options.out);
  } else if (options.format === 'json' || options.json === true) {
    emit(`${JSON.stringify({ sbom: report.sbom, findings: report.active, suppressed: report.suppressed, notScanned: report.notScanned, warnings: report.warnings }, null, 2)}\n`, options.out);
  } else {
    emit(formatTable(report), options.out);
  }
}

async function vulns(options: VulnsOptions): Promise<void> {
  if (options.failOn !== undefined && (!isSeverityRating(options.failOn) || options.failOn === 'none')) {
    throw new InputError('USAGE', `--fail-on must be one of ${SEVERITY_ORDER.slice(1).join(', ')}`);
  }
  if (options.keyless === true) {
    refuseKeyWithKeyless('--keyless', options.key);
    if (options.attest !== true) throw new InputError('USAGE', '--keyless signs the scan attestation: add --attest');
  } else if (options.attest === true && options.key === undefined) throw new InputError('USAGE', '--attest needs --key or --keyless');
  if (!existsSync(options.db)) throw new InputError('FILE_UNREADABLE', `no vulnerability database at ${options.db}; run 'custody vuln db import' first`);
  const sbom = parseSbomDocument(readFileOrFail(options.sbom, 'SBOM'), options.sbom);
  const vex = (options.vex ?? []).map((f) => ({ doc: parseVexDocument(readFileOrFail(f, 'VEX document'), f), name: basename(f) }));
  const started = new Date();
  const db = new OsvDatabase(options.db);
  let report;
  let status;
  try {
    report = scanComponents(db, sbom.components, vex, basename(options.sbom), started);
    status = db.status();
  } finally {
    db.close();
  }
  const finished = new Date();
  if (options.debug === true) for (const w of report.warnings) process.stderr.write(`custody: warning: ${w}\n`);
  await writeVulnsResult(report, options, { started, finished, lastImport: status.lastImport });
  if (options.failOn !== undefined && isSeverityRating(options.failOn)) {
    const failing = findingsAtOrAbove(report, options.failOn);
    if (failing.length > 0) {
      throw new PolicyError('VULNERABILITIES_FOUND', `${failing.length} finding(s) at or above ${options.failOn}: ${failing.slice(0, 5).map((f) => `${f.id} in ${f.component.purl ?? f.component.name}`).join(', ')}${failing.length > 5 ? ', …' : ''}`);
    }
  }
}

interface LicensesOptions extends CommonOptions {
  sbom: string;
  allow?: string[];
  deny?: string[];
  failOnUnknown?: boolean;
}

function licenses(options: LicensesOptions): void {
  const sbom = parseSbomDocument(readFileOrFail(options.sbom, 'SBOM'), options.sbom);
  const results = evaluateLicenses(sbom.components, options.allow ?? [], options.deny ?? []);
  const bad = results.filter((r) => r.verdict === 'denied' || r.verdict === 'not-allowed' || (options.failOnUnknown === true && r.verdict === 'unknown'));
  const counts = Object.fromEntries(['allowed', 'denied', 'not-allowed', 'unknown'].map((v) => [v, results.filter((r) => r.verdict === v).length]));
  const label = (r: (typeof results)[number]): string => r.component.purl ?? `${r.component.name}@${r.component.version ?? '?'}`;
  output(
    options,
    { sbom: options.sbom, counts, results: results.filter((r) => r.verdict !== 'allowed').map((r) => ({ component: label(r), license: r.license ?? null, verdict: r.verdict, reason: r.reason ?? null })) },
    [
      ...results.filter((r) => r.verdict !== 'allowed').map((r) => `${r.verdict.toUpperCase().padEnd(11)} ${label(r)}  ${r.license ?? '-'}${r.reason !== undefined ? `  (${r.reason})` : ''}`),
      `${counts['allowed']} allowed, ${counts['denied']} denied, ${counts['not-allowed']} not allowed, ${counts['unknown']} unknown`,
    ],
  );
  if (bad.length > 0) throw new PolicyError('LICENSE_DENIED', `${bad.length} component(s) fail the license policy, e.g. ${label(bad[0]!)} (${bad[0]!.license ?? 'no license'})`);
}

interface DepsOptions extends CommonOptions {
  sbom: string;
  allowName?: string[];
  trustedRegistry?: string[];
  internal?: string[];
  maxDistance: string;
  failOn?: string[];
}

const RISK_KINDS: RiskKind[] = ['typosquat', 'untrusted-registry', 'dependency-confusion', 'missing-integrity'];

function deps(options: DepsOptions): void {
  for (const k of options.failOn ?? []) if (!(RISK_KINDS as string[]).includes(k)) throw new InputError('USAGE', `--fail-on must be one of ${RISK_KINDS.join(', ')}`);
  const distance = Number(options.maxDistance);
  if (distance !== 1 && distance !== 2) throw new InputError('USAGE', '--max-distance must be 1 or 2');
  const sbom = parseSbomDocument(readFileOrFail(options.sbom, 'SBOM'), options.sbom);
  const risks = findDependencyRisks(sbom.components, {
    maxDistance: distance,
    ...(options.allowName !== undefined ? { allowlist: options.allowName } : {}),
    ...(options.trustedRegistry !== undefined ? { trustedRegistries: options.trustedRegistry } : {}),
    ...(options.internal !== undefined ? { internalPrefixes: options.internal } : {}),
  });
  const label = (c: { purl?: string; name: string; version?: string }): string => c.purl ?? `${c.name}@${c.version ?? '?'}`;
  output(
    options,
    { sbom: options.sbom, risks: risks.map((r) => ({ kind: r.kind, component: label(r.component), detail: r.detail })) },
    [...risks.map((r) => `${r.kind.padEnd(20)} ${label(r.component)}  ${r.detail}`), `${risks.length} risk(s) in ${sbom.components.length} component(s)`],
  );
  const failing = risks.filter((r) => (options.failOn ?? []).includes(r.kind));
  if (failing.length > 0) throw new PolicyError('DEPENDENCY_RISK', `${failing.length} dependency risk(s) of a --fail-on kind, e.g. ${failing[0]!.kind} ${label(failing[0]!.component)}`);
}

/** `custody scan`; other modules' scans (e.g. `scan secrets`) are passed in by the composition root. */
export function scanCommand(...others: Command[]): Command {
  const scan = new Command('scan').description('scan an SBOM for vulnerabilities, license problems and dependency risks, and sources for secrets');
  for (const other of others) scan.addCommand(other);
  common(
    addKeylessOptions(
    scan
      .command('vulns')
      .description('match SBOM components against the local OSV database; VEX statements suppress findings')
      .requiredOption('--sbom <file>', 'CycloneDX or SPDX JSON SBOM')
      .option('--vex <file>', 'OpenVEX document to apply; repeatable', collect)
      .addOption(new Option('--fail-on <severity>', 'exit 1 when an unsuppressed finding is at least this severe').choices(['low', 'medium', 'high', 'critical']))
      .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'sarif', 'cyclonedx-vex']).default('table'))
      .option('--db <file>', 'SQLite database', DEFAULT_VULN_DB)
      .option('--out <file>', 'write the result here (default: stdout)')
      .option('--attest', 'write a signed in-toto statement with the vulns predicate v0.1 instead')
      .option('--key <file>', 'private key for --attest; repeatable', collect)
      .option('--subject <file>', 'statement subject for --attest (default: the SBOM file); repeatable', collect)
      .option('--passphrase-env <var>', 'passphrase of an encrypted private key'),
      '--keyless',
      'with --attest',
    ).action((o: VulnsOptions) => vulns(o)),
    'custody scan vulns --sbom sbom.cdx.json --vex app.vex.json --fail-on high',
    'custody scan vulns --sbom sbom.cdx.json --format sarif --out vulns.sarif',
    'custody scan vulns --sbom sbom.cdx.json --attest --keyless --step vuln-scan --subject app.tgz --out vulns.sigstore',
  );
  common(
    scan
      .command('licenses')
      .description('check component licenses against allowed and denied SPDX licenses')
      .requiredOption('--sbom <file>', 'CycloneDX or SPDX JSON SBOM')
      .option('--allow <license>', 'allowed SPDX license (id, id+, id WITH exception); repeatable', collect)
      .option('--deny <license>', 'denied SPDX license; repeatable', collect)
      .option('--fail-on-unknown', 'also fail on missing or non-SPDX licenses')
      .action((o: LicensesOptions) => licenses(o)),
    'custody scan licenses --sbom sbom.cdx.json --allow MIT --allow Apache-2.0 --allow ISC --deny GPL-3.0-only',
  );
  common(
    scan
      .command('deps')
      .description('flag typosquatting and dependency-confusion risks and components without integrity')
      .requiredOption('--sbom <file>', 'CycloneDX or SPDX JSON SBOM')
      .option('--allow-name <name>', 'known-good package name to compare against; repeatable', collect)
      .option('--trusted-registry <host>', 'trusted registry host (replaces the defaults); repeatable', collect)
      .option('--internal <prefix>', 'name prefix of private packages, e.g. @corp/; repeatable', collect)
      .option('--max-distance <n>', 'edit distance for similar names (1 or 2)', '1')
      .option('--fail-on <kind>', `exit 1 on risks of this kind (${RISK_KINDS.join(', ')}); repeatable`, collect)
      .action((o: DepsOptions) => deps(o)),
    'custody scan deps --sbom sbom.cdx.json --internal @corp/ --fail-on untrusted-registry --fail-on dependency-confusion',
  );
  return scan;
}
