// SARIF 2.1.0 output for secret findings (OASIS SARIF v2.1.0 §3.13 sarifLog, §3.27 result), as
// GitHub code scanning and other SARIF viewers read it.
import { SECRET_RULES } from './secret-rules.ts';
import type { SecretFinding } from './secret-scanner.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export function secretsToSarif(findings: readonly SecretFinding[], toolVersion: string): Record<string, unknown> {
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'custody',
            informationUri: 'https://custody.dev',
            version: toolVersion,
            rules: SECRET_RULES.map((r) => ({
              id: r.id,
              shortDescription: { text: r.description },
              defaultConfiguration: { level: 'error' },
              properties: { tags: ['security', 'secret'] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: SECRET_RULES.findIndex((r) => r.id === f.ruleId),
          level: 'error',
          message: { text: `${f.description}: ${f.redacted}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.path },
                region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn },
              },
            },
          ],
          partialFingerprints: { 'custodySecret/v1': f.fingerprint },
          ...(f.blob === undefined ? {} : { properties: { blob: f.blob } }),
        })),
      },
    ],
  };
}
