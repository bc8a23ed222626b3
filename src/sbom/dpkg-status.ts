// Debian's dpkg status database (var/lib/dpkg/status of an image root; deb-control(5) paragraphs).
// Only packages whose Status is "install ok installed" are components; Depends/Pre-Depends give
// the edges (the first alternative that is installed, or that a package Provides).
import { InputError } from '../core/index.ts';
import { InventoryBuilder } from './inventory-builder.ts';
import type { Inventory } from './model.ts';
import { makePurl } from './purl.ts';

export type Paragraph = Record<string, string>;

/** Splits a deb822 file into paragraphs of field → value (continuation lines joined with '\n'). */
export function parseDeb822(text: string, file: string): Paragraph[] {
  const out: Paragraph[] = [];
  let current: Paragraph | undefined;
  let last: string | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') {
      current = undefined;
      last = undefined;
      return;
    }
    if (/^[ \t]/.test(line)) {
      if (current === undefined || last === undefined) throw new InputError('LOCKFILE_INVALID', `${file}:${i + 1}: continuation line without a field`);
      current[last] = `${current[last] ?? ''}\n${line.trim()}`;
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new InputError('LOCKFILE_INVALID', `${file}:${i + 1}: expected 'Field: value'`);
    if (current === undefined) {
      current = {};
      out.push(current);
    }
    last = line.slice(0, colon);
    current[last] = line.slice(colon + 1).trim();
  });
  return out;
}

export interface DpkgOptions {
  /** purl `distro` qualifier, e.g. "debian-12" (from the image's etc/os-release). */
  distro?: string;
  /** License expression per package name (from /usr/share/doc/PKG/copyright when readable). */
  license?: (pkg: string) => string | undefined;
}

function isInstalled(p: Paragraph): boolean {
  // dpkg status "want flag status": only fully installed packages are on the system.
  const status = p['Status'] ?? '';
  return /^install ok /.test(status) && status.endsWith(' installed');
}

function addDpkgPackage(builder: InventoryBuilder, p: Paragraph, name: string, file: string, options: DpkgOptions): string {
  const version = p['Version'];
  if (version === undefined) throw new InputError('LOCKFILE_INVALID', `${file}: package ${name} has no Version`);
  const qualifiers: Record<string, string> = {};
  if (p['Architecture'] !== undefined) qualifiers['arch'] = p['Architecture'];
  if (options.distro !== undefined) qualifiers['distro'] = options.distro;
  // The source package, when it differs, is what Debian security advisories name.
  const source = p['Source']?.split(' ')[0];
  if (source !== undefined && source !== name) qualifiers['upstream'] = source;
  const license = options.license?.(name);
  return builder.add({
    type: 'deb',
    namespace: 'debian',
    name,
    version,
    purl: makePurl('deb', 'debian', name, version, qualifiers),
    hashes: {},
    ...(license !== undefined ? { license } : {}),
    scope: p['Priority'] === 'optional' || p['Priority'] === 'extra' ? 'optional' : 'required',
  });
}

/** The installed package a relation clause names: the first alternative installed or provided. */
function resolveClause(clause: string, byName: Map<string, string>): string | undefined {
  for (const alt of clause.split('|')) {
    const dep = alt.trim().split(/[\s(:]/)[0];
    const to = dep === undefined ? undefined : byName.get(dep);
    if (to !== undefined) return to;
  }
  return undefined;
}

export function readDpkgStatus(text: string, file: string, options: DpkgOptions = {}): Inventory {
  const builder = new InventoryBuilder();
  const byName = new Map<string, string>();
  const installed: [Paragraph, string][] = [];
  for (const p of parseDeb822(text, file)) {
    const name = p['Package'];
    if (name === undefined) throw new InputError('LOCKFILE_INVALID', `${file}: paragraph without Package`);
    if (!isInstalled(p)) continue;
    const ref = addDpkgPackage(builder, p, name, file, options);
    byName.set(name, ref);
    installed.push([p, ref]);
  }
  for (const [p, ref] of installed) {
    for (const provided of (p['Provides'] ?? '').split(',')) {
      const virtual = provided.trim().split(/[\s(]/)[0] ?? '';
      if (virtual !== '' && !byName.has(virtual)) byName.set(virtual, ref);
    }
  }
  for (const [p, from] of installed) {
    const relations = [p['Pre-Depends'], p['Depends']].filter((v): v is string => v !== undefined).join(',');
    for (const clause of relations.split(',')) {
      const to = resolveClause(clause, byName);
      if (to !== undefined) builder.addEdge(from, to);
    }
    // Every installed package is a direct part of the image.
    builder.addEdge(undefined, from);
  }
  return builder.build({ name: 'image' }, [file]);
}
