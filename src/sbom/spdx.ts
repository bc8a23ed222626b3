// Inventory → SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/), and validation against our
// schema written from the spec plus the checks a schema cannot make (SPDXID uniqueness, every
// relationship naming an element of the document, license expressions parsing).
import { createHash } from 'node:crypto';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { InputError } from '../core/index.ts';
import { isSpdxExpression } from './license-text.ts';
import type { Component, Inventory } from './model.ts';
import { normalizeInventory } from './model.ts';
import { SPDX_23_SCHEMA } from './spdx-schema.ts';
import type { ToolInfo } from './cyclonedx.ts';

type Json = Record<string, unknown>;

const SPDX_ALG: Record<string, string> = { 'SHA-1': 'SHA1', 'SHA-256': 'SHA256', 'SHA-384': 'SHA384', 'SHA-512': 'SHA512' };

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');
}

function spdxIdFor(c: Component): string {
  // §7.2: SPDXRef-[idstring], letters, digits, '.', '-'. A short hash of the purl keeps ids unique.
  const h = createHash('sha256').update(c.ref).digest('hex').slice(0, 8);
  return `SPDXRef-Package-${sanitize(`${c.type}-${c.name}-${c.version}`).slice(0, 80)}-${h}`;
}

function formatDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface SpdxOptions {
  tool: ToolInfo;
  /** creationInfo.created (§6.9 requires it). */
  created: Date;
}

