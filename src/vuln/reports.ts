// Scan results as a table, SARIF 2.1.0, a CycloneDX 1.6 VEX BOM, and the in-toto vulnerabilities
// predicate v0.1 (https://github.com/in-toto/attestation/blob/main/spec/predicates/vuln.md).
import type { Finding } from './match.ts';

export interface ScanReport {
  sbom: string;
  active: Finding[];
  suppressed: Finding[];
  notScanned: number;
  warnings: string[];
}

function componentLabel(f: Finding): string {
  return f.component.purl ?? `${f.component.name}@${f.component.version ?? '?'}`;
}

export function formatTable(r: ScanReport): string {
  const rows = r.active.map((f) => [f.severity.rating.toUpperCase(), f.severity.score?.toFixed(1) ?? '-', f.id, componentLabel(f), f.fixed.join(', ') || '-', f.vex?.status ?? '']);
  const head = ['SEVERITY', 'SCORE', 'ID', 'COMPONENT', 'FIXED IN', 'VEX'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  out.push('', `${r.active.length} finding(s), ${r.suppressed.length} suppressed by VEX, ${r.notScanned} component(s) not scanned`);
  for (const s of r.suppressed) out.push(`  suppressed ${s.id} in ${componentLabel(s)}: ${s.vex?.status ?? ''}${s.vex?.justification !== undefined ? ` (${s.vex.justification})` : ''} [${s.vex?.document ?? ''}]`);
  return `${out.join('\n')}\n`;
}

const SARIF_LEVEL: Record<string, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', none: 'note', unknown: 'warning' };

/** SARIF 2.1.0 (OASIS): one rule per vulnerability, one result per affected component. */
export function toSarif(r: ScanReport, tool: { name: string; version: string }): Record<string, unknown> {
  const rules = new Map<string, Record<string, unknown>>();
  const all = [...r.active, ...r.suppressed];
  for (const f of all) {
    if (rules.has(f.id)) continue;
    rules.set(f.id, {
      id: f.id,
      shortDescription: { text: f.summary ?? f.id },
      ...(f.references[0] !== undefined ? { helpUri: f.references[0] } : {}),
      help: { text: `${f.summary ?? f.id}${f.aliases.length > 0 ? ` (also ${f.aliases.join(', ')})` : ''}` },
      // GitHub code scanning reads security-severity as a CVSS-like score.
      properties: { tags: ['security', 'vulnerability'], ...(f.severity.score !== undefined ? { 'security-severity': f.severity.score.toFixed(1) } : {}) },
    });
  }
  const ruleIds = [...rules.keys()].sort();
  const results = all.map((f) => ({
    ruleId: f.id,
    ruleIndex: ruleIds.indexOf(f.id),
    level: SARIF_LEVEL[f.severity.rating] ?? 'warning',
    message: { text: `${componentLabel(f)} is affected by ${f.id}${f.fixed.length > 0 ? `; fixed in ${f.fixed.join(', ')}` : ''}` },
    locations: [{ physicalLocation: { artifactLocation: { uri: r.sbom } }, logicalLocations: [{ name: componentLabel(f), kind: 'package' }] }],
    partialFingerprints: { 'vulnerability/component': `${f.id}|${componentLabel(f)}` },
    // SARIF §3.35: a VEX not_affected/fixed statement is an external suppression.
    ...(f.vex !== undefined && (f.vex.status === 'not_affected' || f.vex.status === 'fixed')
      ? { suppressions: [{ kind: 'external', status: 'accepted', justification: `${f.vex.status}${f.vex.justification !== undefined ? `: ${f.vex.justification}` : ''} (${f.vex.document})` }] }
      : {}),
  }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: tool.name, version: tool.version, informationUri: 'https://custody.dev', rules: ruleIds.map((id) => rules.get(id)) } }, results }],
  };
}

