// pnpm-lock.yaml, lockfileVersion 5.x, 6.0 and 9.0 (https://pnpm.io/git#lockfiles; format in
// pnpm/spec and pnpm's lockfile-types). v9 splits `packages` (metadata) from `snapshots` (edges);
// v6 keys are "/name@version(peers)", v5 keys "/name/version_peers".
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../core/index.ts';
import { hashesFromIntegrity } from './integrity.ts';
import { InventoryBuilder } from './inventory-builder.ts';
import type { Inventory } from './model.ts';
import { makePurl, splitNpmName } from './purl.ts';
import { scopesByReachability } from './reachability.ts';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(file: string, message: string): never {
  throw new InputError('LOCKFILE_INVALID', `${file}: ${message}`);
}

/** "name@1.2.3(peer@1)" / "/name@1.2.3" / "/name/1.2.3_peer" → name and bare version. */
export function parsePnpmKey(key: string, major: number): { name: string; version: string } | undefined {
  let k = key.startsWith('/') ? key.slice(1) : key;
  const paren = k.indexOf('(');
  if (paren > 0) k = k.slice(0, paren);
  if (major < 6) {
    const slash = k.lastIndexOf('/');
    if (slash <= 0) return undefined;
    const version = k.slice(slash + 1).split('_')[0] ?? '';
    return { name: k.slice(0, slash), version };
  }
  const at = k.lastIndexOf('@');
  if (at <= 0) return undefined;
  return { name: k.slice(0, at), version: k.slice(at + 1) };
}

/** A dependency's version reference in a snapshot/importer → the package key it names. */
function keyOf(name: string, ref: string, major: number): string | undefined {
  if (ref.startsWith('link:') || ref.startsWith('file:')) return undefined;
  if (major >= 9) return ref.includes('@') && !/^\d/.test(ref) ? ref : `${name}@${ref}`; // aliases: "real@1.0.0"
  if (ref.startsWith('/')) return ref; // aliases and v5/v6 absolute refs
  return major >= 6 ? `/${name}@${ref}` : `/${name}/${ref}`;
}

function baseKey(key: string, major: number): string {
  const p = parsePnpmKey(key, major);
  if (p === undefined) return key;
  return major >= 9 ? `${p.name}@${p.version}` : major >= 6 ? `/${p.name}@${p.version}` : `/${p.name}/${p.version}`;
}

function depMaps(e: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of ['dependencies', 'optionalDependencies']) {
    const v = e[f];
    if (isRecord(v)) for (const [n, r] of Object.entries(v)) if (typeof r === 'string') out[n] = r;
  }
  return out;
}

function importerRef(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v['version'] === 'string') return v['version'];
  return undefined;
}

interface PnpmDoc {
  major: number;
  packages: Json;
  snapshots: Json;
  importers: Json;
}

function loadPnpm(text: string, file: string): PnpmDoc {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InputError('LOCKFILE_INVALID', `${file} is not valid YAML`, { cause: e });
  }
  if (!isRecord(doc)) fail(file, 'must be a YAML mapping');
  const major = Number.parseFloat(String(doc['lockfileVersion']));
  if (!Number.isFinite(major) || major < 5 || major >= 10) {
    throw new InputError('LOCKFILE_UNSUPPORTED', `${file}: unsupported lockfileVersion ${JSON.stringify(doc['lockfileVersion'])} (supported: 5.x, 6.0, 9.0)`);
  }
  const packages = doc['packages'] ?? {};
  if (!isRecord(packages)) fail(file, "'packages' must be a mapping");
  const snapshots = major >= 9 ? (doc['snapshots'] ?? {}) : packages;
  if (!isRecord(snapshots)) fail(file, "'snapshots' must be a mapping");
  // Single-project lockfiles before v9 keep the importer fields at top level.
  const importers = isRecord(doc['importers']) ? doc['importers'] : { '.': doc };
  return { major, packages, snapshots, importers };
}

function addPackage(builder: InventoryBuilder, key: string, raw: Json, major: number): string | undefined {
  const p = parsePnpmKey(key, major);
  const name = typeof raw['name'] === 'string' ? raw['name'] : p?.name;
  const version = typeof raw['version'] === 'string' ? raw['version'] : p?.version;
  if (name === undefined || version === undefined || version === '') return undefined;
  const resolution = isRecord(raw['resolution']) ? raw['resolution'] : {};
  const hashes = hashesFromIntegrity(resolution['integrity']);
  const ns = splitNpmName(name);
  const isGit = resolution['type'] === 'git' || typeof resolution['commit'] === 'string';
  return builder.add({
    type: 'npm',
    ...(ns.namespace !== undefined ? { namespace: ns.namespace } : {}),
    name: ns.name,
    version,
    purl: makePurl('npm', ns.namespace, ns.name, version),
    hashes,
    scope: 'required',
    ...(typeof resolution['tarball'] === 'string' ? { resolved: resolution['tarball'] } : {}),
    ...(Object.keys(hashes).length === 0 && !isGit ? { missingIntegrity: true } : {}),
  });
}

