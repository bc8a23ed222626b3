// in-toto v0.9 link metadata (spec §4.2, models/link.py of the reference): what a functionary
// reports about one step: materials and products with their hashes, byproducts, command,
// environment. Serialized with exactly the reference's fields so signatures over canonical JSON
// verify in in-toto-verify.
import type { DigestSet } from '../../core/index.ts';
import { markSortedStringTree } from './canonical-fast.ts';
import { fail, getOwn, isHex, isJsonObject, setOwn, stringList, toJsonObject, type JsonObject } from './json-value.ts';

/** Artifact path → hash dict (securesystemslib HASHDICT: algorithm → hex digest). */
export type ArtifactMap = Readonly<Record<string, DigestSet>>;

export interface Link {
  readonly name: string;
  readonly materials: ArtifactMap;
  readonly products: ArtifactMap;
  /** Opaque; in-toto-run writes stdout, stderr and return-value. */
  readonly byproducts: JsonObject;
  readonly command: readonly string[];
  /** Opaque; in-toto-run writes workdir. */
  readonly environment: JsonObject;
}

/** Exactly the fields Link re-serializes (attr.asdict(Link)), INTEROP.md. */
export const LINK_FIELDS = ['_type', 'name', 'materials', 'products', 'byproducts', 'command', 'environment'] as const;

/**
 * Artifact paths are relative, normalized and cannot leave the directory they were recorded in
 * (what `os.path.normpath` gives in-toto-run for relative arguments). Anything else is refused:
 * an absolute or `..` path in a link would let a link speak about files outside the project.
 */
// One pass for the common case: a relative path with no '', '.', '..' segment, NUL or backslash.
const PLAIN_PATH = /^(?!\.\.?(?:\/|$))(?:[^/\\\0]+)(?:\/(?!\.\.?(?:\/|$))[^/\\\0]+)*$/;

export function checkArtifactPath(path: string, where = 'artifact path'): void {
  if (PLAIN_PATH.test(path)) return;
  const bad = (why: string): never => fail('PATH_INVALID', `${where} '${path}' ${why}`);
  if (path === '') bad('is empty');
  if (path.startsWith('/')) bad('is absolute');
  if (path.includes('\0')) bad('contains a NUL character');
  if (path.includes('\\')) bad('contains a backslash (in-toto records "/" separators)');
  for (const segment of path.split('/')) {
    if (segment === '..') bad("contains a '..' segment");
    if (segment === '' || segment === '.') bad('is not normalized');
  }
}

function isPlainRecord(value: Record<string, unknown>): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * securesystemslib HASHDICT_SCHEMA: any algorithm name, hex digest (either case). Returns whether
 * the algorithms come in sorted order.
 */
function checkHashDict(value: unknown, where: string, path: string): boolean {
  if (!isJsonObject(value)) return fail('LINK_INVALID', `${where}['${path}'] must be an object of hash algorithm to hex digest`);
  let previous: string | undefined;
  let sorted = true;
  // for-in visits the own keys in Object.keys order without allocating a key array per artifact.
  for (const algorithm in value) {
    if (!Object.hasOwn(value, algorithm)) continue;
    if (!isHex(value[algorithm])) fail('LINK_INVALID', `${where}['${path}'].${algorithm} must be a hex digest`);
    if (previous !== undefined && !(previous < algorithm)) sorted = false;
    previous = algorithm;
  }
  return sorted;
}

function copyHashDict(value: DigestSet): DigestSet {
  const out: DigestSet = {};
  for (const algorithm of Object.keys(value)) setOwn(out, algorithm, value[algorithm] as string);
  return out;
}

/**
 * Parses path → hash dict. Plain JSON objects (what JSON.parse returns) are checked and then used
 * as they are, not copied: a link of 10,000 artifacts is verified in a fraction of the time. So
 * parse from data that is not modified afterwards; anything else (objects with another
 * prototype) is copied.
 */
export function parseArtifactMap(value: unknown, where: string): ArtifactMap {
  if (!isJsonObject(value)) return fail('LINK_INVALID', `${where} must be an object of path to hashes`);
  let reuse = isPlainRecord(value);
  const pathWhere = `${where} path`;
  // Links are written with sorted keys; noting it here spares signature checks another walk.
  let sorted = true;
  let previous: string | undefined;
  for (const path of Object.keys(value)) {
    checkArtifactPath(path, pathWhere);
    const hashes = value[path];
    if (!checkHashDict(hashes, where, path)) sorted = false;
    if (reuse && !isPlainRecord(hashes as Record<string, unknown>)) reuse = false;
    if (previous !== undefined && !(previous < path)) sorted = false;
    previous = path;
  }
  let map = value as Record<string, DigestSet>;
  if (!reuse) {
    map = {};
    for (const path of Object.keys(value)) setOwn(map, path, copyHashDict(value[path] as DigestSet));
  }
  if (sorted) markSortedStringTree(map);
  return map;
}

/**
 * Parses the `signed` part of a link. Missing optional fields take the reference's defaults
 * (Link.__init__); unknown fields are dropped, as the reference drops them.
 */
export function parseLink(json: unknown): Link {
  if (!isJsonObject(json)) return fail('LINK_INVALID', 'a link must be a JSON object');
  const field = (name: string): unknown => getOwn(json, name);
  if (field('_type') !== 'link') fail('LINK_INVALID', "link: '_type' must be 'link'");
  const name = field('name');
  if (typeof name !== 'string') return fail('LINK_INVALID', "link: 'name' must be a string");
  // kwargs.get(name, default): an explicit null is kept (and then rejected), only absence defaults.
  const or = (name: string, dflt: unknown): unknown => (Object.hasOwn(json, name) ? json[name] : dflt);
  return {
    name,
    materials: parseArtifactMap(or('materials', {}), 'link materials'),
    products: parseArtifactMap(or('products', {}), 'link products'),
    byproducts: toJsonObject(or('byproducts', {}), 'link byproducts', 'LINK_INVALID'),
    command: stringList(or('command', []), 'link command', 'LINK_INVALID'),
    environment: toJsonObject(or('environment', {}), 'link environment', 'LINK_INVALID'),
  };
}

/** The link's `signed` object with exactly the reference's fields: what is signed and written. */
export function linkToJson(link: Link): JsonObject {
  const artifacts = (m: ArtifactMap): JsonObject => {
    const out: JsonObject = {};
    for (const path of Object.keys(m)) setOwn(out, path, { ...(m[path] as DigestSet) });
    return out;
  };
  return {
    _type: 'link',
    name: link.name,
    materials: artifacts(link.materials),
    products: artifacts(link.products),
    byproducts: link.byproducts,
    command: [...link.command],
    environment: link.environment,
  };
}

/**
 * The same JSON as linkToJson for signing and verifying only: it shares the link's maps and
 * lists (not to be modified), with the members in canonical order.
 */
export function linkSignable(link: Link): Readonly<Record<string, unknown>> {
  return {
    _type: 'link',
    byproducts: link.byproducts,
    command: link.command,
    environment: link.environment,
    materials: link.materials,
    name: link.name,
    products: link.products,
  };
}

/** A link with the reference's defaults for what is not given (Link.__init__). */
export function makeLink(fields: Partial<Link> & { name: string }): Link {
  return {
    name: fields.name,
    materials: fields.materials ?? {},
    products: fields.products ?? {},
    byproducts: fields.byproducts ?? {},
    command: fields.command ?? [],
    environment: fields.environment ?? {},
  };
}
