// OSV records (https://ossf.github.io/osv-schema/, schema 1.x): the fields matching and reporting
// need, parsed strictly from untrusted JSON. Unknown fields are kept on the record.
import { InputError } from '../../core/index.ts';

export type OsvRangeType = 'SEMVER' | 'ECOSYSTEM' | 'GIT';

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: OsvRangeType;
  repo?: string;
  events: OsvEvent[];
}

export interface OsvSeverity {
  type: string;
  score: string;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges: OsvRange[];
  versions: string[];
  severity: OsvSeverity[];
  database_specific?: Record<string, unknown>;
  ecosystem_specific?: Record<string, unknown>;
}

export interface OsvRecord {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases: string[];
  related: string[];
  summary?: string;
  details?: string;
  severity: OsvSeverity[];
  affected: OsvAffected[];
  references: { type: string; url: string }[];
  database_specific?: Record<string, unknown>;
  [extension: string]: unknown;
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(where: string, message: string): never {
  throw new InputError('OSV_INVALID', `${where}: ${message}`);
}

// OSV schema "timestamp": RFC 3339 in UTC with a Z.
const TIMESTAMP = /^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\d(\.\d+)?Z$/;
// OSV schema "prefix" pattern for ids: PREFIX-rest (letters, digits, . _ -).
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*-[A-Za-z0-9._:-]+$/;

function str(o: Json, field: string, where: string, required: boolean): string | undefined {
  const v = o[field];
  if (v === undefined) {
    if (required) fail(where, `'${field}' is required`);
    return undefined;
  }
  if (typeof v !== 'string') fail(where, `'${field}' must be a string`);
  return v;
}

function strings(o: Json, field: string, where: string): string[] {
  const v = o[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(where, `'${field}' must be an array of strings`);
  return v;
}

function parseSeverities(o: Json, where: string): OsvSeverity[] {
  const v = o['severity'];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(where, "'severity' must be an array");
  return v.map((s, i) => {
    if (!isRecord(s)) fail(`${where}.severity[${i}]`, 'must be an object');
    return { type: str(s, 'type', `${where}.severity[${i}]`, true)!, score: str(s, 'score', `${where}.severity[${i}]`, true)! };
  });
}

function parseRange(v: unknown, where: string): OsvRange {
  if (!isRecord(v)) fail(where, 'must be an object');
  const type = v['type'];
  if (type !== 'SEMVER' && type !== 'ECOSYSTEM' && type !== 'GIT') fail(where, "'type' must be SEMVER, ECOSYSTEM or GIT");
  const repo = str(v, 'repo', where, type === 'GIT');
  const events = v['events'];
  if (!Array.isArray(events) || events.length === 0) fail(where, "'events' must be a non-empty array");
  const parsed = events.map((e, i) => {
    const w = `${where}.events[${i}]`;
    if (!isRecord(e)) fail(w, 'must be an object');
    // Schema: each event has exactly one of introduced, fixed, last_affected, limit.
    const keys = ['introduced', 'fixed', 'last_affected', 'limit'].filter((k) => e[k] !== undefined);
    if (keys.length !== 1) fail(w, 'must have exactly one of introduced, fixed, last_affected, limit');
    const k = keys[0] as 'introduced' | 'fixed' | 'last_affected' | 'limit';
    const value = e[k];
    if (typeof value !== 'string' || value === '') fail(w, `'${k}' must be a non-empty string`);
    const event: OsvEvent = {};
    event[k] = value;
    return event;
  });
  // Schema (1.3+): a range needs at least one "introduced" event; fixed and last_affected exclude each other.
  if (!parsed.some((e) => e.introduced !== undefined)) fail(where, "a range needs an 'introduced' event");
  if (parsed.some((e) => e.fixed !== undefined) && parsed.some((e) => e.last_affected !== undefined)) {
    fail(where, "'fixed' and 'last_affected' cannot both appear in one range");
  }
  return { type, ...(repo !== undefined ? { repo } : {}), events: parsed };
}

function parseAffected(v: unknown, where: string): OsvAffected {
  if (!isRecord(v)) fail(where, 'must be an object');
  const out: OsvAffected = { ranges: [], versions: strings(v, 'versions', where), severity: parseSeverities(v, where) };
  if (v['package'] !== undefined) {
    const p = v['package'];
    if (!isRecord(p)) fail(`${where}.package`, 'must be an object');
    const ecosystem = str(p, 'ecosystem', `${where}.package`, true)!;
    const name = str(p, 'name', `${where}.package`, true)!;
    const purl = str(p, 'purl', `${where}.package`, false);
    out.package = { ecosystem, name, ...(purl !== undefined ? { purl } : {}) };
  }
  const ranges = v['ranges'];
  if (ranges !== undefined) {
    if (!Array.isArray(ranges)) fail(where, "'ranges' must be an array");
    out.ranges = ranges.map((r, i) => parseRange(r, `${where}.ranges[${i}]`));
  }
  if (out.ranges.some((r) => r.type !== 'GIT') && out.package === undefined) fail(where, "SEMVER/ECOSYSTEM ranges need a 'package'");
  for (const f of ['database_specific', 'ecosystem_specific'] as const) {
    if (v[f] !== undefined) {
      if (!isRecord(v[f])) fail(where, `'${f}' must be an object`);
      out[f] = v[f];
    }
  }
  return out;
}

/** Parses one OSV record; throws InputError OSV_INVALID naming the first bad field. */
export function parseOsvRecord(json: unknown, where = 'OSV record'): OsvRecord {
  if (!isRecord(json)) fail(where, 'must be a JSON object');
  const id = str(json, 'id', where, true)!;
  if (!ID.test(id)) fail(where, `'id' ${JSON.stringify(id)} is not PREFIX-ID`);
  const w = `${where} ${id}`;
  const modified = str(json, 'modified', w, true)!;
  if (!TIMESTAMP.test(modified)) fail(w, "'modified' must be an RFC 3339 UTC timestamp");
  for (const f of ['published', 'withdrawn']) {
    const t = str(json, f, w, false);
    if (t !== undefined && !TIMESTAMP.test(t)) fail(w, `'${f}' must be an RFC 3339 UTC timestamp`);
  }
  const affectedRaw = json['affected'];
  if (affectedRaw !== undefined && affectedRaw !== null && !Array.isArray(affectedRaw)) fail(w, "'affected' must be an array");
  const refs = json['references'];
  const references: OsvRecord['references'] = [];
  if (Array.isArray(refs)) {
    refs.forEach((r, i) => {
      if (!isRecord(r)) fail(`${w}.references[${i}]`, 'must be an object');
      references.push({ type: str(r, 'type', `${w}.references[${i}]`, true)!, url: str(r, 'url', `${w}.references[${i}]`, true)! });
    });
  } else if (refs !== undefined && refs !== null) fail(w, "'references' must be an array");
  const record: OsvRecord = {
    ...json,
    id,
    modified,
    aliases: strings(json, 'aliases', w),
    related: strings(json, 'related', w),
    severity: parseSeverities(json, w),
    affected: (Array.isArray(affectedRaw) ? affectedRaw : []).map((a, i) => parseAffected(a, `${w}.affected[${i}]`)),
    references,
  };
  // Optional strings: type-checked here; the spread above already copied them.
  for (const f of ['schema_version', 'summary', 'details'] as const) str(json, f, w, false);
  if (json['database_specific'] !== undefined && !isRecord(json['database_specific'])) fail(w, "'database_specific' must be an object");
  return record;
}