export function toSpdx(input: Inventory, options: SpdxOptions): string {
  const inv = normalizeInventory(input);
  const ids = new Map(inv.components.map((c) => [c.ref, spdxIdFor(c)]));
  const extracted = new Map<string, string>();
  const license = (text: string | undefined): string => {
    if (text === undefined) return 'NOASSERTION';
    if (isSpdxExpression(text)) return text;
    // §10: a license that is not on the SPDX list is referenced as LicenseRef-… with its text.
    const id = `LicenseRef-${sanitize(text).slice(0, 60) || 'unknown'}-${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
    extracted.set(id, text);
    return id;
  };
  const rootId = 'SPDXRef-Package-root';
  const packages: Json[] = [
    {
      name: inv.root.name,
      SPDXID: rootId,
      ...(inv.root.version !== undefined ? { versionInfo: inv.root.version } : {}),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      ...(inv.root.purl !== undefined ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: inv.root.purl }] } : {}),
      primaryPackagePurpose: 'APPLICATION',
    },
  ];
  for (const c of inv.components) {
    const checksums = Object.entries(c.hashes)
      .filter(([alg]) => SPDX_ALG[alg] !== undefined)
      .map(([alg, hex]) => ({ algorithm: SPDX_ALG[alg]!, checksumValue: hex }))
      .sort((a, b) => a.algorithm.localeCompare(b.algorithm));
    packages.push({
      name: c.namespace !== undefined && c.type !== 'deb' ? `${c.namespace}/${c.name}` : c.name,
      SPDXID: ids.get(c.ref)!,
      versionInfo: c.version,
      downloadLocation: c.resolved !== undefined && /^(https?|git\+[a-z]+|ssh):\/\//.test(c.resolved) ? c.resolved : 'NOASSERTION',
      filesAnalyzed: false,
      ...(checksums.length > 0 ? { checksums } : {}),
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: license(c.license),
      copyrightText: 'NOASSERTION',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: c.purl }],
      primaryPackagePurpose: 'LIBRARY',
    });
  }
  const relationships: Json[] = [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: rootId }];
  const scopeOf = new Map(inv.components.map((c) => [c.ref, c.scope]));
  const edge = (fromId: string, to: string): void => {
    const toId = ids.get(to);
    if (toId === undefined) return;
    // §11.1: dev and optional dependencies are stated from the dependency's side.
    const scope = scopeOf.get(to);
    if (scope === 'dev') relationships.push({ spdxElementId: toId, relationshipType: 'DEV_DEPENDENCY_OF', relatedSpdxElement: fromId });
    else if (scope === 'optional') relationships.push({ spdxElementId: toId, relationshipType: 'OPTIONAL_DEPENDENCY_OF', relatedSpdxElement: fromId });
    else relationships.push({ spdxElementId: fromId, relationshipType: 'DEPENDS_ON', relatedSpdxElement: toId });
  };
  for (const d of inv.rootDependencies) edge(rootId, d);
  for (const c of inv.components) for (const d of c.dependencies) edge(ids.get(c.ref)!, d);
  const body = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: inv.root.name,
    creationInfo: { created: formatDate(options.created), creators: [`Tool: ${options.tool.name}-${options.tool.version}`] },
    packages,
    relationships,
    ...(extracted.size > 0
      ? { hasExtractedLicensingInfos: [...extracted].sort(([a], [b]) => a.localeCompare(b)).map(([licenseId, extractedText]) => ({ licenseId, extractedText, name: extractedText })) }
      : {}),
  };
  // §6.5: a unique URI per document; derived from the content so equal inputs give equal output.
  const digest = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const { spdxVersion, dataLicense, SPDXID, name, ...rest } = body;
  const documentNamespace = `https://custody.dev/spdxdocs/${sanitize(inv.root.name) || 'sbom'}-${digest}`;
  return `${JSON.stringify({ spdxVersion, dataLicense, SPDXID, name, documentNamespace, ...rest }, null, 2)}\n`;
}

export interface SpdxIssue {
  code: 'SCHEMA' | 'SPDXID_DUPLICATE' | 'RELATIONSHIP_REF_UNKNOWN' | 'LICENSE_EXPRESSION_INVALID';
  path: string;
  message: string;
}

type AddFormats = (ajv: Ajv) => Ajv;
let compiled: ReturnType<Ajv['compile']> | undefined;

function schemaValidator(): ReturnType<Ajv['compile']> {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    (addFormatsModule as unknown as AddFormats)(ajv);
    compiled = ajv.compile(SPDX_23_SCHEMA);
  }
  return compiled;
}

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates an SPDX 2.3 JSON document: schema, then ids, relationships and license expressions. */
export function validateSpdx(text: string): SpdxIssue[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError('SBOM_INVALID', 'SPDX document is not JSON', { cause: e });
  }
  const issues: SpdxIssue[] = [];
  const validate = schemaValidator();
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) issues.push({ code: 'SCHEMA', path: e.instancePath || '/', message: e.message ?? e.keyword });
  }
  if (!isRecord(doc)) return issues;
  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  const extracted = new Set<string>();
  for (const l of Array.isArray(doc['hasExtractedLicensingInfos']) ? doc['hasExtractedLicensingInfos'] : []) {
    if (isRecord(l) && typeof l['licenseId'] === 'string') extracted.add(l['licenseId']);
  }
  for (const field of ['packages', 'files', 'snippets']) {
    const list = doc[field];
    if (!Array.isArray(list)) continue;
    list.forEach((p, i) => {
      if (!isRecord(p)) return;
      const id = p['SPDXID'];
      if (typeof id === 'string') {
        if (ids.has(id)) issues.push({ code: 'SPDXID_DUPLICATE', path: `/${field}/${i}/SPDXID`, message: `${id} is used twice` });
        ids.add(id);
      }
      for (const lf of ['licenseConcluded', 'licenseDeclared']) {
        const v = p[lf];
        if (typeof v !== 'string' || v === 'NOASSERTION' || v === 'NONE') continue;
        // Annex D: a LicenseRef must be defined in hasExtractedLicensingInfos (§10.1).
        const refs = v.match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? [];
        const undefinedRef = refs.find((r) => !extracted.has(r));
        if (!isSpdxExpression(v) || undefinedRef !== undefined) {
          issues.push({ code: 'LICENSE_EXPRESSION_INVALID', path: `/${field}/${i}/${lf}`, message: `'${v}' is not a valid SPDX license expression for this document` });
        }
      }
    });
  }
  const rels = doc['relationships'];
  if (Array.isArray(rels)) {
    rels.forEach((r, i) => {
      if (!isRecord(r)) return;
      for (const f of ['spdxElementId', 'relatedSpdxElement']) {
        const v = r[f];
        if (typeof v === 'string' && !v.startsWith('DocumentRef-') && v !== 'NONE' && v !== 'NOASSERTION' && !ids.has(v)) {
          issues.push({ code: 'RELATIONSHIP_REF_UNKNOWN', path: `/relationships/${i}/${f}`, message: `${v} is not an element of this document` });
        }
      }
    });
  }
  return issues;
}
