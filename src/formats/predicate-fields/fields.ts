// Field readers shared by the predicate parsers: each checks one field's JSON type and throws
// InputError('PREDICATE_INVALID') naming the field. Unknown fields are kept (the in-toto and SLSA
// specs tell consumers to ignore fields they do not recognise), so extensions stay visible to CEL.
import { InputError, parseResourceDescriptor, type ResourceDescriptor } from '../../core/index.ts';

export type JsonRecord = Record<string, unknown>;

export function predicateError(where: string, message: string, cause?: unknown): never {
  throw new InputError('PREDICATE_INVALID', `${where}: ${message}`, cause === undefined ? undefined : { cause });
}

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asRecord(v: unknown, where: string): JsonRecord {
  if (!isRecord(v)) predicateError(where, 'must be an object');
  return v;
}

export function optionalRecord(o: JsonRecord, field: string, where: string): JsonRecord | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  return asRecord(v, `${where}.${field}`);
}

export function requiredRecord(o: JsonRecord, field: string, where: string): JsonRecord {
  if (o[field] === undefined) predicateError(where, `'${field}' is required`);
  return asRecord(o[field], `${where}.${field}`);
}

export function optionalString(o: JsonRecord, field: string, where: string): string | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') predicateError(where, `'${field}' must be a string`);
  return v;
}

export function requiredString(o: JsonRecord, field: string, where: string): string {
  const v = optionalString(o, field, where);
  if (v === undefined || v === '') predicateError(where, `'${field}' is required (a non-empty string)`);
  return v;
}

export function optionalEnum<T extends string>(o: JsonRecord, field: string, values: readonly T[], where: string): T | undefined {
  const v = optionalString(o, field, where);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) predicateError(where, `'${field}' must be one of ${values.join(', ')}`);
  return v as T;
}

export function requiredEnum<T extends string>(o: JsonRecord, field: string, values: readonly T[], where: string): T {
  const v = optionalEnum(o, field, values, where);
  if (v === undefined) predicateError(where, `'${field}' is required (one of ${values.join(', ')})`);
  return v;
}

export function optionalArray(o: JsonRecord, field: string, where: string): unknown[] | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) predicateError(where, `'${field}' must be a list`);
  return v as unknown[];
}

export function optionalStringArray(o: JsonRecord, field: string, where: string): string[] | undefined {
  const list = optionalArray(o, field, where);
  if (list === undefined) return undefined;
  list.forEach((s, i) => {
    if (typeof s !== 'string') predicateError(where, `'${field}[${i}]' must be a string`);
  });
  return list as string[];
}

export function optionalInteger(o: JsonRecord, field: string, where: string, min = 0): number | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) predicateError(where, `'${field}' must be an integer ≥ ${min}`);
  return v;
}

export function optionalBoolean(o: JsonRecord, field: string, where: string): boolean | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') predicateError(where, `'${field}' must be true or false`);
  return v;
}

// RFC 3339 date-time (the protobuf Timestamp JSON form the in-toto and SLSA specs use).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

export function isRfc3339(text: string): boolean {
  return RFC3339.test(text) && !Number.isNaN(Date.parse(text));
}

export function optionalTimestamp(o: JsonRecord, field: string, where: string): string | undefined {
  const v = optionalString(o, field, where);
  if (v !== undefined && !isRfc3339(v)) predicateError(where, `'${field}' must be an RFC 3339 timestamp`);
  return v;
}

export function requiredTimestamp(o: JsonRecord, field: string, where: string): string {
  const v = optionalTimestamp(o, field, where);
  if (v === undefined) predicateError(where, `'${field}' is required (an RFC 3339 timestamp)`);
  return v;
}

/** A map of string → string (SLSA `builder.version`, `verifier.version`). */
export function optionalStringMap(o: JsonRecord, field: string, where: string): Record<string, string> | undefined {
  const m = optionalRecord(o, field, where);
  if (m === undefined) return undefined;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') predicateError(where, `'${field}.${k}' must be a string`);
  }
  return m as Record<string, string>;
}

export function resourceDescriptor(v: unknown, where: string): ResourceDescriptor {
  try {
    return parseResourceDescriptor(v, where);
  } catch (e) {
    return predicateError(where, e instanceof Error ? e.message : 'invalid resource descriptor', e);
  }
}

export function optionalResourceDescriptors(o: JsonRecord, field: string, where: string): ResourceDescriptor[] | undefined {
  const list = optionalArray(o, field, where);
  return list?.map((rd, i) => resourceDescriptor(rd, `${where}.${field}[${i}]`));
}

/** Runs each check on each element of an optional list; returns the list typed. */
export function optionalList<T>(o: JsonRecord, field: string, where: string, each: (v: unknown, where: string) => T): T[] | undefined {
  const list = optionalArray(o, field, where);
  return list?.map((v, i) => each(v, `${where}.${field}[${i}]`));
}
