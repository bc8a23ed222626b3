// securesystemslib `encode_canonical` for large in-toto metadata, fast. A link with 10,000
// artifacts is ~1 MB of canonical JSON; building it piece by piece (core canonicalJson) is the
// single largest cost of verifying it. For the values in-toto metadata almost always holds,
// JSON.stringify (native) writes exactly the canonical bytes: when every object's keys already
// come in code point order, every number is a safe integer, and the output has no backslash at
// all (so no string needed an escape: no '"', '\', control character or lone surrogate, the only
// places where JSON.stringify and encode_canonical differ). Anything else takes core's
// canonicalJson, which is the definition.
import { canonicalJson } from '../../core/index.ts';

const MAX_DEPTH = 512;
const encoder = new TextEncoder();

// Objects a parser built and found in order: keys strictly ascending as UTF-16 code units, every
// value a string or such an object. Parsed models are not modified afterwards (they are readonly).
const sortedStringTrees = new WeakSet<object>();

/** Records that `tree` (a fresh plain object) has sorted keys and only strings or such objects below. */
export function markSortedStringTree(tree: object): void {
  sortedStringTrees.add(tree);
}

/**
 * True when JSON.stringify(value) is the canonical form, provided its output has no backslash and
 * no code unit at or above U+D800 (keys are compared here as UTF-16 code units, which is code point
 * order for such text).
 */
function stringifyIsCanonical(value: unknown, depth: number): boolean {
  if (typeof value !== 'object') {
    return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isSafeInteger(value));
  }
  if (value === null || sortedStringTrees.has(value)) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) {
      // A hole or undefined: JSON.stringify writes null, encode_canonical has no form for it.
      if (!(i in items) || !stringifyIsCanonical(items[i], depth + 1)) return false;
    }
    return true;
  }
  return objectIsCanonical(value as Record<string, unknown>, depth);
}

function objectIsCanonical(record: Record<string, unknown>, depth: number): boolean {
  const proto = Object.getPrototypeOf(record) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  // JSON.stringify would call a toJSON method; plain JSON data has none.
  if (typeof record['toJSON'] === 'function') return false;
  let previous: string | undefined;
  // for-in visits own keys in Object.keys order (the order JSON.stringify writes them in,
  // integer-like keys first), without allocating a key array per object.
  for (const key in record) {
    if (!Object.hasOwn(record, key)) return false; // an inherited enumerable key: not plain data
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    const member = record[key];
    // An undefined member is skipped by both, but keep the rare case on the reference path.
    if (member === undefined || !stringifyIsCanonical(member, depth + 1)) return false;
  }
  return true;
}

// A backslash in the output means JSON.stringify escaped something; code units from U+D800 up
// are where UTF-16 order and code point order can differ.
const HIGH = /[\ud800-\uffff]/;

/**
 * `encode_canonical(value).encode('utf-8')`: byte-identical to core's canonicalJson (and throws
 * the same errors for values that have no canonical form), much faster on sorted plain data.
 */
export function canonicalJsonFast(value: unknown): Uint8Array {
  if (stringifyIsCanonical(value, 0)) {
    const text = JSON.stringify(value);
    if (!text.includes('\\')) {
      const bytes = encoder.encode(text);
      // As many bytes as code units: all ASCII, nothing at or above U+D800.
      if (bytes.length === text.length || !HIGH.test(text)) return bytes;
    }
  }
  return canonicalJson(value);
}
