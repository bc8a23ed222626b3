// in-toto v0.9 layouts (spec §4.3, models/layout.py of the reference): the project owner's
// signed definition of the supply chain: steps with authorized functionary keys and thresholds,
// inspections, artifact rules, functionary keys and an expiry. Serialized with exactly the
// reference's fields so the owner's signature verifies in in-toto-verify.
import { parseArtifactRules, type ArtifactRule } from './artifact-rule.ts';
import { fail, getOwn, isHexString, isJsonObject, setOwn, stringList, toJsonObject, type JsonObject } from './json-value.ts';

export interface SupplyChainItem {
  readonly name: string;
  readonly expectedMaterials: readonly ArtifactRule[];
  readonly expectedProducts: readonly ArtifactRule[];
}

export interface Step extends SupplyChainItem {
  /** Key ids of the functionaries authorized to perform the step (taken as given). */
  readonly pubkeys: readonly string[];
  readonly expectedCommand: readonly string[];
  /** Distinct authorized functionaries whose links must agree. */
  readonly threshold: number;
}

export interface Inspection extends SupplyChainItem {
  /** Command the verifier runs. */
  readonly run: readonly string[];
}

export interface Layout {
  readonly steps: readonly Step[];
  readonly inspect: readonly Inspection[];
  /** Functionary key id → securesystemslib public key JSON, kept exactly as written (it is signed). */
  readonly keys: Readonly<Record<string, JsonObject>>;
  /** `YYYY-MM-DDTHH:MM:SSZ`. */
  readonly expires: string;
  readonly readme: string;
}

/** Exactly the fields each type re-serializes (attr.asdict in the reference), INTEROP.md. */
export const LAYOUT_FIELDS = ['_type', 'steps', 'inspect', 'keys', 'expires', 'readme'] as const;
export const STEP_FIELDS = ['_type', 'name', 'expected_materials', 'expected_products', 'pubkeys', 'expected_command', 'threshold'] as const;
export const INSPECTION_FIELDS = ['_type', 'name', 'expected_materials', 'expected_products', 'run'] as const;

const EXPIRES = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/**
 * Parses a layout `expires` value: securesystemslib ISO8601_DATETIME_SCHEMA
 * (`YYYY-MM-DDTHH:MM:SSZ`, ASCII digits only) and a real calendar date and time, as the
 * reference's dateutil parse demands.
 */
