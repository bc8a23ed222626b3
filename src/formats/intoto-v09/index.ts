// in-toto v0.9 links and layouts: wire models, strict parsers, serializers, signing, file names.
export {
  genericRule,
  matchRule,
  parseArtifactRule,
  parseArtifactRuleString,
  parseArtifactRules,
  ruleToString,
  shlexSplit,
} from './artifact-rule.ts';
export type {
  ArtifactRule,
  ArtifactRuleType,
  ArtifactType,
  GenericArtifactRule,
  GenericRuleType,
  MatchArtifactRule,
} from './artifact-rule.ts';
export {
  checkStepNameForFile,
  inspectionLinkFileName,
  linkFileName,
  sublayoutLinkDirName,
  unfinishedLinkFileName,
} from './file-names.ts';
export type { JsonObject, JsonValue } from './json-value.ts';
export {
  INSPECTION_FIELDS,
  LAYOUT_FIELDS,
  STEP_FIELDS,
  formatExpires,
  inspectionToJson,
  layoutToJson,
  parseExpires,
  parseInspection,
  parseLayout,
  parseStep,
  stepToJson,
} from './layout.ts';
export type { Inspection, Layout, Step, SupplyChainItem } from './layout.ts';
export { LINK_FIELDS, checkArtifactPath, linkToJson, makeLink, parseArtifactMap, parseLink } from './link.ts';
export type { ArtifactMap, Link } from './link.ts';
export {
  addSignature,
  checkSignature,
  findSignature,
  metadataToJson,
  parseSignedLayout,
  parseSignedLink,
  parseSignedMetadata,
  signableBytes,
  signedToJson,
} from './metablock.ts';
export type { Signature09, SignatureCheck, SignedLayout, SignedLink, SignedMetadata } from './metablock.ts';
export { formatLikeReference } from './reference-json.ts';
export { layoutFromSpec, resolveExpires } from './layout-spec.ts';
export type { KeyResolver } from './layout-spec.ts';
