// The ecosystem-neutral inventory every lockfile reader produces and every SBOM writer consumes:
// components with purl, version, hashes, licenses, scope and the dependency graph between them.

/** Package ecosystems custody reads, named by their purl type (purl-spec PURL-TYPES). */
export type PurlType = 'npm' | 'cargo' | 'golang' | 'pypi' | 'deb';

/** CycloneDX 1.6 component scope: dev dependencies map to `excluded` only on output. */
export type Scope = 'required' | 'optional' | 'dev';

export interface Component {
  /** Unique within an inventory; becomes the CycloneDX bom-ref and (sanitised) the SPDX id. */
  ref: string;
  type: PurlType;
  /** purl namespace (npm scope with '@', Go module path prefix, 'debian'). */
  namespace?: string;
  name: string;
  version: string;
  purl: string;
  /** Hash algorithm (CycloneDX names: SHA-1, SHA-256, SHA-512) → lowercase hex. */
  hashes: Record<string, string>;
  /** SPDX license expression, or a free-text name when it is not one. */
  license?: string;
  scope: Scope;
  /** refs of the components this one depends on directly. */
  dependencies: string[];
  /** Where the lockfile says it was fetched from (tarball URL, registry, git URL). */
  resolved?: string;
  /** Path of the package inside the tree (node_modules/a/node_modules/b), for npm. */
  location?: string;
  /** True when the lockfile entry had no integrity/checksum at all. */
  missingIntegrity?: boolean;
}

export interface Inventory {
  root: { name: string; version?: string; purl?: string };
  components: Component[];
  /** refs the root depends on directly. */
  rootDependencies: string[];
  /** The files that were read, relative to the scanned directory. */
  sources: string[];
}

/** Sorts components by ref and dependency lists, so output is deterministic. */
export function normalizeInventory(inv: Inventory): Inventory {
  const components = [...inv.components]
    .map((c) => ({ ...c, dependencies: [...new Set(c.dependencies)].sort() }))
    .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return {
    ...inv,
    components,
    rootDependencies: [...new Set(inv.rootDependencies)].sort(),
    sources: [...new Set(inv.sources)].sort(),
  };
}
