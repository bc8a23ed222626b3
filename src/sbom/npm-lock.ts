// package-lock.json (lockfileVersion 1, 2, 3) and npm-shrinkwrap.json, including workspaces.
// Format: https://docs.npmjs.com/cli/v11/configuring-npm/package-lock-json — v2/v3 `packages` is
// keyed by install location; v1 only has the nested `dependencies` tree, which is converted to
// the same location map first. Edges follow Node's module resolution (nearest node_modules up).
import { InputError, parseJson } from '../core/index.ts';
import { hashesFromIntegrity } from './integrity.ts';
import { InventoryBuilder } from './inventory-builder.ts';
import { licenseFromManifest } from './license-text.ts';
import type { Inventory, Scope } from './model.ts';
import { makePurl, splitNpmName } from './purl.ts';

type Json = Record<string, unknown>;

export interface NpmLockOptions {
  /** The installed package.json at a location (for licenses v1 lockfiles lack), or undefined. */
  manifest?: (location: string) => Json | undefined;
  /**
   * When the tree is installed: whether a location exists on disk. Optional entries that are not
   * installed (other platforms' binaries) are then left out, as `npm ls` leaves them out.
   */
  installed?: (location: string) => boolean;
  /** The root package.json, used by v1 lockfiles to find the root's direct dependencies. */
  rootManifest?: Json;
}