const IMPORTER_FIELDS = [
  ['dependencies', 'required'],
  ['optionalDependencies', 'optional'],
  ['devDependencies', 'dev'],
] as const;

export interface PnpmOptions {
  /** package.json of a workspace importer ("packages/app"), so workspace packages become components. */
  importerManifest?: (importerPath: string) => Json | undefined;
}

/** Workspace importers with a readable package.json become components (refs by importer path). */
function addWorkspaces(builder: InventoryBuilder, importers: Json, options: PnpmOptions): Map<string, string> {
  const refs = new Map<string, string>();
  for (const path of Object.keys(importers)) {
    const m = path === '.' ? undefined : options.importerManifest?.(path);
    if (typeof m?.['name'] !== 'string' || typeof m['version'] !== 'string') continue;
    const ns = splitNpmName(m['name']);
    const ref = builder.add({
      type: 'npm',
      ...(ns.namespace !== undefined ? { namespace: ns.namespace } : {}),
      name: ns.name,
      version: m['version'],
      purl: makePurl('npm', ns.namespace, ns.name, m['version']),
      hashes: {},
      scope: 'required',
      location: path,
    });
    refs.set(path, ref);
    builder.addEdge(undefined, ref);
  }
  return refs;
}

function importerRoots(
  builder: InventoryBuilder,
  importers: Json,
  lookup: (name: string, version: string | undefined) => string | undefined,
  workspaces: Map<string, string>,
): { required: string[]; optional: string[]; dev: string[] } {
  const roots = { required: [...workspaces.values()], optional: [] as string[], dev: [] as string[] };
  for (const [path, importer] of Object.entries(importers)) {
    if (!isRecord(importer)) continue;
    const from = workspaces.get(path);
    for (const [field, scope] of IMPORTER_FIELDS) {
      const deps = importer[field];
      if (!isRecord(deps)) continue;
      for (const [n, v] of Object.entries(deps)) {
        const ref = importerRef(v);
        // "link:../lib": another workspace package, by its path relative to this importer.
        const to = ref?.startsWith('link:') === true ? workspaces.get(posix.normalize(posix.join(path, ref.slice(5)))) : lookup(n, ref);
        if (to === undefined) continue;
        builder.addEdge(from, to);
        roots[scope].push(to);
      }
    }
  }
  return roots;
}

export function readPnpmLock(text: string, file: string, options: PnpmOptions = {}): Inventory {
  const { major, packages, snapshots, importers } = loadPnpm(text, file);
  const builder = new InventoryBuilder();
  const refOf = new Map<string, string>();
  const rawOf = new Map<string, Json>();
  for (const [key, raw] of Object.entries(packages)) {
    if (!isRecord(raw)) fail(file, `package '${key}' must be a mapping`);
    const ref = addPackage(builder, key, raw, major);
    if (ref === undefined) continue;
    refOf.set(baseKey(key, major), ref);
    rawOf.set(ref, raw);
  }
  const lookup = (name: string, version: string | undefined): string | undefined => {
    const k = version === undefined ? undefined : keyOf(name, version, major);
    return k === undefined ? undefined : refOf.get(baseKey(k, major));
  };
  const edges = new Map<string, string[]>();
  for (const [key, raw] of Object.entries(snapshots)) {
    const from = isRecord(raw) ? refOf.get(baseKey(key, major)) : undefined;
    if (from === undefined || !isRecord(raw)) continue;
    for (const [n, r] of Object.entries(depMaps(raw))) {
      const to = lookup(n, r);
      if (to === undefined) continue;
      builder.addEdge(from, to);
      edges.set(from, [...(edges.get(from) ?? []), to]);
    }
  }
  const roots = importerRoots(builder, importers, lookup, addWorkspaces(builder, importers, options));
  const scopes = scopesByReachability(edges, roots);
  for (const c of builder.components()) {
    // v5/v6 carry dev/optional flags per package; v9 only has reachability from importers.
    const raw = major < 9 ? rawOf.get(c.ref) : undefined;
    if (raw?.['dev'] === true) c.scope = 'dev';
    else if (raw?.['optional'] === true) c.scope = 'optional';
    else c.scope = scopes.get(c.ref) ?? c.scope;
  }
  return builder.build({ name: 'root' }, [file]);
}
