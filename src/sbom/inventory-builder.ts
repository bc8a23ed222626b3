// Collects components from a reader, merging entries that name the same purl (one package
// installed at several places in a tree is one component with the union of its edges).
import { normalizeInventory, type Component, type Inventory, type Scope } from './model.ts';

const SCOPE_RANK: Record<Scope, number> = { required: 0, optional: 1, dev: 2 };

export class InventoryBuilder {
  readonly #byRef = new Map<string, Component>();
  readonly #rootDeps = new Set<string>();

  /** Adds or merges a component; returns its ref (the purl). */
  add(c: Omit<Component, 'ref' | 'dependencies'> & { dependencies?: string[] }): string {
    const ref = c.purl;
    const existing = this.#byRef.get(ref);
    if (existing === undefined) {
      this.#byRef.set(ref, { ...c, ref, dependencies: [...(c.dependencies ?? [])] });
      return ref;
    }
    // The least restrictive scope wins: required anywhere means required.
    if (SCOPE_RANK[c.scope] < SCOPE_RANK[existing.scope]) existing.scope = c.scope;
    for (const [alg, hex] of Object.entries(c.hashes)) existing.hashes[alg] ??= hex;
    if (existing.license === undefined && c.license !== undefined) existing.license = c.license;
    if (c.missingIntegrity !== true) delete existing.missingIntegrity;
    existing.dependencies.push(...(c.dependencies ?? []));
    return ref;
  }

  get(ref: string): Component | undefined {
    return this.#byRef.get(ref);
  }

  addEdge(from: string | undefined, to: string): void {
    if (from === undefined) this.#rootDeps.add(to);
    else this.#byRef.get(from)?.dependencies.push(to);
  }

  components(): Component[] {
    return [...this.#byRef.values()];
  }

  build(root: Inventory['root'], sources: string[]): Inventory {
    const known = new Set(this.#byRef.keys());
    const components = this.components().map((c) => ({
      ...c,
      dependencies: c.dependencies.filter((d) => d !== c.ref && known.has(d)),
    }));
    return normalizeInventory({ root, components, rootDependencies: [...this.#rootDeps].filter((d) => known.has(d)), sources });
  }
}