const CDX_METHOD: Record<string, string> = { '2.0': 'CVSSv2', '3.0': 'CVSSv3', '3.1': 'CVSSv31', '4.0': 'CVSSv4' };
const CDX_STATE: Record<string, string> = { not_affected: 'not_affected', fixed: 'resolved', affected: 'exploitable', under_investigation: 'in_triage' };
const CDX_JUSTIFICATION: Record<string, string> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'protected_by_mitigating_control',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

/** A CycloneDX 1.6 BOM holding the findings as `vulnerabilities`, with VEX `analysis`. */
export function toCycloneDxVex(r: ScanReport, tool: { name: string; version: string }, serialNumber: string, timestamp?: Date): Record<string, unknown> {
  const components = new Map<string, Record<string, unknown>>();
  const all = [...r.active, ...r.suppressed];
  for (const f of all) {
    if (!components.has(f.component.ref)) {
      components.set(f.component.ref, {
        type: 'library',
        'bom-ref': f.component.ref,
        name: f.component.name,
        ...(f.component.version !== undefined ? { version: f.component.version } : {}),
        ...(f.component.purl !== undefined ? { purl: f.component.purl } : {}),
      });
    }
  }
  const vulnerabilities = all.map((f, i) => ({
    'bom-ref': `vuln-${i + 1}`,
    id: f.id,
    source: { name: 'OSV', url: `https://osv.dev/vulnerability/${encodeURIComponent(f.id)}` },
    ...(f.aliases.length > 0 ? { references: f.aliases.map((a) => ({ id: a, source: { name: 'OSV' } })) } : {}),
    ratings: f.cvss.length > 0
      ? f.cvss.map((c) => ({ method: CDX_METHOD[c.version], score: c.score, severity: c.rating, vector: c.vector }))
      : f.severity.rating !== 'unknown' ? [{ severity: f.severity.rating, method: 'other' }] : [],
    ...(f.summary !== undefined ? { description: f.summary } : {}),
    ...(f.fixed.length > 0 ? { recommendation: `Upgrade to ${f.fixed.join(' or ')}` } : {}),
    ...(f.vex !== undefined
      ? {
          analysis: {
            state: CDX_STATE[f.vex.status],
            ...(f.vex.justification !== undefined && CDX_JUSTIFICATION[f.vex.justification] !== undefined ? { justification: CDX_JUSTIFICATION[f.vex.justification] } : {}),
            ...(f.vex.impact_statement ?? f.vex.action_statement ? { detail: f.vex.impact_statement ?? f.vex.action_statement } : {}),
          },
        }
      : {}),
    affects: [{ ref: f.component.ref }],
  }));
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber,
    version: 1,
    metadata: {
      ...(timestamp !== undefined ? { timestamp: timestamp.toISOString() } : {}),
      tools: { components: [{ type: 'application', name: tool.name, version: tool.version }] },
    },
    components: [...components.values()],
    vulnerabilities,
  };
}

export const VULNS_PREDICATE_TYPE = 'https://in-toto.io/attestation/vulns/v0.1';

/** The in-toto vulns predicate v0.1: every unsuppressed finding, with its CVSS scores. */
export function toVulnsPredicate(
  r: ScanReport,
  scanner: { uri: string; version: string; db: { uri: string; version?: string; lastUpdate: string } },
  started: Date,
  finished: Date,
): Record<string, unknown> {
  return {
    scanner: {
      uri: scanner.uri,
      version: scanner.version,
      db: scanner.db,
      result: r.active.map((f) => ({
        id: f.id,
        severity: f.cvss.length > 0
          ? f.cvss.map((c) => ({ method: `CVSS:${c.version}`, score: c.score.toFixed(1) }))
          : [{ method: 'rating', score: f.severity.rating }],
        annotations: [{ component: f.component.purl ?? f.component.ref, aliases: f.aliases, fixed: f.fixed, ...(f.vex !== undefined ? { vex: f.vex.status } : {}) }],
      })),
    },
    metadata: { scanStartedOn: started.toISOString(), scanFinishedOn: finished.toISOString() },
  };
}
