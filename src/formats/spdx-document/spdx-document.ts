// An SPDX 2.x JSON document carried as an in-toto predicate (in-toto spec/predicates/spdx.md:
// type https://spdx.dev/Document, optionally /v2.N). Checks the document-level fields SPDX 2.3
// §6 marks mandatory and the package fields rules use; schema validation lives in sbom/.
import {
  asRecord,
  optionalList,
  optionalString,
  optionalStringArray,
  predicateError,
  requiredRecord,
  requiredString,
  requiredTimestamp,
} from '../predicate-fields/index.ts';

export const SPDX_DOCUMENT = 'https://spdx.dev/Document';

export function isSpdxPredicateType(type: string): boolean {
  return type === SPDX_DOCUMENT || /^https:\/\/spdx\.dev\/Document\/v2\.\d+$/.test(type);
}

export interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation?: string;
  [extension: string]: unknown;
}

export interface SpdxCreationInfo {
  created: string;
  creators: string[];
  [extension: string]: unknown;
}

export interface SpdxDocument {
  spdxVersion: string;
  dataLicense: string;
  SPDXID: string;
  name: string;
  documentNamespace: string;
  creationInfo: SpdxCreationInfo;
  packages?: SpdxPackage[];
  [extension: string]: unknown;
}

function parsePackage(v: unknown, where: string): SpdxPackage {
  const o = asRecord(v, where);
  const out: SpdxPackage = { ...o, SPDXID: requiredString(o, 'SPDXID', where), name: requiredString(o, 'name', where) };
  if (!out.SPDXID.startsWith('SPDXRef-')) predicateError(where, "'SPDXID' must start with SPDXRef-");
  const version = optionalString(o, 'versionInfo', where);
  if (version !== undefined) out.versionInfo = version;
  const location = optionalString(o, 'downloadLocation', where);
  if (location !== undefined) out.downloadLocation = location;
  return out;
}

export function parseSpdxDocument(json: unknown, where = 'SPDX document'): SpdxDocument {
  const o = asRecord(json, where);
  const spdxVersion = requiredString(o, 'spdxVersion', where);
  if (!/^SPDX-2\.\d+$/.test(spdxVersion)) predicateError(where, "'spdxVersion' must be SPDX-2.N");
  const SPDXID = requiredString(o, 'SPDXID', where);
  // SPDX 2.3 §6.3: the document's identifier is SPDXRef-DOCUMENT.
  if (SPDXID !== 'SPDXRef-DOCUMENT') predicateError(where, "'SPDXID' must be SPDXRef-DOCUMENT");
  const ci = requiredRecord(o, 'creationInfo', where);
  const creators = optionalStringArray(ci, 'creators', `${where}.creationInfo`);
  if (creators === undefined || creators.length === 0) predicateError(`${where}.creationInfo`, "'creators' must list at least one creator");
  const out: SpdxDocument = {
    ...o,
    spdxVersion,
    dataLicense: requiredString(o, 'dataLicense', where),
    SPDXID,
    name: requiredString(o, 'name', where),
    documentNamespace: requiredString(o, 'documentNamespace', where),
    creationInfo: { ...ci, created: requiredTimestamp(ci, 'created', `${where}.creationInfo`), creators },
  };
  const packages = optionalList(o, 'packages', where, parsePackage);
  if (packages !== undefined) out.packages = packages;
  return out;
}
