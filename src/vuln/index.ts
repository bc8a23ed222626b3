// vuln: the local OSV index, matching components against advisories in each ecosystem's version
// order, CVSS severity, VEX, reports (table, SARIF, CycloneDX VEX, in-toto vulns), license policy
// and dependency-risk checks.
export { OsvDatabase } from './osv-db.ts';
export type { DbStatus, ImportReport } from './osv-db.ts';
export { readZip } from './zip-reader.ts';
export type { ZipEntry } from './zip-reader.ts';
export { matchComponents, MemoryAdvisories } from './match.ts';
export type { AdvisorySource, Finding, FindingSeverity, MatchResult, ScanComponent, VexNote } from './match.ts';
export { evaluateAffected } from './range-match.ts';
export type { RangeVerdict } from './range-match.ts';
export { orderingFor, parsedOrderingFor, packageKeyOfPurl, indexName } from './ecosystems.ts';
export type { Compare, Ordering, PackageKey } from './ecosystems.ts';
export { compareSemver, compareGo } from './version-semver.ts';
export { comparePep440, parsePep440 } from './version-pep440.ts';
export { compareDpkg, parseDebVersion, verrevcmp } from './version-dpkg.ts';
export { scoreCvss, ratingOf, atLeast, isSeverityRating, SEVERITY_ORDER } from './severity.ts';
export type { CvssScore, SeverityRating } from './severity.ts';
export { parseVexDocument, vexSchemaIssues, createVexDocument, addVexStatement, applyVex } from './vex.ts';
export type { StatementInput, VexOutcome } from './vex.ts';
export { formatTable, toSarif, toCycloneDxVex, toVulnsPredicate, VULNS_PREDICATE_TYPE } from './reports.ts';
export type { ScanReport } from './reports.ts';
export { scanComponents, findingsAtOrAbove } from './scan.ts';
export { evaluateLicenses, evaluateLicense, checkPolicyEntries } from './licenses.ts';
export type { LicenseResult, LicenseSubject, LicenseVerdict } from './licenses.ts';
export { findDependencyRisks, editDistance, DEFAULT_TRUSTED_REGISTRIES } from './dependency-risks.ts';
export type { Risk, RiskKind, RiskOptions, RiskSubject } from './dependency-risks.ts';
