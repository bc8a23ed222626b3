// in-toto vulnerabilities predicate v0.1.
export { INTOTO_VULNS_V01, parseVulnsV01 } from './vulns.ts';
export type { VulnResult, VulnSeverity, VulnsPredicateV01 } from './vulns.ts';
