// One vulnerability scan: match, apply VEX, and decide --fail-on.
import type { OpenVexDocument } from '../formats/index.ts';
import { matchComponents, type AdvisorySource, type Finding, type ScanComponent } from './match.ts';
import type { ScanReport } from './reports.ts';
import { atLeast, type SeverityRating } from './severity.ts';
import { applyVex } from './vex.ts';

export function scanComponents(
  source: AdvisorySource,
  components: readonly ScanComponent[],
  vex: readonly { doc: OpenVexDocument; name: string }[],
  sbomName: string,
  now = new Date(),
): ScanReport {
  const matched = matchComponents(source, components, now);
  const { active, suppressed } = applyVex(matched.findings, vex);
  return { sbom: sbomName, active, suppressed, notScanned: matched.notScanned.length, warnings: [...new Set(matched.warnings)] };
}

/** Unsuppressed findings at or above the threshold. Unknown severities do not count. */
export function findingsAtOrAbove(report: ScanReport, threshold: SeverityRating): Finding[] {
  return report.active.filter((f) => f.severity.rating !== 'unknown' && atLeast(f.severity.rating, threshold));
}
