// OpenVEX 0.2.0 documents (https://github.com/openvex/spec/blob/main/OPENVEX-SPEC.md), as files and as
// in-toto predicates (vexctl attests with predicateType https://openvex.dev/ns/v0.2.0).
import {
  asRecord,
  optionalInteger,
  optionalList,
  optionalString,
  optionalStringArray,
  optionalTimestamp,
  predicateError,
  requiredEnum,
  requiredRecord,
  requiredString,
  requiredTimestamp,
  optionalEnum,
} from '../predicate-fields/index.ts';

export const OPENVEX_CONTEXT_V020 = 'https://openvex.dev/ns/v0.2.0';
export const VEX_STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
export type VexStatus = (typeof VEX_STATUSES)[number];
export const VEX_JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;
export type VexJustification = (typeof VEX_JUSTIFICATIONS)[number];

export interface VexProduct {
  '@id'?: string;
  identifiers?: Record<string, string>;
  hashes?: Record<string, string>;
  subcomponents?: VexProduct[];
  [extension: string]: unknown;
}

export interface VexStatement {
  vulnerability: { name: string; '@id'?: string; aliases?: string[]; [extension: string]: unknown };
  products: VexProduct[];
  status: VexStatus;
  justification?: VexJustification;
  impact_statement?: string;
  action_statement?: string;
  timestamp?: string;
  [extension: string]: unknown;
}

export interface OpenVexDocument {
  '@context': string;
  '@id': string;
  author: string;
  timestamp: string;
  version: number;
  statements: VexStatement[];
  [extension: string]: unknown;
}

function stringRecord(v: unknown, where: string): Record<string, string> {
  const o = asRecord(v, where);
  for (const [k, s] of Object.entries(o)) if (typeof s !== 'string') predicateError(where, `'${k}' must be a string`);
  return o as Record<string, string>;
}

function parseProduct(v: unknown, where: string, depth = 0): VexProduct {
  const o = asRecord(v, where);
  const out: VexProduct = { ...o };
  const id = optionalString(o, '@id', where);
  if (id !== undefined) out['@id'] = id;
  if (o['identifiers'] !== undefined) out.identifiers = stringRecord(o['identifiers'], `${where}.identifiers`);
  if (o['hashes'] !== undefined) out.hashes = stringRecord(o['hashes'], `${where}.hashes`);
  // spec: a component is named by @id or by identifiers (or hashes).
  if (out['@id'] === undefined && out.identifiers === undefined && out.hashes === undefined) {
    predicateError(where, "a product needs '@id', 'identifiers' or 'hashes'");
  }
  if (depth < 1) {
    const subs = optionalList(o, 'subcomponents', where, (s, w) => parseProduct(s, w, depth + 1));
    if (subs !== undefined) out.subcomponents = subs;
  } else if (o['subcomponents'] !== undefined) predicateError(where, 'subcomponents do not nest');
  return out;
}

function parseStatement(v: unknown, where: string): VexStatement {
  const o = asRecord(v, where);
  const vuln = requiredRecord(o, 'vulnerability', where);
  const vulnerability: VexStatement['vulnerability'] = { ...vuln, name: requiredString(vuln, 'name', `${where}.vulnerability`) };
  const aliases = optionalStringArray(vuln, 'aliases', `${where}.vulnerability`);
  if (aliases !== undefined) vulnerability.aliases = aliases;
  const products = optionalList(o, 'products', where, (p, w) => parseProduct(p, w));
  if (products === undefined || products.length === 0) predicateError(where, "'products' must list at least one product");
  const out: VexStatement = { ...o, vulnerability, products, status: requiredEnum(o, 'status', VEX_STATUSES, where) };
  const justification = optionalEnum(o, 'justification', VEX_JUSTIFICATIONS, where);
  if (justification !== undefined) out.justification = justification;
  for (const field of ['impact_statement', 'action_statement'] as const) {
    const s = optionalString(o, field, where);
    if (s !== undefined) out[field] = s;
  }
  const ts = optionalTimestamp(o, 'timestamp', where);
  if (ts !== undefined) out.timestamp = ts;
  // OPENVEX-SPEC "Status Justifications": not_affected needs a justification or an impact statement;
  // affected needs an action statement.
  if (out.status === 'not_affected' && out.justification === undefined && out.impact_statement === undefined) {
    predicateError(where, "status not_affected requires 'justification' or 'impact_statement'");
  }
  if (out.status === 'affected' && out.action_statement === undefined) {
    predicateError(where, "status affected requires 'action_statement'");
  }
  return out;
}

export function isOpenVexPredicateType(type: string): boolean {
  return type === OPENVEX_CONTEXT_V020 || type === 'https://openvex.dev/ns';
}

export function parseOpenVex(json: unknown, where = 'OpenVEX document'): OpenVexDocument {
  const o = asRecord(json, where);
  const context = requiredString(o, '@context', where);
  if (!context.startsWith('https://openvex.dev/ns')) predicateError(where, "'@context' must be an OpenVEX context");
  const version = optionalInteger(o, 'version', where, 1);
  if (version === undefined) predicateError(where, "'version' is required");
  const statements = optionalList(o, 'statements', where, parseStatement);
  if (statements === undefined) predicateError(where, "'statements' is required");
  return {
    ...o,
    '@context': context,
    '@id': requiredString(o, '@id', where),
    author: requiredString(o, 'author', where),
    timestamp: requiredTimestamp(o, 'timestamp', where),
    version,
    statements,
  };
}
