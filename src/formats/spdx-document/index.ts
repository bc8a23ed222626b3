// SPDX 2.x document as an in-toto predicate.
export { SPDX_DOCUMENT, isSpdxPredicateType, parseSpdxDocument } from './spdx-document.ts';
export type { SpdxCreationInfo, SpdxDocument, SpdxPackage } from './spdx-document.ts';
