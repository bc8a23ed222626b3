// Finds the lockfiles and package databases in a directory (or takes one file) and reads them
// into one inventory. The only part of sbom/ that touches the file system.
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError, parseJson } from '../core/index.ts';
import { readCargoLock } from './cargo-lock.ts';
import { licenseFromDebianCopyright } from './debian-copyright.ts';
import { readDpkgStatus } from './dpkg-status.ts';
import { readGoMod } from './go-mod.ts';
import { InventoryBuilder } from './inventory-builder.ts';
import type { Inventory } from './model.ts';
import { readNpmLock } from './npm-lock.ts';
import { readPnpmLock } from './pnpm-lock.ts';
import { readPoetryLock, readRequirements } from './python-lock.ts';
import { makePurl, splitNpmName } from './purl.ts';
import { readYarnLock } from './yarn-lock.ts';

type Json = Record<string, unknown>;

export interface ReadResult {
  inventory: Inventory;
  warnings: string[];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readJsonObject(path: string): Json | undefined {
  const text = readText(path);
  if (text === undefined) return undefined;
  try {
    const v = parseJson(text, path);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

function osReleaseDistro(root: string): string | undefined {
  const text = readText(join(root, 'etc/os-release')) ?? readText(join(root, 'usr/lib/os-release'));
  if (text === undefined) return undefined;
  const field = (k: string): string | undefined => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1];
  const id = field('ID');
  const version = field('VERSION_ID');
  return id === undefined ? undefined : version === undefined ? id : `${id}-${version}`;
}

/** A package's license from the image's /usr/share/doc/PKG/copyright; symlinks are not followed out of the root. */
function debianCopyrightLicense(root: string, pkg: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9.+-]*$/.test(pkg)) return undefined;
  const path = join(root, 'usr/share/doc', pkg, 'copyright');
  try {
    if (lstatSync(path).isSymbolicLink() || lstatSync(join(root, 'usr/share/doc', pkg)).isSymbolicLink()) return undefined;
  } catch {
    return undefined;
  }
  const text = readText(path);
  return text === undefined ? undefined : licenseFromDebianCopyright(text);
}

function readOne(dir: string, file: string, warnings: string[]): Inventory | undefined {
  const path = join(dir, file);
  const text = readText(path);
  if (text === undefined) return undefined;
  const name = basename(file);
  const rootManifest = readJsonObject(join(dir, 'package.json'));
  if (name === 'package-lock.json' || name === 'npm-shrinkwrap.json' || file === 'node_modules/.package-lock.json') {
    const installed = existsSync(join(dir, 'node_modules'));
    return readNpmLock(text, file, {
      ...(rootManifest !== undefined ? { rootManifest } : {}),
      ...(installed
        ? {
            installed: (location: string) => existsSync(join(dir, location)),
            manifest: (location: string) => readJsonObject(join(dir, location, 'package.json')),
          }
        : {}),
    });
  }
  if (name === 'pnpm-lock.yaml') return readPnpmLock(text, file, { importerManifest: (importer: string) => readJsonObject(join(dir, importer, 'package.json')) });
  if (name === 'yarn.lock') return readYarnLock(text, file, rootManifest !== undefined ? { rootManifest } : {});
  if (name === 'Cargo.lock') return readCargoLock(text, file);
  if (name === 'go.mod') return readGoMod(text, readText(join(dir, 'go.sum')), file);
  if (name === 'poetry.lock') return readPoetryLock(text, file, readText(join(dir, 'pyproject.toml')));
  if (/^requirements.*\.txt$/.test(name)) {
    const r = readRequirements(text, file);
    for (const u of r.unpinned) warnings.push(`${file}: '${u}' is not pinned (name==version); left out`);
    return r.inventory;
  }
  if (file === 'var/lib/dpkg/status' || name === 'status') {
    const distro = osReleaseDistro(dir);
    return readDpkgStatus(text, file, { ...(distro !== undefined ? { distro } : {}), license: (pkg) => debianCopyrightLicense(dir, pkg) });
  }
  throw new InputError('LOCKFILE_UNSUPPORTED', `${file}: not a lockfile custody reads`);
}

const CANDIDATES = ['npm-shrinkwrap.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'Cargo.lock', 'go.mod', 'poetry.lock', 'var/lib/dpkg/status'];

/** Reads DIR's lockfiles (or PATH when it is a single file) into one inventory. */
export function readDirectory(path: string): ReadResult {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `cannot read ${path}`, { cause: e });
  }
  const dir = stat.isDirectory() ? path : dirname(path);
  const warnings: string[] = [];
  let files: string[];
  if (stat.isDirectory()) {
    files = CANDIDATES.filter((f) => existsSync(join(dir, f)));
    // npm reads npm-shrinkwrap.json in preference to package-lock.json.
    if (files.includes('npm-shrinkwrap.json')) files = files.filter((f) => f !== 'package-lock.json');
    // Without a lockfile an installed tree still has npm's hidden lockfile (same format, v3).
    if (!files.some((f) => f.endsWith('.json')) && existsSync(join(dir, 'node_modules/.package-lock.json'))) files.push('node_modules/.package-lock.json');
    if (!files.includes('poetry.lock')) files.push(...readdirSync(dir).filter((f) => /^requirements.*\.txt$/.test(f)).sort());
  } else {
    files = [basename(path)];
  }
  const inventories = files.map((f) => readOne(dir, f, warnings)).filter((i): i is Inventory => i !== undefined);
  if (inventories.length === 0) throw new InputError('INPUT_INVALID', `no lockfile or package database found in ${path} (looked for ${CANDIDATES.join(', ')}, requirements*.txt)`);
  const merged = mergeInventories(inventories);
  const manifest = readJsonObject(join(dir, 'package.json'));
  if (manifest !== undefined && typeof manifest['name'] === 'string') {
    const version = typeof manifest['version'] === 'string' ? manifest['version'] : undefined;
    const ns = splitNpmName(manifest['name']);
    merged.root = { name: manifest['name'], ...(version !== undefined ? { version, purl: makePurl('npm', ns.namespace, ns.name, version) } : {}) };
  } else if (merged.root.name === 'root' || merged.root.name === 'workspace') {
    merged.root = { name: basename(dir) };
  }
  return { inventory: merged, warnings };
}

export function mergeInventories(list: Inventory[]): Inventory {
  if (list.length === 1) return list[0]!;
  const builder = new InventoryBuilder();
  for (const inv of list) for (const c of inv.components) builder.add(c);
  for (const inv of list) for (const d of inv.rootDependencies) builder.addEdge(undefined, d);
  return builder.build(list[0]!.root, list.flatMap((i) => i.sources));
}
