// yarn.lock: classic (v1, yarn's own indented format) and berry (yarn 2+, YAML with __metadata).
// Entries are keyed by the descriptors ("name@range") that resolved to them; edges look the
// dependency's descriptor up in that map. yarn.lock has no root entry (classic), so the root's
// direct dependencies and dev scope come from package.json when given.
import { parse as parseYaml } from 'yaml';
import { InputError } from '../core/index.ts';
import { hashesFromIntegrity } from './integrity.ts';
import { InventoryBuilder } from './inventory-builder.ts';
import type { Inventory } from './model.ts';
import { makePurl, splitNpmName } from './purl.ts';
import { scopesByReachability } from './reachability.ts';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface YarnEntry {
  descriptors: string[];
  name: string;
  version: string;
  resolved?: string;
  integrity?: string;
  checksum?: string;
  dependencies: Record<string, string>;
  workspace: boolean;
}

function fail(file: string, line: number, message: string): never {
  throw new InputError('LOCKFILE_INVALID', `${file}:${line}: ${message}`);
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

/** "name@range" → name (scoped names keep their leading '@'). */
export function descriptorName(descriptor: string): string {
  const at = descriptor.indexOf('@', 1);
  return at < 0 ? descriptor : descriptor.slice(0, at);
}

/** Splits "key value" where either part may be quoted. */
function splitKeyValue(line: string): [string, string] {
  const m = /^("(?:[^"\\]|\\.)*"|\S+)\s+(.*)$/.exec(line);
  if (m === null) return [unquote(line), ''];
  return [unquote(m[1] ?? ''), unquote(m[2] ?? '')];
}

/** Parses the classic v1 format (https://classic.yarnpkg.com/lang/en/docs/yarn-lock/). */
export function parseYarnClassic(text: string, file: string): YarnEntry[] {
  const entries: YarnEntry[] = [];
  let current: YarnEntry | undefined;
  let block: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 0) {
      if (!line.endsWith(':')) fail(file, i + 1, 'expected "descriptor[, descriptor]:"');
      const descriptors = line.slice(0, -1).split(/,\s*/).map(unquote).filter((d) => d !== '');
      if (descriptors.length === 0) fail(file, i + 1, 'entry without descriptors');
      current = { descriptors, name: descriptorName(descriptors[0]!), version: '', dependencies: {}, workspace: false };
      entries.push(current);
      block = undefined;
      return;
    }
    if (current === undefined) fail(file, i + 1, 'field outside an entry');
    if (indent <= 2) {
      if (line.endsWith(':')) {
        block = unquote(line.slice(0, -1));
        return;
      }
      block = undefined;
      const [key, value] = splitKeyValue(line);
      if (key === 'version') current.version = value;
      else if (key === 'resolved') current.resolved = value;
      else if (key === 'integrity') current.integrity = value;
      return;
    }
    if (block === 'dependencies' || block === 'optionalDependencies') {
      const [name, range] = splitKeyValue(line);
      current.dependencies[name] = range;
    }
  });
  for (const e of entries) {
    if (e.version === '') throw new InputError('LOCKFILE_INVALID', `${file}: entry '${e.descriptors[0] ?? ''}' has no version`);
    // Aliases: "alias@npm:real@^1" installs package "real".
    const range = e.descriptors[0]!.slice(e.name.length + 1);
    if (range.startsWith('npm:')) e.name = descriptorName(range.slice(4));
  }
  return entries;
}

/** Parses the berry (yarn ≥ 2) YAML format. */
export function parseYarnBerry(text: string, file: string): YarnEntry[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InputError('LOCKFILE_INVALID', `${file} is not valid YAML`, { cause: e });
  }
  if (!isRecord(doc) || !isRecord(doc['__metadata'])) throw new InputError('LOCKFILE_INVALID', `${file}: missing __metadata`);
  const entries: YarnEntry[] = [];
  for (const [key, raw] of Object.entries(doc)) {
    if (key === '__metadata') continue;
    if (!isRecord(raw)) throw new InputError('LOCKFILE_INVALID', `${file}: entry '${key}' must be a mapping`);
    const resolution = typeof raw['resolution'] === 'string' ? raw['resolution'] : '';
    const name = descriptorName(resolution);
    const version = raw['version'];
    if (resolution === '' || (typeof version !== 'string' && typeof version !== 'number')) {
      throw new InputError('LOCKFILE_INVALID', `${file}: entry '${key}' needs 'resolution' and 'version'`);
    }
    const dependencies: Record<string, string> = {};
    for (const f of ['dependencies', 'optionalDependencies']) {
      const d = raw[f];
      if (isRecord(d)) for (const [n, r] of Object.entries(d)) dependencies[n] = String(r);
    }
    entries.push({
      descriptors: key.split(/,\s*/).map((d) => d.trim()),
      name,
      version: String(version),
      ...(typeof raw['checksum'] === 'string' ? { checksum: raw['checksum'] } : {}),
      resolved: resolution,
      dependencies,
      workspace: resolution.slice(name.length + 1).startsWith('workspace:'),
    });
  }
  return entries;
}

