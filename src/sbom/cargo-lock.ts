// Cargo.lock (format versions 1–4, https://doc.rust-lang.org/cargo/guide/cargo-toml-vs-cargo-lock.html).
// Each [[package]] lists its dependencies as "name", "name version" or "name version (source)";
// packages without `source` are the workspace's own crates, the roots of the graph.
import { parse as parseToml } from 'smol-toml';
import { InputError } from '../core/index.ts';
import { hexHash } from './integrity.ts';
import { InventoryBuilder } from './inventory-builder.ts';
import type { Inventory } from './model.ts';
import { makePurl } from './purl.ts';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const CRATES_IO = 'registry+https://github.com/rust-lang/crates.io-index';

function parseCargoToml(text: string, file: string): { packages: Json[]; metadata: Json } {
  let doc: Json;
  try {
    doc = parseToml(text);
  } catch (e) {
    throw new InputError('LOCKFILE_INVALID', `${file} is not valid TOML`, { cause: e });
  }
  const version = doc['version'];
  if (version !== undefined && (typeof version !== 'number' || version < 1 || version > 4)) {
    throw new InputError('LOCKFILE_UNSUPPORTED', `${file}: unsupported Cargo.lock version ${JSON.stringify(version)}`);
  }
  const packages = doc['package'];
  if (!Array.isArray(packages)) throw new InputError('LOCKFILE_INVALID', `${file}: no [[package]] entries`);
  for (const p of packages) {
    if (!isRecord(p) || typeof p['name'] !== 'string' || typeof p['version'] !== 'string') {
      throw new InputError('LOCKFILE_INVALID', `${file}: every [[package]] needs string 'name' and 'version'`);
    }
  }
  // Format v1 keeps checksums in [metadata] as "checksum NAME VERSION (SOURCE)" = "hex".
  return { packages: packages as Json[], metadata: isRecord(doc['metadata']) ? doc['metadata'] : {} };
}

function cargoQualifiers(source: string | undefined): Record<string, string> {
  if (source === undefined || source === CRATES_IO) return {};
  if (source.startsWith('git+')) return { vcs_url: source.slice(4) };
  return { repository_url: source.replace(/^(sparse|registry)\+/, '') };
}

interface Crate {
  version: string;
  ref: string;
}

function addCrate(builder: InventoryBuilder, p: Json, metadata: Json): string {
  const name = String(p['name']);
  const version = String(p['version']);
  const source = typeof p['source'] === 'string' ? p['source'] : undefined;
  const checksum = p['checksum'] ?? (source !== undefined ? metadata[`checksum ${name} ${version} (${source})`] : undefined);
  const hashes = hexHash('SHA-256', checksum);
  const unverified = source !== undefined && !source.startsWith('git+') && Object.keys(hashes).length === 0;
  return builder.add({
    type: 'cargo',
    name,
    version,
    purl: makePurl('cargo', undefined, name, version, cargoQualifiers(source)),
    hashes,
    scope: 'required',
    ...(source !== undefined ? { resolved: source } : {}),
    ...(unverified ? { missingIntegrity: true } : {}),
  });
}

export function readCargoLock(text: string, file: string): Inventory {
  const { packages, metadata } = parseCargoToml(text, file);
  const builder = new InventoryBuilder();
  const byName = new Map<string, Crate[]>();
  const members: string[] = [];
  for (const p of packages) {
    const ref = addCrate(builder, p, metadata);
    const name = String(p['name']);
    byName.set(name, [...(byName.get(name) ?? []), { version: String(p['version']), ref }]);
    if (p['source'] === undefined) members.push(ref);
  }
  for (const p of packages) {
    const from = byName.get(String(p['name']))?.find((c) => c.version === p['version'])?.ref;
    const deps = p['dependencies'];
    if (from === undefined || !Array.isArray(deps)) continue;
    for (const d of deps) {
      if (typeof d !== 'string') continue;
      const [name = '', version] = d.split(' ');
      const candidates = byName.get(name) ?? [];
      const hit = version === undefined ? candidates[0] : candidates.find((c) => c.version === version);
      if (hit !== undefined) builder.addEdge(from, hit.ref);
    }
  }
  for (const m of members) builder.addEdge(undefined, m);
  return builder.build({ name: 'workspace' }, [file]);
}