export function parseExpires(text: string): Date {
  const m = EXPIRES.exec(text);
  if (m === null) return fail('LAYOUT_INVALID', `layout expires '${text}' is not YYYY-MM-DDTHH:MM:SSZ`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const ok =
    year >= 1 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  if (!ok) return fail('LAYOUT_INVALID', `layout expires '${text}' is not a valid date and time`);
  return date;
}

/** Formats a time as layout `expires` (whole seconds, UTC). */
export function formatExpires(date: Date): string {
  if (Number.isNaN(date.getTime())) return fail('INPUT_INVALID', 'invalid date');
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) return fail('INPUT_INVALID', `year ${year} cannot be written as YYYY`);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${String(year).padStart(4, '0')}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}` +
    `T${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}Z`
  );
}

function checkName(value: unknown, where: string): string {
  if (typeof value !== 'string') return fail('LAYOUT_INVALID', `${where}: 'name' must be a string`);
  return value;
}

function checkType(obj: Record<string, unknown>, expected: string, where: string): void {
  // The reference ignores `_type` of steps/inspections and writes its own: a different value could
  // never verify, so it is refused here.
  if (Object.hasOwn(obj, '_type') && obj['_type'] !== expected) fail('LAYOUT_INVALID', `${where}: '_type' must be '${expected}'`);
}

function withDefault(obj: Record<string, unknown>, field: string, dflt: unknown): unknown {
  return Object.hasOwn(obj, field) ? obj[field] : dflt;
}

function parseItem(obj: Record<string, unknown>, where: string): SupplyChainItem {
  const name = checkName(getOwn(obj, 'name'), where);
  const at = `${where} '${name}'`;
  return {
    name,
    expectedMaterials: parseArtifactRules(withDefault(obj, 'expected_materials', []), `${at} expected_materials`),
    expectedProducts: parseArtifactRules(withDefault(obj, 'expected_products', []), `${at} expected_products`),
  };
}

export function parseStep(json: unknown, where = 'step'): Step {
  if (!isJsonObject(json)) return fail('LAYOUT_INVALID', `${where} must be an object`);
  checkType(json, 'step', where);
  const item = parseItem(json, where);
  const at = `${where} '${item.name}'`;
  const threshold = withDefault(json, 'threshold', 1);
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold)) {
    return fail('LAYOUT_INVALID', `${at}: threshold must be an integer`);
  }
  const pubkeys = stringList(withDefault(json, 'pubkeys', []), `${at} pubkeys`, 'LAYOUT_INVALID');
  for (const keyid of pubkeys) if (!isHexString(keyid)) fail('LAYOUT_INVALID', `${at}: pubkeys entry '${keyid}' is not a hex key id`);
  return {
    ...item,
    pubkeys,
    expectedCommand: stringList(withDefault(json, 'expected_command', []), `${at} expected_command`, 'LAYOUT_INVALID'),
    threshold,
  };
}

export function parseInspection(json: unknown, where = 'inspection'): Inspection {
  if (!isJsonObject(json)) return fail('LAYOUT_INVALID', `${where} must be an object`);
  checkType(json, 'inspection', where);
  const item = parseItem(json, where);
  return { ...item, run: stringList(withDefault(json, 'run', []), `${where} '${item.name}' run`, 'LAYOUT_INVALID') };
}

/** securesystemslib ANY_PUBKEY_DICT_SCHEMA, structurally; the key material is checked when used. */
function parseKeys(value: unknown): Record<string, JsonObject> {
  if (!isJsonObject(value)) return fail('LAYOUT_INVALID', "layout 'keys' must be an object of key id to key");
  const out: Record<string, JsonObject> = {};
  for (const keyid of Object.keys(value)) {
    if (!isHexString(keyid)) fail('LAYOUT_INVALID', `layout keys: '${keyid}' is not a hex key id`);
    const key = toJsonObject(value[keyid], `layout key ${keyid}`, 'LAYOUT_INVALID');
    const keyval = getOwn(key, 'keyval');
    if (typeof getOwn(key, 'keytype') !== 'string' || !isJsonObject(keyval) || typeof getOwn(keyval, 'public') !== 'string') {
      fail('LAYOUT_INVALID', `layout key ${keyid} needs 'keytype' and 'keyval.public'`);
    }
    // PUBLIC_KEYVAL_SCHEMA: a private part, if present at all, must be empty.
    if (Object.hasOwn(keyval, 'private') && keyval['private'] !== '') {
      fail('LAYOUT_INVALID', `layout key ${keyid} contains a private key`);
    }
    setOwn(out, keyid, key);
  }
  return out;
}

/** Parses the `signed` part of a layout (Layout.read + validate of the reference). */
export function parseLayout(json: unknown): Layout {
  if (!isJsonObject(json)) return fail('LAYOUT_INVALID', 'a layout must be a JSON object');
  if (getOwn(json, '_type') !== 'layout') fail('LAYOUT_INVALID', "layout: '_type' must be 'layout'");
  const stepsRaw = getOwn(json, 'steps');
  const inspectRaw = getOwn(json, 'inspect');
  if (!Array.isArray(stepsRaw)) return fail('LAYOUT_INVALID', "layout: 'steps' must be a list");
  if (!Array.isArray(inspectRaw)) return fail('LAYOUT_INVALID', "layout: 'inspect' must be a list");
  const steps = stepsRaw.map((s, i) => parseStep(s, `steps[${i}]`));
  const inspect = inspectRaw.map((s, i) => parseInspection(s, `inspect[${i}]`));
  // Layout._validate_steps_and_inspections: names are unique across steps and inspections.
  const seen = new Set<string>();
  for (const item of [...steps, ...inspect]) {
    if (seen.has(item.name)) fail('LAYOUT_INVALID', `layout: the name '${item.name}' is used twice`);
    seen.add(item.name);
  }
  const expires = getOwn(json, 'expires');
  if (typeof expires !== 'string') return fail('LAYOUT_INVALID', "layout: 'expires' must be a string");
  parseExpires(expires);
  const readme = withDefault(json, 'readme', '');
  if (typeof readme !== 'string') return fail('LAYOUT_INVALID', "layout: 'readme' must be a string");
  return { steps, inspect, keys: parseKeys(withDefault(json, 'keys', {})), expires, readme };
}

function rules(list: readonly ArtifactRule[]): string[][] {
  return list.map((r) => [...r.raw]);
}

export function stepToJson(step: Step): JsonObject {
  return {
    _type: 'step',
    name: step.name,
    expected_materials: rules(step.expectedMaterials),
    expected_products: rules(step.expectedProducts),
    pubkeys: [...step.pubkeys],
    expected_command: [...step.expectedCommand],
    threshold: step.threshold,
  };
}

export function inspectionToJson(inspection: Inspection): JsonObject {
  return {
    _type: 'inspection',
    name: inspection.name,
    expected_materials: rules(inspection.expectedMaterials),
    expected_products: rules(inspection.expectedProducts),
    run: [...inspection.run],
  };
}

/** The layout's `signed` object with exactly the reference's fields: what is signed and written. */
export function layoutToJson(layout: Layout): JsonObject {
  const keys: JsonObject = {};
  for (const keyid of Object.keys(layout.keys)) setOwn(keys, keyid, layout.keys[keyid] as JsonObject);
  return {
    _type: 'layout',
    steps: layout.steps.map(stepToJson),
    inspect: layout.inspect.map(inspectionToJson),
    keys,
    expires: layout.expires,
    readme: layout.readme,
  };
}
