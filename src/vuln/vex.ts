// OpenVEX 0.2.0 documents: validated against the OpenVEX JSON schema (openvex-schema-0.2.0.json,
// copied unchanged from openvex/spec `openvex_json_schema.json`, Apache-2.0) with a lenient `iri`
// format (ajv's strict one rejects purls), then parsed by formats' OpenVEX parser; created and
// amended for `custody vex`; and applied to scan findings.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { PackageURL } from 'packageurl-js';
import { InputError, isCustodyError } from '../core/index.ts';
import {
  OPENVEX_CONTEXT_V020,
  VEX_JUSTIFICATIONS,
  VEX_STATUSES,
  parseOpenVex,
  type OpenVexDocument,
  type VexJustification,
  type VexProduct,
  type VexStatement,
  type VexStatus,
} from '../formats/index.ts';
import type { Finding } from './match.ts';

type AddFormats = (ajv: Ajv2020) => Ajv2020;
let validator: ReturnType<Ajv2020['compile']> | undefined;

function schemaValidator(): ReturnType<Ajv2020['compile']> {
  if (validator === undefined) {
    const schema = JSON.parse(readFileSync(new URL('./openvex-schema-0.2.0.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    (addFormatsModule as unknown as AddFormats)(ajv);
    // An IRI here is any absolute identifier with a scheme (purls have no '//').
    ajv.addFormat('iri', /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/);
    validator = ajv.compile(schema);
  }
  return validator;
}

/** Schema issues of a VEX JSON value (empty when valid). */
export function vexSchemaIssues(json: unknown): string[] {
  const validate = schemaValidator();
  if (validate(json)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}

/** Parses an OpenVEX document from text: JSON, then the schema, then the spec's field rules. */
export function parseVexDocument(text: string | Uint8Array, where = 'VEX document'): OpenVexDocument {
  let json: unknown;
  try {
    json = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
  } catch (e) {
    throw new InputError('VEX_INVALID', `${where} is not JSON`, { cause: e });
  }
  const issues = vexSchemaIssues(json);
  if (issues.length > 0) throw new InputError('VEX_INVALID', `${where} does not match the OpenVEX 0.2.0 schema: ${issues.slice(0, 3).join('; ')}`);
  try {
    return parseOpenVex(json, where);
  } catch (e) {
    if (isCustodyError(e)) throw new InputError('VEX_INVALID', e.message, { cause: e });
    throw e;
  }
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface StatementInput {
  vulnerability: string;
  aliases?: string[];
  products: string[];
  subcomponents?: string[];
  status: string;
  justification?: string;
  impactStatement?: string;
  actionStatement?: string;
  timestamp: Date;
}

function makeStatement(input: StatementInput): VexStatement {
  if (!(VEX_STATUSES as readonly string[]).includes(input.status)) {
    throw new InputError('VEX_INVALID', `status must be one of ${VEX_STATUSES.join(', ')} (got '${input.status}')`);
  }
  if (input.justification !== undefined && !(VEX_JUSTIFICATIONS as readonly string[]).includes(input.justification)) {
    throw new InputError('VEX_INVALID', `justification must be one of ${VEX_JUSTIFICATIONS.join(', ')}`);
  }
  if (input.products.length === 0) throw new InputError('VEX_INVALID', 'a statement needs at least one product');
  const status = input.status as VexStatus;
  const products: VexProduct[] = input.products.map((p) => ({
    '@id': p,
    ...(input.subcomponents !== undefined && input.subcomponents.length > 0 ? { subcomponents: input.subcomponents.map((s) => ({ '@id': s })) } : {}),
  }));
  const statement: VexStatement = {
    vulnerability: { name: input.vulnerability, ...(input.aliases !== undefined && input.aliases.length > 0 ? { aliases: input.aliases } : {}) },
    timestamp: isoSeconds(input.timestamp),
    products,
    status,
    ...(input.justification !== undefined ? { justification: input.justification as VexJustification } : {}),
    ...(input.impactStatement !== undefined ? { impact_statement: input.impactStatement } : {}),
    ...(input.actionStatement !== undefined ? { action_statement: input.actionStatement } : {}),
  };
  return statement;
}

/**
 * A new OpenVEX document with its first statement (the schema requires at least one). Checked
 * as a whole, so a statement the spec forbids (not_affected without a justification or impact
 * statement, affected without an action statement) is refused here rather than by a consumer.
 */
export function createVexDocument(options: { author: string; role?: string; id?: string; timestamp: Date }, first: StatementInput): OpenVexDocument {
  const timestamp = isoSeconds(options.timestamp);
  const id = options.id ?? `https://openvex.dev/docs/public/vex-${createHash('sha256').update(`${options.author}\n${timestamp}`).digest('hex')}`;
  const doc = {
    '@context': OPENVEX_CONTEXT_V020,
    '@id': id,
    author: options.author,
    ...(options.role !== undefined ? { role: options.role } : {}),
    timestamp,
    version: 1,
    statements: [makeStatement(first)],
  };
  return parseVexDocument(JSON.stringify(doc), 'VEX document');
}

/** Adds a statement (OpenVEX 0.2.0 "Statement"); bumps the document version and timestamp. */
export function addVexStatement(doc: OpenVexDocument, input: StatementInput): OpenVexDocument {
  const next: OpenVexDocument = { ...doc, version: doc.version + 1, timestamp: isoSeconds(input.timestamp), statements: [...doc.statements, makeStatement(input)] };
  return parseVexDocument(JSON.stringify(next), 'VEX document');
}

function purlMatches(productId: string, componentPurl: string): boolean {
  let p: PackageURL;
  let c: PackageURL;
  try {
    p = PackageURL.fromString(productId);
    c = PackageURL.fromString(componentPurl);
  } catch {
    return productId === componentPurl;
  }
  if (p.type !== c.type || (p.namespace ?? '') !== (c.namespace ?? '') || p.name !== c.name) return false;
  // A product purl without a version names every version; qualifiers it gives must agree.
  if (p.version !== undefined && p.version !== null && p.version !== '' && p.version !== c.version) return false;
  const cq = c.qualifiers ?? {};
  return Object.entries(p.qualifiers ?? {}).every(([k, v]) => cq[k] === v);
}

function productMatches(product: VexProduct, finding: Finding): boolean {
  const purl = finding.component.purl;
  const ids = [product['@id'], product.identifiers?.['purl']].filter((x): x is string => x !== undefined);
  const direct = purl !== undefined && ids.some((id) => purlMatches(id, purl));
  // OpenVEX: subcomponents are the components of a product that carry the vulnerability.
  const sub = (product.subcomponents ?? []).some((s) => productMatches(s, finding));
  return direct || sub || ids.includes(finding.component.ref);
}

export interface VexOutcome {
  active: Finding[];
  suppressed: Finding[];
}

/** Applies VEX statements: not_affected and fixed suppress; the latest matching statement wins. */
export function applyVex(findings: readonly Finding[], documents: readonly { doc: OpenVexDocument; name: string }[]): VexOutcome {
  const statements = documents.flatMap(({ doc, name }) =>
    doc.statements.map((s, index) => ({ s, name, index, time: s.timestamp ?? doc.timestamp })),
  );
  const out: VexOutcome = { active: [], suppressed: [] };
  for (const f of findings) {
    const ids = new Set([f.id, ...f.aliases]);
    const applicable = statements
      .filter(({ s }) => ids.has(s.vulnerability.name) || (s.vulnerability.aliases ?? []).some((a) => ids.has(a)) || (s.vulnerability['@id'] !== undefined && ids.has(s.vulnerability['@id'])))
      .filter(({ s }) => s.products.some((p) => productMatches(p, f)));
    // OpenVEX "Statement precedence": a later statement overrides an earlier one.
    const latest = applicable.sort((a, b) => (Date.parse(a.time) - Date.parse(b.time)) || a.index - b.index).at(-1);
    if (latest === undefined) {
      out.active.push(f);
      continue;
    }
    const s = latest.s;
    const noted: Finding = {
      ...f,
      vex: {
        status: s.status,
        document: latest.name,
        ...(s.justification !== undefined ? { justification: s.justification } : {}),
        ...(s.impact_statement !== undefined ? { impact_statement: s.impact_statement } : {}),
        ...(s.action_statement !== undefined ? { action_statement: s.action_statement } : {}),
      },
    };
    if (s.status === 'not_affected' || s.status === 'fixed') out.suppressed.push(noted);
    else out.active.push(noted);
  }
  return out;
}
