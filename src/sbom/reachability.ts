// Scope from reachability when a lockfile has no per-package dev flag (pnpm 9, yarn): reachable
// from a production dependency → required; else from an optional one → optional; else dev.
import type { Scope } from './model.ts';

export function scopesByReachability(
  edges: ReadonlyMap<string, readonly string[]>,
  roots: { required: Iterable<string>; optional: Iterable<string>; dev: Iterable<string> },
): Map<string, Scope> {
  const out = new Map<string, Scope>();
  const walk = (starts: Iterable<string>, scope: Scope): void => {
    const stack = [...starts];
    while (stack.length > 0) {
      const ref = stack.pop()!;
      if (out.has(ref)) continue;
      out.set(ref, scope);
      for (const next of edges.get(ref) ?? []) if (!out.has(next)) stack.push(next);
    }
  };
  walk(roots.required, 'required');
  walk(roots.optional, 'optional');
  walk(roots.dev, 'dev');
  return out;
}
