// formats: wire models and strict parsers for the standards custody speaks (DESIGN.md module map).
// One block per format; each lists its public API explicitly.

// in-toto v0.9 links and layouts (intoto-v09/).
export {
  INSPECTION_FIELDS,
  LAYOUT_FIELDS,
  LINK_FIELDS,
  STEP_FIELDS,
  addSignature,
  checkArtifactPath,
  checkSignature,
  checkStepNameForFile,
  findSignature,
  formatExpires,
  formatLikeReference,
  genericRule,
  inspectionLinkFileName,
  inspectionToJson,
  layoutFromSpec,
  layoutToJson,
  linkFileName,
  linkToJson,
  makeLink,
  matchRule,
  metadataToJson,
  parseArtifactMap,
  parseArtifactRule,
  parseArtifactRuleString,
  parseArtifactRules,
  parseExpires,
  parseInspection,
  parseLayout,
  parseLink,
  parseSignedLayout,
  parseSignedLink,
  parseSignedMetadata,
  parseStep,
  resolveExpires,
  ruleToString,
  shlexSplit,
  signableBytes,
  signedToJson,
  stepToJson,
  sublayoutLinkDirName,
  unfinishedLinkFileName,
} from './intoto-v09/index.ts';
export type {
  ArtifactMap,
  ArtifactRule,
  ArtifactRuleType,
  ArtifactType,
  GenericArtifactRule,
  GenericRuleType,
  Inspection,
  JsonObject,
  JsonValue,
  KeyResolver,
  Layout,
  Link,
  MatchArtifactRule,
  Signature09,
  SignatureCheck,
  SignedLayout,
  SignedLink,
  SignedMetadata,
  Step,
  SupplyChainItem,
} from './intoto-v09/index.ts';

// Attestation predicates (one folder per predicate type; parsers used by the attestation policy).
export { LINK_PREDICATE_TYPE_V03, parseLinkPredicateV03 } from './intoto-link-v03/index.ts';
export type { LinkPredicateV03 } from './intoto-link-v03/index.ts';
export { SLSA_PROVENANCE_V1, parseProvenanceV1 } from './slsa-provenance-v1/index.ts';
export type { BuildDefinition, BuildMetadata, Builder, ProvenanceV1, RunDetails } from './slsa-provenance-v1/index.ts';
export { SLSA_VSA_V1, VERIFICATION_RESULTS, makeVsaPredicate, parseVsaV1 } from './slsa-vsa-v1/index.ts';
export type { VerificationResult, VsaInput, VsaPredicateV1, VsaVerifier } from './slsa-vsa-v1/index.ts';
export { CYCLONEDX_BOM, isCycloneDxPredicateType, parseCycloneDxBom } from './cyclonedx-bom/index.ts';
export type { CycloneDxBom, CycloneDxComponent, CycloneDxHash, CycloneDxVulnerability } from './cyclonedx-bom/index.ts';
export { SPDX_DOCUMENT, isSpdxPredicateType, parseSpdxDocument } from './spdx-document/index.ts';
export type { SpdxCreationInfo, SpdxDocument, SpdxPackage } from './spdx-document/index.ts';
export { INTOTO_VULNS_V01, parseVulnsV01 } from './intoto-vulns-v01/index.ts';
export type { VulnResult, VulnSeverity, VulnsPredicateV01 } from './intoto-vulns-v01/index.ts';
export { OPENVEX_CONTEXT_V020, VEX_JUSTIFICATIONS, VEX_STATUSES, isOpenVexPredicateType, parseOpenVex } from './openvex-v0.2/index.ts';
export type { OpenVexDocument, VexJustification, VexProduct, VexStatement, VexStatus } from './openvex-v0.2/index.ts';
export { INTOTO_TEST_RESULT_V01, TEST_RESULTS, parseTestResultV01 } from './intoto-test-result-v01/index.ts';
export type { TestResultPredicateV01 } from './intoto-test-result-v01/index.ts';
export { isRfc3339 } from './predicate-fields/index.ts';

// The review predicate https://custody.dev/review/v1 (custody-review-v1/).
export { REVIEW_PREDICATE_TYPE, REVIEW_RESULTS, parseReviewPredicate } from './custody-review-v1/index.ts';
export type { ReviewPredicate, ReviewResult } from './custody-review-v1/index.ts';

// The reference state log entry predicate https://custody.dev/rsl/v1 (custody-rsl-v1/).
export { RSL_PREDICATE_TYPE, parseRslEntryPredicate } from './custody-rsl-v1/index.ts';
export type { RslEntryPredicate } from './custody-rsl-v1/index.ts';


// OSV vulnerability records (osv/).
export { parseOsvRecord } from './osv/index.ts';
export type { OsvAffected, OsvEvent, OsvRange, OsvRangeType, OsvRecord, OsvSeverity } from './osv/index.ts';

// Sigstore bundle v0.3, key-based (sigstore-bundle-v03/).
export { SIGSTORE_BUNDLE_V03_MEDIA_TYPE, buildDsseBundle, buildMessageSignatureBundle, parseSigstoreBundleV03 } from './sigstore-bundle-v03/index.ts';
export type { BundleMessageSignature, BundleTlogEntry, DsseBundleInput, MessageSignatureBundleInput, SigstoreBundleV03 } from './sigstore-bundle-v03/index.ts';
