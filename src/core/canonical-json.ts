// Canonical JSON in the two forms standards ask for:
//  - OLPC canonical JSON as securesystemslib `encode_canonical` writes it: what in-toto v0.9
//    links/layouts and TUF metadata are signed over (INTEROP.md).
//  - RFC 8785 JSON Canonicalization Scheme (JCS), for standards that name it.
import { InputError } from './errors.ts';

/**
 * Orders strings by Unicode code point, as Python's `sorted` on str does (securesystemslib,
 * in-toto), not by UTF-16 code unit as JavaScript's default sort does.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point order only between a surrogate (a code point above
    // U+FFFF) and U+E000–U+FFFF: move surrogates above that range.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function fail(message: string): never {
  throw new InputError('CANONICAL_JSON_INVALID', message);
}

function checkString(s: string): void {
  // A lone surrogate has no UTF-8 form: securesystemslib would fail to encode it too.
  if (!s.isWellFormed()) fail('string contains a lone UTF-16 surrogate');
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

const NEEDS_ESCAPE = /[\\"]/;

function olpc(value: unknown, out: string[], depth: number): void {
  if (depth > 512) fail('nesting deeper than 512 levels');
  switch (typeof value) {
    case 'string':
      checkString(value);
      // securesystemslib escapes only backslash and double quote; control characters go out raw.
      out.push('"', NEEDS_ESCAPE.test(value) ? value.replace(/[\\"]/g, (c) => `\\${c}`) : value, '"');
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) fail(`number ${value} is not an integer (canonical JSON allows integers only)`);
      out.push(String(value));
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      if (value === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
          if (i > 0) out.push(',');
          olpc(item, out, depth + 1);
        });
        out.push(']');
        return;
      }
      if (!isPlainObject(value)) fail('only plain objects, arrays, strings, integers, booleans and null are allowed');
      {
        const keys = Object.keys(value).sort(compareCodePoints);
        out.push('{');
        let first = true;
        for (const key of keys) {
          const member = value[key];
          if (member === undefined) continue; // as JSON.stringify: an undefined member is absent
          if (!first) out.push(',');
          first = false;
          olpc(key, out, depth + 1);
          out.push(':');
          olpc(member, out, depth + 1);
        }
        out.push('}');
      }
      return;
    default:
      fail(`a ${typeof value} has no canonical JSON form`);
  }
}

/** securesystemslib `encode_canonical` as a string. */
export function canonicalJsonString(value: unknown): string {
  const out: string[] = [];
  olpc(value, out, 0);
  return out.join('');
}

/** securesystemslib `encode_canonical(...).encode('utf-8')`: the bytes in-toto v0.9 and TUF sign. */
export function canonicalJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJsonString(value));
}

function jcs(value: unknown, out: string[], depth: number): void {
  if (depth > 512) fail('nesting deeper than 512 levels');
  switch (typeof value) {
    case 'string':
      checkString(value);
      out.push(JSON.stringify(value));
      return;
    case 'number':
      // RFC 8785 §3.2.2.3: ECMAScript Number serialization, which JSON.stringify implements.
      if (!Number.isFinite(value)) fail(`number ${value} has no JSON form`);
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      if (value === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
          if (i > 0) out.push(',');
          jcs(item, out, depth + 1);
        });
        out.push(']');
        return;
      }
      if (!isPlainObject(value)) fail('only plain objects, arrays, strings, numbers, booleans and null are allowed');
      {
        // RFC 8785 §3.2.3: members sorted by their names as UTF-16 code units.
        const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
        out.push('{');
        keys.forEach((key, i) => {
          if (i > 0) out.push(',');
          jcs(key, out, depth + 1);
          out.push(':');
          jcs(value[key], out, depth + 1);
        });
        out.push('}');
      }
      return;
    default:
      fail(`a ${typeof value} has no JSON form`);
  }
}

/** RFC 8785 JSON Canonicalization Scheme, as a string. */
export function jcsString(value: unknown): string {
  const out: string[] = [];
  jcs(value, out, 0);
  return out.join('');
}

export function jcsBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(jcsString(value));
}

/** Parses JSON from untrusted text, turning every failure into a typed InputError. */
export function parseJson(text: string | Uint8Array, what = 'input'): unknown {
  let s: string;
  try {
    s = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch (e) {
    throw new InputError('JSON_INVALID', `${what} is not valid UTF-8`, { cause: e });
  }
  try {
    return JSON.parse(s) as unknown;
  } catch (e) {
    throw new InputError('JSON_INVALID', `${what} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}
