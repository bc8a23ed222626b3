// A CycloneDX JSON BOM carried as an in-toto predicate (in-toto predicates README: CycloneDX;
// type https://cyclonedx.org/bom, optionally with /v1.N). Checks the fields policy rules rely on;
// full schema validation belongs to the sbom module (CycloneDX library validators).
import {
  asRecord,
  optionalInteger,
  optionalList,
  optionalString,
  predicateError,
  requiredString,
  type JsonRecord,
} from '../predicate-fields/index.ts';

export const CYCLONEDX_BOM = 'https://cyclonedx.org/bom';

/** True for `https://cyclonedx.org/bom` and its versioned forms `…/bom/v1.6`. */
export function isCycloneDxPredicateType(type: string): boolean {
  return type === CYCLONEDX_BOM || /^https:\/\/cyclonedx\.org\/bom\/v1\.\d+$/.test(type);
}

export interface CycloneDxHash {
  alg: string;
  content: string;
}

export interface CycloneDxComponent {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  'bom-ref'?: string;
  hashes?: CycloneDxHash[];
  components?: CycloneDxComponent[];
  [extension: string]: unknown;
}

export interface CycloneDxVulnerability {
  id?: string;
  'bom-ref'?: string;
  [extension: string]: unknown;
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: string;
  serialNumber?: string;
  version?: number;
  components?: CycloneDxComponent[];
  vulnerabilities?: CycloneDxVulnerability[];
  [extension: string]: unknown;
}

// Nested components: deep enough for real BOMs, bounded so hostile input cannot recurse freely.
const MAX_COMPONENT_DEPTH = 16;

function parseHash(v: unknown, where: string): CycloneDxHash {
  const o = asRecord(v, where);
  return { ...o, alg: requiredString(o, 'alg', where), content: requiredString(o, 'content', where) };
}

function parseComponent(v: unknown, where: string, depth: number): CycloneDxComponent {
  if (depth > MAX_COMPONENT_DEPTH) predicateError(where, `components nest deeper than ${MAX_COMPONENT_DEPTH}`);
  const o = asRecord(v, where);
  const out: CycloneDxComponent = { ...o, type: requiredString(o, 'type', where), name: requiredString(o, 'name', where) };
  for (const field of ['version', 'purl', 'bom-ref'] as const) {
    const s = optionalString(o, field, where);
    if (s !== undefined) out[field] = s;
  }
  const hashes = optionalList(o, 'hashes', where, parseHash);
  if (hashes !== undefined) out.hashes = hashes;
  const children = optionalList(o, 'components', where, (c, w) => parseComponent(c, w, depth + 1));
  if (children !== undefined) out.components = children;
  return out;
}

function parseVulnerability(v: unknown, where: string): CycloneDxVulnerability {
  const o: JsonRecord = asRecord(v, where);
  const out: CycloneDxVulnerability = { ...o };
  const id = optionalString(o, 'id', where);
  if (id !== undefined) out.id = id;
  return out;
}

export function parseCycloneDxBom(json: unknown, where = 'CycloneDX BOM'): CycloneDxBom {
  const o = asRecord(json, where);
  if (o['bomFormat'] !== 'CycloneDX') predicateError(where, "'bomFormat' must be \"CycloneDX\"");
  const specVersion = requiredString(o, 'specVersion', where);
  if (!/^1\.\d+$/.test(specVersion)) predicateError(where, "'specVersion' must look like 1.N");
  const out: CycloneDxBom = { ...o, bomFormat: 'CycloneDX', specVersion };
  const serial = optionalString(o, 'serialNumber', where);
  if (serial !== undefined) {
    if (!/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(serial)) {
      predicateError(where, "'serialNumber' must be a urn:uuid");
    }
    out.serialNumber = serial;
  }
  const version = optionalInteger(o, 'version', where, 1);
  if (version !== undefined) out.version = version;
  const components = optionalList(o, 'components', where, (c, w) => parseComponent(c, w, 1));
  if (components !== undefined) out.components = components;
  const vulns = optionalList(o, 'vulnerabilities', where, parseVulnerability);
  if (vulns !== undefined) out.vulnerabilities = vulns;
  return out;
}
