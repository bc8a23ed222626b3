// Python: pinned requirements files (pip's format, https://pip.pypa.io/en/stable/reference/requirements-file-format/,
// with --hash options as `pip-compile --generate-hashes` writes them) and poetry.lock.
import { parse as parseToml } from 'smol-toml';
import { InputError } from '../core/index.ts';
import { InventoryBuilder } from './inventory-builder.ts';
import { licenseFromManifest } from './license-text.ts';
import type { Inventory } from './model.ts';
import { makePurl } from './purl.ts';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** PEP 503 normalised name: lowercase, runs of -_. become '-'. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function firstSha256(hashes: string[]): Record<string, string> {
  // A requirement may list one hash per distribution file (wheels, sdist); CycloneDX holds one
  // value per algorithm, so the first is recorded (any of them is accepted by pip).
  const h = hashes.find((x) => /^sha256:[0-9a-f]{64}$/i.test(x));
  return h === undefined ? {} : { 'SHA-256': h.slice(7).toLowerCase() };
}

export interface RequirementsResult {
  inventory: Inventory;
  /** Lines that are not exact pins (name==version) and so give no component. */
  unpinned: string[];
}

export function readRequirements(text: string, file: string): RequirementsResult {
  const builder = new InventoryBuilder();
  const unpinned: string[] = [];
  // Join backslash continuations, drop comments (a '#' preceded by whitespace or at line start).
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.replace(/(^|\s)#.*$/, '').trim());
  for (const line of logical) {
    if (line === '' || line.startsWith('-')) continue; // options: -r, -c, -e, --index-url ...
    const hashes = [...line.matchAll(/--hash[=\s]+(\S+)/g)].map((m) => m[1] ?? '');
    const spec = line.replace(/--hash[=\s]+\S+/g, '').split(';')[0]!.trim();
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s,;]+)$/.exec(spec);
    if (m === null) {
      if (!/^[A-Za-z0-9]/.test(spec)) throw new InputError('LOCKFILE_INVALID', `${file}: cannot parse requirement '${line}'`);
      unpinned.push(spec);
      continue;
    }
    const name = normalizePypiName(m[1]!);
    const version = m[2]!;
    const sha = firstSha256(hashes);
    const ref = builder.add({
      type: 'pypi',
      name,
      version,
      purl: makePurl('pypi', undefined, name, version),
      hashes: sha,
      scope: 'required',
      ...(Object.keys(sha).length === 0 ? { missingIntegrity: true } : {}),
    });
    builder.addEdge(undefined, ref);
  }
  return { inventory: builder.build({ name: 'requirements' }, [file]), unpinned };
}

function loadPoetry(text: string, file: string): Json[] {
  let doc: Json;
  try {
    doc = parseToml(text);
  } catch (e) {
    throw new InputError('LOCKFILE_INVALID', `${file} is not valid TOML`, { cause: e });
  }
  const packages = doc['package'];
  if (!Array.isArray(packages)) throw new InputError('LOCKFILE_INVALID', `${file}: no [[package]] entries`);
  for (const p of packages) {
    if (!isRecord(p) || typeof p['name'] !== 'string' || typeof p['version'] !== 'string') {
      throw new InputError('LOCKFILE_INVALID', `${file}: every [[package]] needs string 'name' and 'version'`);
    }
  }
  return packages as Json[];
}

function addPoetryPackage(builder: InventoryBuilder, p: Json): string {
  const name = normalizePypiName(String(p['name']));
  const version = String(p['version']);
  const files = Array.isArray(p['files']) ? p['files'] : [];
  const sha = firstSha256(files.map((f) => (isRecord(f) && typeof f['hash'] === 'string' ? f['hash'] : '')));
  // lock-version 1 has category "dev"; 2.x has `groups`.
  const groups = Array.isArray(p['groups']) ? p['groups'] : [];
  const dev = p['category'] === 'dev' || (groups.length > 0 && !groups.includes('main'));
  const license = licenseFromManifest(p['license']);
  return builder.add({
    type: 'pypi',
    name,
    version,
    purl: makePurl('pypi', undefined, name, version),
    hashes: sha,
    ...(license !== undefined ? { license } : {}),
    scope: dev ? 'dev' : p['optional'] === true ? 'optional' : 'required',
    ...(Object.keys(sha).length === 0 ? { missingIntegrity: true } : {}),
  });
}

/** Names of pyproject.toml's direct dependencies (Poetry tables and PEP 621 `project.dependencies`). */
function pyprojectDependencies(pyproject: string): string[] {
  let py: Json;
  try {
    py = parseToml(pyproject);
  } catch (e) {
    throw new InputError('LOCKFILE_INVALID', 'pyproject.toml is not valid TOML', { cause: e });
  }
  const tool = isRecord(py['tool']) && isRecord(py['tool']['poetry']) ? py['tool']['poetry'] : {};
  const groups = isRecord(tool['group']) ? Object.values(tool['group']).map((g) => (isRecord(g) ? g['dependencies'] : undefined)) : [];
  const names = [tool['dependencies'], tool['dev-dependencies'], ...groups].filter(isRecord).flatMap((d) => Object.keys(d));
  const project = isRecord(py['project']) && Array.isArray(py['project']['dependencies']) ? py['project']['dependencies'] : [];
  for (const spec of project) if (typeof spec === 'string') names.push(/^[A-Za-z0-9._-]+/.exec(spec)?.[0] ?? '');
  return names;
}

/** poetry.lock (lock-version 1.x and 2.x). */
export function readPoetryLock(text: string, file: string, pyproject?: string): Inventory {
  const packages = loadPoetry(text, file);
  const builder = new InventoryBuilder();
  const byName = new Map<string, string>();
  for (const p of packages) byName.set(normalizePypiName(String(p['name'])), addPoetryPackage(builder, p));
  const depended = new Set<string>();
  for (const p of packages) {
    const from = byName.get(normalizePypiName(String(p['name'])));
    const deps = p['dependencies'];
    if (from === undefined || !isRecord(deps)) continue;
    for (const n of Object.keys(deps)) {
      const to = byName.get(normalizePypiName(n));
      if (to === undefined) continue;
      builder.addEdge(from, to);
      depended.add(to);
    }
  }
  // Direct dependencies: from pyproject.toml when given, else the packages nothing depends on.
  const direct = pyproject !== undefined
    ? pyprojectDependencies(pyproject).map((n) => byName.get(normalizePypiName(n))).filter((r): r is string => r !== undefined)
    : [...byName.values()].filter((r) => !depended.has(r));
  for (const ref of direct) builder.addEdge(undefined, ref);
  return builder.build({ name: 'poetry-project' }, [file]);
}
