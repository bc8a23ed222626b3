// JSON values as in-toto v0.9 metadata carries them, and safe helpers for reading untrusted JSON
// objects (own properties only, so a path named "__proto__" or "constructor" is just a name).
import { InputError, type InputErrorCode } from '../../core/index.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

const MAX_DEPTH = 256;

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an own property: never the prototype chain. */
export function getOwn(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Defines an own enumerable property, also for keys like "__proto__". */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  // Plain assignment is much faster; only "__proto__" would hit the prototype setter instead.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

export function fail(code: InputErrorCode, message: string): never {
  throw new InputError(code, message);
}

/**
 * Deep-copies an untrusted value into plain JSON data, checking it is JSON (no undefined, no
 * non-finite numbers, no functions) and not absurdly deep.
 */
export function toJsonValue(value: unknown, where: string, code: InputErrorCode, depth = 0): JsonValue {
  if (depth > MAX_DEPTH) fail(code, `${where}: nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) fail(code, `${where}: number ${value} has no JSON form`);
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((v, i) => toJsonValue(v, `${where}[${i}]`, code, depth + 1));
      const out: JsonObject = {};
      for (const key of Object.keys(value)) {
        setOwn(out, key, toJsonValue((value as Record<string, unknown>)[key], `${where}.${key}`, code, depth + 1));
      }
      return out;
    }
    default:
      return fail(code, `${where}: a ${typeof value} is not JSON`);
  }
}

export function toJsonObject(value: unknown, where: string, code: InputErrorCode): JsonObject {
  if (!isJsonObject(value)) fail(code, `${where} must be an object`);
  return toJsonValue(value, where, code) as JsonObject;
}

export function stringList(value: unknown, where: string, code: InputErrorCode): string[] {
  if (!Array.isArray(value)) fail(code, `${where} must be a list of strings`);
  return value.map((v, i) => {
    if (typeof v !== 'string') fail(code, `${where}[${i}] must be a string`);
    return v;
  });
}

/** securesystemslib HEX_SCHEMA, without Python `$`'s tolerance of a trailing newline. */
export function isHex(value: unknown): value is string {
  return typeof value === 'string' && isHexString(value);
}

// 1 for the code units of [0-9a-fA-F]: a table loop is several times faster than a regular
// expression on the 20,000 digests of a large link.
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

export function isHexString(value: string): boolean {
  const n = value.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || HEX_DIGIT[c] === 0) return false;
  }
  return true;
}
