// in-toto vulnerabilities predicate v0.1 (in-toto/attestation spec/predicates/vuln.md). The spec's
// field list nests each finding under `vulnerability` while its example puts `id` and `severity` on
// the result entry itself; both shapes are accepted and normalised to the flat one for rules.
import {
  asRecord,
  optionalArray,
  optionalList,
  optionalRecord,
  optionalString,
  predicateError,
  requiredRecord,
  requiredString,
  requiredTimestamp,
} from '../predicate-fields/index.ts';

export const INTOTO_VULNS_V01 = 'https://in-toto.io/attestation/vulns/v0.1';

export interface VulnSeverity {
  method: string;
  score: string;
  [extension: string]: unknown;
}

export interface VulnResult {
  id: string;
  severity: VulnSeverity[];
  annotations?: unknown[];
  [extension: string]: unknown;
}

export interface VulnsPredicateV01 {
  scanner: {
    uri: string;
    version?: string;
    db?: { uri?: string; version?: string; lastUpdate?: string; [extension: string]: unknown };
    result: VulnResult[];
    [extension: string]: unknown;
  };
  metadata: { scanStartedOn: string; scanFinishedOn: string; [extension: string]: unknown };
  [extension: string]: unknown;
}

function parseSeverity(v: unknown, where: string): VulnSeverity {
  const o = asRecord(v, where);
  return { ...o, method: requiredString(o, 'method', where), score: requiredString(o, 'score', where) };
}

function parseResult(v: unknown, where: string): VulnResult {
  const entry = asRecord(v, where);
  const nested = optionalRecord(entry, 'vulnerability', where);
  const o = nested ?? entry;
  const w = nested === undefined ? where : `${where}.vulnerability`;
  const out: VulnResult = { ...o, id: requiredString(o, 'id', w), severity: optionalList(o, 'severity', w, parseSeverity) ?? [] };
  const annotations = optionalArray(o, 'annotations', w);
  if (annotations !== undefined) out.annotations = annotations;
  return out;
}

export function parseVulnsV01(json: unknown, where = 'vulns predicate'): VulnsPredicateV01 {
  const o = asRecord(json, where);
  const s = requiredRecord(o, 'scanner', where);
  const sw = `${where}.scanner`;
  const result = optionalList(s, 'result', sw, parseResult);
  if (result === undefined) predicateError(sw, "'result' is required (an empty list means no findings)");
  const scanner: VulnsPredicateV01['scanner'] = { ...s, uri: requiredString(s, 'uri', sw), result };
  const version = optionalString(s, 'version', sw);
  if (version !== undefined) scanner.version = version;
  const db = optionalRecord(s, 'db', sw);
  if (db !== undefined) {
    const dw = `${sw}.db`;
    const parsed: NonNullable<VulnsPredicateV01['scanner']['db']> = { ...db, lastUpdate: requiredTimestamp(db, 'lastUpdate', dw) };
    const uri = optionalString(db, 'uri', dw);
    const dbVersion = optionalString(db, 'version', dw);
    if (uri !== undefined) parsed.uri = uri;
    if (dbVersion !== undefined) parsed.version = dbVersion;
    scanner.db = parsed;
  }
  const m = requiredRecord(o, 'metadata', where);
  const mw = `${where}.metadata`;
  const started = requiredTimestamp(m, 'scanStartedOn', mw);
  const finished = requiredTimestamp(m, 'scanFinishedOn', mw);
  return { ...o, scanner, metadata: { ...m, scanStartedOn: started, scanFinishedOn: finished } };
}
