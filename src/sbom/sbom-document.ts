// Reads the components back out of an SBOM file (CycloneDX JSON or SPDX 2.x JSON), for scans and
// license checks: the SBOM, not the source tree, is what a scan is about.
import { InputError, parseJson } from '../core/index.ts';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface SbomComponent {
  /** bom-ref (CycloneDX) or SPDXID (SPDX); unique within the document. */
  ref: string;
  name: string;
  version?: string;
  purl?: string;
  /** SPDX expression or license name, when the SBOM states one. */
  license?: string;
  /** CycloneDX scope or SPDX relationship-derived scope. */
  scope?: string;
  /** Hash algorithm → hex. */
  hashes: Record<string, string>;
  /** Distribution URL (SPDX downloadLocation), when known. */
  downloadLocation?: string;
}

export interface SbomDocument {
  format: 'cyclonedx' | 'spdx';
  components: SbomComponent[];
  /** The digest of the described artifact, for statements; name of the root. */
  rootName?: string;
}

function cdxLicense(c: Json): string | undefined {
  const list = c['licenses'];
  if (!Array.isArray(list)) return undefined;
  const parts: string[] = [];
  for (const l of list) {
    if (!isRecord(l)) continue;
    if (typeof l['expression'] === 'string') parts.push(l['expression']);
    else if (isRecord(l['license'])) {
      const id = l['license']['id'] ?? l['license']['name'];
      if (typeof id === 'string') parts.push(id);
    }
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : parts.map((p) => (/\s/.test(p) ? `(${p})` : p)).join(' OR ');
}

function walkCdx(list: unknown, out: SbomComponent[]): void {
  if (!Array.isArray(list)) return;
  for (const c of list) {
    if (!isRecord(c) || typeof c['name'] !== 'string') continue;
    const group = typeof c['group'] === 'string' ? c['group'] : undefined;
    const hashes: Record<string, string> = {};
    if (Array.isArray(c['hashes'])) for (const h of c['hashes']) if (isRecord(h) && typeof h['alg'] === 'string' && typeof h['content'] === 'string') hashes[h['alg']] = h['content'];
    const license = cdxLicense(c);
    out.push({
      ref: typeof c['bom-ref'] === 'string' ? c['bom-ref'] : `${group ?? ''}/${c['name']}@${typeof c['version'] === 'string' ? c['version'] : ''}`,
      name: group !== undefined && !group.includes('.') ? `${group}/${c['name']}` : c['name'],
      ...(typeof c['version'] === 'string' ? { version: c['version'] } : {}),
      ...(typeof c['purl'] === 'string' ? { purl: c['purl'] } : {}),
      ...(license !== undefined ? { license } : {}),
      ...(typeof c['scope'] === 'string' ? { scope: c['scope'] } : {}),
      hashes,
    });
    walkCdx(c['components'], out);
  }
}

function spdxPackage(p: Json): SbomComponent | undefined {
  if (typeof p['SPDXID'] !== 'string' || typeof p['name'] !== 'string') return undefined;
  const refs: unknown[] = Array.isArray(p['externalRefs']) ? p['externalRefs'] : [];
  const purl = refs.find((r): r is Json => isRecord(r) && r['referenceType'] === 'purl');
  const hashes: Record<string, string> = {};
  const checksums: unknown[] = Array.isArray(p['checksums']) ? p['checksums'] : [];
  for (const h of checksums) {
    if (isRecord(h) && typeof h['algorithm'] === 'string' && typeof h['checksumValue'] === 'string') hashes[h['algorithm'].replace(/^SHA(\d)/, 'SHA-$1')] = h['checksumValue'];
  }
  const declared = p['licenseDeclared'];
  const location = p['downloadLocation'];
  return {
    ref: p['SPDXID'],
    name: p['name'],
    ...(typeof p['versionInfo'] === 'string' ? { version: p['versionInfo'] } : {}),
    ...(purl !== undefined && typeof purl['referenceLocator'] === 'string' ? { purl: purl['referenceLocator'] } : {}),
    ...(typeof declared === 'string' && declared !== 'NOASSERTION' && declared !== 'NONE' ? { license: declared } : {}),
    ...(typeof location === 'string' && location !== 'NOASSERTION' && location !== 'NONE' ? { downloadLocation: location } : {}),
    hashes,
  };
}

function parseSpdxComponents(doc: Json): SbomDocument {
  const described = new Set<string>();
  const relationships: unknown[] = Array.isArray(doc['relationships']) ? doc['relationships'] : [];
  for (const r of relationships) {
    if (isRecord(r) && r['relationshipType'] === 'DESCRIBES' && typeof r['relatedSpdxElement'] === 'string') described.add(r['relatedSpdxElement']);
  }
  const components: SbomComponent[] = [];
  let rootName: string | undefined;
  const packages: unknown[] = Array.isArray(doc['packages']) ? doc['packages'] : [];
  for (const p of packages) {
    const c = isRecord(p) ? spdxPackage(p) : undefined;
    if (c === undefined) continue;
    // The package the document DESCRIBES is the subject, not a component of it.
    if (described.has(c.ref)) rootName ??= c.name;
    else components.push(c);
  }
  return { format: 'spdx', components, ...(rootName !== undefined ? { rootName } : {}) };
}

export function parseSbomDocument(text: string | Uint8Array, what = 'SBOM'): SbomDocument {
  let doc: unknown;
  try {
    doc = parseJson(text, what);
  } catch (e) {
    throw new InputError('SBOM_INVALID', `${what} is not JSON`, { cause: e });
  }
  if (!isRecord(doc)) throw new InputError('SBOM_INVALID', `${what} must be a JSON object`);
  if (doc['bomFormat'] === 'CycloneDX') {
    const components: SbomComponent[] = [];
    walkCdx(doc['components'], components);
    const meta = isRecord(doc['metadata']) && isRecord(doc['metadata']['component']) ? doc['metadata']['component'] : undefined;
    return { format: 'cyclonedx', components, ...(typeof meta?.['name'] === 'string' ? { rootName: meta['name'] } : {}) };
  }
  if (typeof doc['spdxVersion'] === 'string' && doc['spdxVersion'].startsWith('SPDX-2.')) return parseSpdxComponents(doc);
  throw new InputError('SBOM_INVALID', `${what} is neither CycloneDX (bomFormat) nor SPDX 2.x (spdxVersion)`);
}
