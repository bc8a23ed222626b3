// CycloneDX BOM as an in-toto predicate.
export { CYCLONEDX_BOM, isCycloneDxPredicateType, parseCycloneDxBom } from './cyclonedx-bom.ts';
export type { CycloneDxBom, CycloneDxComponent, CycloneDxHash, CycloneDxVulnerability } from './cyclonedx-bom.ts';