interface Entry extends Json {
  name?: unknown;
  version?: unknown;
  resolved?: unknown;
  integrity?: unknown;
  link?: unknown;
  dev?: unknown;
  optional?: unknown;
  devOptional?: unknown;
  license?: unknown;
}

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const DEFAULT_REGISTRY = /^https?:\/\/registry\.npmjs\.org(:?\/|$)/;
const VCS = /^git(?:\+[^:]+)?:|\.git(?:#|$)|^ssh:/i;

function fail(file: string, message: string): never {
  throw new InputError('LOCKFILE_INVALID', `${file}: ${message}`);
}

/** v1 `dependencies` tree → v2-style `packages` map keyed by location. */
function packagesFromV1(deps: unknown, prefix: string, out: Record<string, Entry>, file: string): void {
  if (deps === undefined) return;
  if (!isRecord(deps)) fail(file, `'dependencies' under '${prefix || 'root'}' must be an object`);
  for (const [name, raw] of Object.entries(deps)) {
    if (!isRecord(raw)) fail(file, `dependency '${name}' must be an object`);
    const location = `${prefix}node_modules/${name}`;
    const entry: Entry = { ...raw, dependencies: raw['requires'] };
    let version = raw['version'];
    // v1 writes aliases as "npm:real-name@1.2.3" and git deps as the resolved URL.
    if (typeof version === 'string' && version.startsWith('npm:')) {
      const spec = version.slice(4);
      const at = spec.lastIndexOf('@');
      entry.name = spec.slice(0, at);
      version = spec.slice(at + 1);
    } else if (typeof version === 'string' && VCS.test(version)) {
      entry.resolved ??= version;
      version = undefined;
    }
    entry.version = version;
    out[location] = entry;
    packagesFromV1(raw['dependencies'], `${location}/`, out, file);
  }
}

function parentLocation(location: string): string | undefined {
  if (location === '') return undefined;
  const idx = location.lastIndexOf('/node_modules/');
  return idx >= 0 ? location.slice(0, idx) : '';
}

function resolveLocation(packages: Record<string, Entry>, from: string, name: string): string | undefined {
  // Node module resolution: from/node_modules/name, then each ancestor's node_modules.
  let base: string | undefined = from;
  while (base !== undefined) {
    const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    base = parentLocation(base);
  }
  return undefined;
}

function scopeOf(e: Entry): Scope {
  if (e.dev === true || e.devOptional === true) return 'dev';
  if (e.optional === true) return 'optional';
  return 'required';
}

function nameAt(location: string, e: Entry): string {
  if (typeof e.name === 'string' && e.name !== '') return e.name;
  const idx = location.lastIndexOf('node_modules/');
  return idx >= 0 ? location.slice(idx + 'node_modules/'.length) : location.split('/').pop() ?? location;
}

function qualifiers(resolved: unknown): Record<string, string> {
  // The same qualifiers @cyclonedx/cyclonedx-npm adds, so purls compare equal.
  if (typeof resolved !== 'string' || /^(?:ignore|file):/i.test(resolved)) return {};
  if (VCS.test(resolved)) return { vcs_url: resolved };
  if (!DEFAULT_REGISTRY.test(resolved)) return { download_url: resolved };
  return {};
}

function depNames(e: Json, withDev: boolean): string[] {
  const fields = ['dependencies', 'optionalDependencies', 'peerDependencies', ...(withDev ? ['devDependencies'] : [])];
  const names = new Set<string>();
  for (const f of fields) {
    const v = e[f];
    if (isRecord(v)) for (const n of Object.keys(v)) names.add(n);
  }
  return [...names];
}

function loadPackages(text: string | Uint8Array, file: string, options: NpmLockOptions): Record<string, Entry> {
  let doc: unknown;
  try {
    doc = parseJson(text, file);
  } catch (e) {
    throw new InputError('LOCKFILE_INVALID', `${file} is not valid JSON`, { cause: e });
  }
  if (!isRecord(doc)) fail(file, 'must be a JSON object');
  const version = doc['lockfileVersion'];
  if (version === 2 || version === 3) {
    if (!isRecord(doc['packages'])) fail(file, `lockfileVersion ${version} needs a 'packages' object`);
    const packages = doc['packages'] as Record<string, Entry>;
    for (const [k, v] of Object.entries(packages)) if (!isRecord(v)) fail(file, `packages['${k}'] must be an object`);
    packages[''] ??= { name: doc['name'], version: doc['version'] };
    return packages;
  }
  if (version !== 1) {
    throw new InputError('LOCKFILE_UNSUPPORTED', `${file}: unsupported lockfileVersion ${JSON.stringify(version)} (supported: 1, 2, 3)`);
  }
  const packages: Record<string, Entry> = { '': { name: doc['name'], version: doc['version'], ...(options.rootManifest ?? {}) } };
  packagesFromV1(doc['dependencies'], '', packages, file);
  if (options.rootManifest === undefined) {
    // Without package.json the root's direct dependencies are the top-level entries.
    const top: Record<string, string> = {};
    for (const loc of Object.keys(packages)) if (/^node_modules\/(@[^/]+\/)?[^/]+$/.test(loc)) top[loc.slice(13)] = '*';
    packages['']!['dependencies'] = top;
  }
  return packages;
}

function licenseAt(location: string, e: Entry, options: NpmLockOptions): string | undefined {
  const fromLock = licenseFromManifest(e.license);
  if (fromLock !== undefined || options.manifest === undefined) return fromLock;
  const m = options.manifest(location);
  return m === undefined ? undefined : licenseFromManifest(m['license'] ?? m['licenses']);
}

function addEntry(builder: InventoryBuilder, location: string, e: Entry & { version: string }, options: NpmLockOptions): string {
  const { namespace, name } = splitNpmName(nameAt(location, e));
  const license = licenseAt(location, e, options);
  const hashes = hashesFromIntegrity(e.integrity);
  const underNodeModules = location.includes('node_modules/');
  const resolved = typeof e.resolved === 'string' ? e.resolved : undefined;
  const pinnedGit = resolved !== undefined && /#[0-9a-f]{40}$/.test(resolved);
  return builder.add({
    type: 'npm',
    ...(namespace !== undefined ? { namespace } : {}),
    name,
    version: e.version,
    purl: makePurl('npm', namespace, name, e.version, qualifiers(resolved)),
    hashes,
    ...(license !== undefined ? { license } : {}),
    scope: underNodeModules ? scopeOf(e) : 'required',
    ...(resolved !== undefined ? { resolved } : {}),
    location,
    ...(underNodeModules && Object.keys(hashes).length === 0 && !pinnedGit ? { missingIntegrity: true } : {}),
  });
}

function addEdges(builder: InventoryBuilder, packages: Record<string, Entry>, refAt: Map<string, string>): void {
  const target = (location: string): string => {
    const e = packages[location];
    return e !== undefined && e.link === true && typeof e.resolved === 'string' ? e.resolved : location;
  };
  for (const [location, e] of Object.entries(packages)) {
    if (e.link === true) {
      // Workspaces are direct dependencies of the root (npm links them into node_modules).
      const to = typeof e.resolved === 'string' && location.startsWith('node_modules/') ? refAt.get(e.resolved) : undefined;
      if (to !== undefined) builder.addEdge(undefined, to);
      continue;
    }
    const from = location === '' ? undefined : refAt.get(location);
    if (location !== '' && from === undefined) continue;
    // npm installs devDependencies only for the root and workspace packages.
    for (const dep of depNames(e, !location.includes('node_modules/'))) {
      const found = resolveLocation(packages, location, dep);
      const to = found === undefined ? undefined : refAt.get(target(found));
      if (to !== undefined) builder.addEdge(from, to);
    }
  }
}

export function readNpmLock(text: string | Uint8Array, file: string, options: NpmLockOptions = {}): Inventory {
  const packages = loadPackages(text, file, options);
  const builder = new InventoryBuilder();
  const refAt = new Map<string, string>();
  for (const [location, e] of Object.entries(packages)) {
    if (location === '' || e.link === true || typeof e.version !== 'string' || e.version === '') continue;
    if (options.installed !== undefined && e.optional === true && !options.installed(location)) continue;
    refAt.set(location, addEntry(builder, location, e as Entry & { version: string }, options));
  }
  addEdges(builder, packages, refAt);
  const root = packages['']!;
  const rootName = typeof root.name === 'string' ? root.name : 'root';
  const rootVersion = typeof root.version === 'string' ? root.version : undefined;
  const ns = splitNpmName(rootName);
  return builder.build(
    { name: rootName, ...(rootVersion !== undefined ? { version: rootVersion, purl: makePurl('npm', ns.namespace, ns.name, rootVersion) } : {}) },
    [file],
  );
}
