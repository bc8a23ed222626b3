// Lockfile dependencies as SLSA resolvedDependencies: each locked npm package with its registry
// integrity digest (package-lock.json v2/v3 `packages`). Only what the lockfile pins is listed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, type ResourceDescriptor } from '../core/index.ts';

const SRI_ALGORITHMS: Record<string, string> = { sha512: 'sha512', sha384: 'sha384', sha256: 'sha256', sha1: 'sha1' };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `pkg:npm/` purl of a package name and version (scoped names keep their %40-encoded scope). */
function npmPurl(name: string, version: string): string {
  const encoded = name.startsWith('@') ? `%40${name.slice(1)}` : name;
  return `pkg:npm/${encoded}@${encodeURIComponent(version)}`;
}

/** Dependencies pinned by `dir/package-lock.json`; none when there is no lockfile. */
export function npmLockDependencies(dir: string): ResourceDescriptor[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'package-lock.json'), 'utf8');
  } catch {
    return [];
  }
  const lock = parseJson(text, 'package-lock.json');
  if (!isRecord(lock) || !isRecord(lock['packages'])) return [];
  const out: ResourceDescriptor[] = [];
  for (const [path, entry] of Object.entries(lock['packages'])) {
    if (path === '' || !isRecord(entry) || entry['link'] === true) continue;
    const version = entry['version'];
    const integrity = entry['integrity'];
    if (typeof version !== 'string') continue;
    const name = typeof entry['name'] === 'string' ? entry['name'] : path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const digest: Record<string, string> = {};
    // SRI: "<alg>-<base64>", possibly several separated by spaces.
    for (const part of typeof integrity === 'string' ? integrity.split(/\s+/) : []) {
      const dash = part.indexOf('-');
      const alg = SRI_ALGORITHMS[part.slice(0, dash)];
      if (alg !== undefined) digest[alg] = Buffer.from(part.slice(dash + 1), 'base64').toString('hex');
    }
    const rd: ResourceDescriptor = { uri: npmPurl(name, version), name: path };
    if (Object.keys(digest).length > 0) rd.digest = digest;
    if (typeof entry['resolved'] === 'string') rd.downloadLocation = entry['resolved'];
    out.push(rd);
  }
  return out.sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0));
}
