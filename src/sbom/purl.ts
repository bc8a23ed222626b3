// Package URLs (purl-spec) for components. Built with packageurl-js, the package-url project's own
// JavaScript implementation (already a dependency of @cyclonedx/cyclonedx-library), so encoding
// and per-type normalisation (PyPI lowercase and '_'→'-', ...) match what other tools emit.
import { PackageURL } from 'packageurl-js';
import type { PurlType } from './model.ts';

export function makePurl(
  type: PurlType,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers?: Record<string, string>,
): string {
  const q = qualifiers !== undefined && Object.keys(qualifiers).length > 0 ? qualifiers : undefined;
  return new PackageURL(type, namespace, name, version, q, undefined).toString();
}

export interface ParsedPurl {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers: Record<string, string>;
}

/** Parses a purl; undefined when it is not one. */
export function parsePurl(purl: string): ParsedPurl | undefined {
  try {
    const p = PackageURL.fromString(purl);
    const out: ParsedPurl = { type: p.type, name: p.name, qualifiers: { ...(p.qualifiers ?? {}) } };
    if (p.namespace !== undefined && p.namespace !== null && p.namespace !== '') out.namespace = p.namespace;
    if (p.version !== undefined && p.version !== null && p.version !== '') out.version = p.version;
    return out;
  } catch {
    return undefined;
  }
}

/** npm names: '@scope/name' → namespace '@scope', name 'name'. */
export function splitNpmName(full: string): { namespace?: string; name: string } {
  if (full.startsWith('@')) {
    const slash = full.indexOf('/');
    if (slash > 1) return { namespace: full.slice(0, slash), name: full.slice(slash + 1) };
  }
  return { name: full };
}

/** The full package name of a purl as its ecosystem writes it (npm '@s/n', Go 'a/b/c', others name). */
export function ecosystemName(p: { type: string; namespace?: string; name: string }): string {
  if (p.namespace === undefined) return p.name;
  if (p.type === 'npm' || p.type === 'golang') return `${p.namespace}/${p.name}`;
  return p.name;
}
