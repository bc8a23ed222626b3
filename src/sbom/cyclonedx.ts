// Inventory → CycloneDX 1.6 JSON through @cyclonedx/cyclonedx-library's models and serializer,
// and validation: the library's strict JSON-schema validator plus the referential checks the
// schema cannot express (bom-ref uniqueness, dependency references).
import { createHash } from 'node:crypto';
import { Enums, Models, SPDX, Serialize, Spec, Validation } from '@cyclonedx/cyclonedx-library';
import parseSpdx from 'spdx-expression-parse';
import { InputError } from '../core/index.ts';
import { isSpdxExpression } from './license-text.ts';
import type { Component, Inventory } from './model.ts';
import { normalizeInventory } from './model.ts';

export interface ToolInfo {
  name: string;
  version: string;
}

export interface BomOptions {
  tool: ToolInfo;
  /** metadata.timestamp; omitted when undefined (deterministic output without SOURCE_DATE_EPOCH). */
  timestamp?: Date;
}

const SCOPES = {
  required: Enums.ComponentScope.Required,
  optional: Enums.ComponentScope.Optional,
  // CycloneDX 1.6 `excluded`: "component usage for test and other non-runtime purposes".
  dev: Enums.ComponentScope.Excluded,
} as const;

function licenseModel(text: string): Models.License {
  if (isSpdxExpression(text)) {
    const parsed = parseSpdx(text);
    if ('license' in parsed && parsed.exception === undefined && parsed.plus !== true && SPDX.isSupportedSpdxId(parsed.license)) {
      return new Models.SpdxLicense(parsed.license);
    }
    return new Models.LicenseExpression(text);
  }
  return new Models.NamedLicense(text);
}

function componentModel(c: Component): Models.Component {
  const hashes = new Models.HashDictionary();
  for (const [alg, hex] of Object.entries(c.hashes)) hashes.set(alg as Enums.HashAlgorithm, hex);
  const licenses = new Models.LicenseRepository();
  if (c.license !== undefined) licenses.add(licenseModel(c.license));
  return new Models.Component(Enums.ComponentType.Library, c.name, {
    bomRef: c.ref,
    ...(c.namespace !== undefined && c.type !== 'deb' ? { group: c.namespace } : {}),
    version: c.version,
    purl: c.purl as unknown as Models.Component['purl'],
    hashes,
    licenses,
    scope: SCOPES[c.scope],
  });
}

/** A deterministic urn:uuid from the content (RFC 9562 version 8, name-based with SHA-256). */
export function contentSerialNumber(inv: Inventory): string {
  const h = createHash('sha256').update(JSON.stringify(normalizeInventory(inv))).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** Builds the CycloneDX 1.6 JSON text: lists sorted, 2-space indented, newline-terminated. */
export function toCycloneDx(input: Inventory, options: BomOptions): string {
  const inv = normalizeInventory(input);
  const bom = new Models.Bom({ serialNumber: contentSerialNumber(inv) });
  const rootRef = inv.root.purl ?? `root:${inv.root.name}`;
  const root = new Models.Component(Enums.ComponentType.Application, inv.root.name, {
    bomRef: rootRef,
    ...(inv.root.version !== undefined ? { version: inv.root.version } : {}),
    ...(inv.root.purl !== undefined ? { purl: inv.root.purl as unknown as Models.Component['purl'] } : {}),
  });
  bom.metadata.component = root;
  if (options.timestamp !== undefined) bom.metadata.timestamp = options.timestamp;
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, options.tool.name, { version: options.tool.version }),
  );
  const models = new Map<string, Models.Component>();
  for (const c of inv.components) {
    const m = componentModel(c);
    models.set(c.ref, m);
    bom.components.add(m);
  }
  for (const c of inv.components) {
    const m = models.get(c.ref)!;
    for (const d of c.dependencies) {
      const target = models.get(d);
      if (target !== undefined) m.dependencies.add(target.bomRef);
    }
  }
  for (const d of inv.rootDependencies) {
    const target = models.get(d);
    if (target !== undefined) root.dependencies.add(target.bomRef);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}

export interface BomIssue {
  code: 'SCHEMA' | 'BOM_REF_DUPLICATE' | 'DEPENDENCY_REF_UNKNOWN' | 'DEPENDENCY_DUPLICATE';
  path: string;
  message: string;
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function collectBomRefs(node: unknown, path: string, seen: Map<string, string>, issues: BomIssue[]): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => collectBomRefs(v, `${path}[${i}]`, seen, issues));
    return;
  }
  if (!isRecord(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'bom-ref' && typeof v === 'string') {
      // CycloneDX 1.6 refType: "Every bom-ref must be unique within the BOM."
      const first = seen.get(v);
      if (first !== undefined) issues.push({ code: 'BOM_REF_DUPLICATE', path, message: `bom-ref '${v}' already used at ${first}` });
      else seen.set(v, path);
    } else if (k !== 'dependencies') {
      collectBomRefs(v, `${path}.${k}`, seen, issues);
    }
  }
}

/** bom-ref uniqueness and dependency references (refLinkType: must name an existing bom-ref). */
export function checkBomReferences(doc: unknown): BomIssue[] {
  const issues: BomIssue[] = [];
  const refs = new Map<string, string>();
  collectBomRefs(doc, '$', refs, issues);
  const deps = isRecord(doc) ? doc['dependencies'] : undefined;
  if (Array.isArray(deps)) {
    const owners = new Set<string>();
    deps.forEach((d, i) => {
      if (!isRecord(d)) return;
      const ref = d['ref'];
      if (typeof ref === 'string') {
        if (!refs.has(ref)) issues.push({ code: 'DEPENDENCY_REF_UNKNOWN', path: `$.dependencies[${i}].ref`, message: `'${ref}' is not a bom-ref in this BOM` });
        if (owners.has(ref)) issues.push({ code: 'DEPENDENCY_DUPLICATE', path: `$.dependencies[${i}]`, message: `'${ref}' has two dependency entries` });
        owners.add(ref);
      }
      for (const field of ['dependsOn', 'provides']) {
        const list = d[field];
        if (!Array.isArray(list)) continue;
        list.forEach((t, j) => {
          if (typeof t === 'string' && !refs.has(t)) {
            issues.push({ code: 'DEPENDENCY_REF_UNKNOWN', path: `$.dependencies[${i}].${field}[${j}]`, message: `'${t}' is not a bom-ref in this BOM` });
          }
        });
      }
    });
  }
  return issues;
}

let validator: Validation.JsonStrictValidator | undefined;

/** Validates CycloneDX 1.6 JSON text: schema (strict) first, then references. Returns every issue. */
export async function validateCycloneDx(text: string): Promise<BomIssue[]> {
  validator ??= new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  let schemaError: unknown;
  try {
    schemaError = await validator.validate(text);
  } catch (e) {
    throw new InputError('SBOM_INVALID', 'CycloneDX validation could not run (is ajv installed?)', { cause: e });
  }
  const issues: BomIssue[] = [];
  if (schemaError !== null) {
    const list = Array.isArray(schemaError) ? (schemaError as unknown[]) : [schemaError];
    for (const e of list) {
      const r = isRecord(e) ? e : {};
      const path = typeof r['instancePath'] === 'string' ? r['instancePath'] : '$';
      const message = typeof r['message'] === 'string' ? r['message'] : JSON.stringify(e);
      issues.push({ code: 'SCHEMA', path, message });
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return issues.length > 0 ? issues : [{ code: 'SCHEMA', path: '$', message: 'not JSON' }];
  }
  return [...issues, ...checkBomReferences(doc)];
}
