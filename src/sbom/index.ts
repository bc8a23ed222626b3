// sbom: lockfile and package-database readers → an inventory of components → CycloneDX 1.6 and
// SPDX 2.3 JSON, with validation; and reading components back out of an SBOM file.
export type { Component, Inventory, PurlType, Scope } from './model.ts';
export { normalizeInventory } from './model.ts';
export { makePurl, parsePurl, ecosystemName, splitNpmName } from './purl.ts';
export type { ParsedPurl } from './purl.ts';
export { hashesFromIntegrity } from './integrity.ts';
export { isSpdxExpression, licenseFromManifest } from './license-text.ts';
export { readNpmLock } from './npm-lock.ts';
export type { NpmLockOptions } from './npm-lock.ts';
export { readPnpmLock } from './pnpm-lock.ts';
export { readYarnLock } from './yarn-lock.ts';
export { readCargoLock } from './cargo-lock.ts';
export { readGoMod, parseGoMod, parseGoSum } from './go-mod.ts';
export { readRequirements, readPoetryLock, normalizePypiName } from './python-lock.ts';
export { readDpkgStatus, parseDeb822 } from './dpkg-status.ts';
export { debianLicenseToSpdx, licenseFromDebianCopyright } from './debian-copyright.ts';
export { readDirectory, mergeInventories } from './read-directory.ts';
export type { ReadResult } from './read-directory.ts';
export { toCycloneDx, validateCycloneDx, checkBomReferences, contentSerialNumber } from './cyclonedx.ts';
export type { BomIssue, BomOptions, ToolInfo } from './cyclonedx.ts';
export { toSpdx, validateSpdx } from './spdx.ts';
export type { SpdxIssue, SpdxOptions } from './spdx.ts';
export { SPDX_23_SCHEMA } from './spdx-schema.ts';
export { parseSbomDocument } from './sbom-document.ts';
export type { SbomComponent, SbomDocument } from './sbom-document.ts';
export { sbomStatement, CYCLONEDX_PREDICATE_TYPE, SPDX_PREDICATE_TYPE } from './statement.ts';