export interface YarnOptions {
  /** The root package.json: its dependency fields decide direct dependencies and dev scope. */
  rootManifest?: Json;
}

function addYarnEntry(builder: InventoryBuilder, e: YarnEntry): string {
  const ns = splitNpmName(e.name);
  const hashes = hashesFromIntegrity(e.integrity);
  // Classic lockfiles without `integrity` carry the tarball's SHA-1 in the URL fragment.
  const sha1 = e.resolved !== undefined ? /#([0-9a-f]{40})$/.exec(e.resolved)?.[1] : undefined;
  if (sha1 !== undefined && Object.keys(hashes).length === 0) hashes['SHA-1'] = sha1;
  // berry's `checksum` is of yarn's cache zip, not the registry tarball: an integrity check all
  // the same, so such entries are not flagged.
  const unverified = Object.keys(hashes).length === 0 && e.checksum === undefined && !e.workspace;
  return builder.add({
    type: 'npm',
    ...(ns.namespace !== undefined ? { namespace: ns.namespace } : {}),
    name: ns.name,
    version: e.version,
    purl: makePurl('npm', ns.namespace, ns.name, e.version),
    hashes,
    scope: 'required',
    ...(e.resolved !== undefined ? { resolved: e.resolved } : {}),
    ...(unverified ? { missingIntegrity: true } : {}),
  });
}

function manifestDeps(manifest: Json | undefined, field: string): Record<string, string> {
  const v = manifest?.[field];
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [n, r] of Object.entries(v)) out[n] = String(r);
  return out;
}

type Lookup = (name: string, range: string) => string | undefined;

/** Scopes from package.json (or the berry root workspace): reachability from each dependency field. */
function applyManifestScopes(builder: InventoryBuilder, edges: Map<string, string[]>, lookup: Lookup, manifest: Json | undefined, rootEntry: YarnEntry | undefined, workspaces: string[]): void {
  const roots = { required: [...workspaces], optional: [] as string[], dev: [] as string[] };
  const fields: [Record<string, string>, string[]][] = [
    [{ ...(rootEntry?.dependencies ?? {}), ...manifestDeps(manifest, 'dependencies') }, roots.required],
    [manifestDeps(manifest, 'optionalDependencies'), roots.optional],
    [manifestDeps(manifest, 'devDependencies'), roots.dev],
  ];
  for (const [deps, bucket] of fields) {
    for (const [n, r] of Object.entries(deps)) {
      const to = lookup(n, r);
      if (to === undefined) continue;
      builder.addEdge(undefined, to);
      bucket.push(to);
    }
  }
  const scopes = scopesByReachability(edges, roots);
  for (const c of builder.components()) c.scope = scopes.get(c.ref) ?? 'dev';
}

function parseYarnEntries(text: string, file: string): YarnEntry[] {
  const berry = /^__metadata:/m.test(text);
  if (!berry && !/^# yarn lockfile v1/m.test(text) && text.trim() !== '') {
    throw new InputError('LOCKFILE_UNSUPPORTED', `${file}: neither a yarn v1 lockfile nor a yarn berry lockfile`);
  }
  return berry ? parseYarnBerry(text, file) : parseYarnClassic(text, file);
}

export function readYarnLock(text: string, file: string, options: YarnOptions = {}): Inventory {
  const entries = parseYarnEntries(text, file);
  const builder = new InventoryBuilder();
  const byDescriptor = new Map<string, string>();
  const refOfEntry = new Map<YarnEntry, string>();
  const rootEntry = entries.find((e) => e.workspace && e.resolved?.endsWith('@workspace:.') === true);
  for (const e of entries) {
    if (e === rootEntry) continue;
    const ref = addYarnEntry(builder, e);
    refOfEntry.set(e, ref);
    for (const d of e.descriptors) byDescriptor.set(d, ref);
  }
  const lookup: Lookup = (name, range) => byDescriptor.get(`${name}@${range}`) ?? byDescriptor.get(`${name}@npm:${range}`);
  const edges = new Map<string, string[]>();
  for (const [e, from] of refOfEntry) {
    for (const [n, r] of Object.entries(e.dependencies)) {
      const to = lookup(n, r);
      if (to === undefined) continue;
      builder.addEdge(from, to);
      edges.set(from, [...(edges.get(from) ?? []), to]);
    }
  }
  const manifest = options.rootManifest;
  if (manifest !== undefined || rootEntry !== undefined) {
    // Workspace packages are part of the project: their dependencies count as required.
    const workspaces = [...refOfEntry].filter(([e]) => e.workspace).map(([, ref]) => ref);
    applyManifestScopes(builder, edges, lookup, manifest, rootEntry, workspaces);
  } else {
    // No package.json: the roots are the entries nothing depends on.
    const depended = new Set([...edges.values()].flat());
    for (const ref of refOfEntry.values()) if (!depended.has(ref)) builder.addEdge(undefined, ref);
  }
  const rootName = typeof manifest?.['name'] === 'string' ? manifest['name'] : (rootEntry?.name ?? 'root');
  return builder.build({ name: rootName }, [file]);
}
