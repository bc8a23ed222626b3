// The friendly layout description `custody layout create` reads (YAML or JSON) and its translation
// into an in-toto v0.9 layout. Strict: unknown fields are errors, so a typo never silently drops
// a rule. The result goes through parseLayout, so it obeys every rule a signed layout must.
import type { PublicKey } from '../../core/index.ts';
import { shlexSplit } from './artifact-rule.ts';
import { fail, isJsonObject, type JsonObject } from './json-value.ts';
import { formatExpires, parseLayout, type Layout } from './layout.ts';

/** Resolves a functionary's key reference (a file path in the description) to its public key. */
export type KeyResolver = (name: string, reference: string) => PublicKey;

const TOP_FIELDS = new Set(['expires', 'readme', 'functionaries', 'steps', 'inspections']);
const STEP_FIELDS = new Set(['name', 'functionaries', 'threshold', 'expected_command', 'materials', 'products']);
const INSPECTION_FIELDS = new Set(['name', 'run', 'materials', 'products']);

function checkFields(obj: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) fail('LAYOUT_INVALID', `${where}: unknown field '${key}' (allowed: ${[...allowed].join(', ')})`);
  }
}

function commandList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return shlexSplit(value);
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return [...value];
  return fail('LAYOUT_INVALID', `${where} must be a command string or a list of strings`);
}

function ruleList(value: unknown, where: string): string[][] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail('LAYOUT_INVALID', `${where} must be a list of rules like "MATCH * WITH PRODUCTS FROM build"`);
  return value.map((rule, i) => {
    if (typeof rule === 'string') return shlexSplit(rule);
    if (Array.isArray(rule) && rule.every((v): v is string => typeof v === 'string')) return [...rule];
    return fail('LAYOUT_INVALID', `${where}[${i}] must be a rule string or a list of strings`);
  });
}

const RELATIVE = /^(\d+)([dhm])$/;

/** `expires`: an absolute `YYYY-MM-DDTHH:MM:SSZ` (or a YAML timestamp), or relative: `90d`, `12h`, `30m`. */
export function resolveExpires(value: unknown, now: Date): string {
  if (value instanceof Date) return formatExpires(value);
  if (typeof value !== 'string') return fail('LAYOUT_INVALID', "'expires' must be a date (YYYY-MM-DDTHH:MM:SSZ) or a duration like 90d");
  const m = RELATIVE.exec(value);
  if (m !== null) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
    return formatExpires(new Date(Math.floor(now.getTime() / 1000) * 1000 + Number(m[1]) * unit));
  }
  return value;
}

function functionaryKeyIds(
  value: unknown,
  where: string,
  byName: ReadonlyMap<string, PublicKey>,
): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v): v is string => typeof v === 'string')) {
    return fail('LAYOUT_INVALID', `${where}: 'functionaries' must be a non-empty list of functionary names`);
  }
  return value.map((name) => {
    const key = byName.get(name);
    if (key === undefined) return fail('LAYOUT_INVALID', `${where}: functionary '${name}' is not declared under 'functionaries'`);
    return key.keyid;
  });
}

/** Translates a layout description into a (still unsigned) v0.9 layout. */
export function layoutFromSpec(spec: unknown, resolveKey: KeyResolver, now = new Date()): Layout {
  if (!isJsonObject(spec)) return fail('LAYOUT_INVALID', 'the layout description must be a mapping');
  checkFields(spec, TOP_FIELDS, 'layout');
  const functionaries = spec['functionaries'] ?? {};
  if (!isJsonObject(functionaries)) return fail('LAYOUT_INVALID', "'functionaries' must map names to public key files");
  const byName = new Map<string, PublicKey>();
  const keys: JsonObject = {};
  for (const [name, reference] of Object.entries(functionaries)) {
    if (typeof reference !== 'string') fail('LAYOUT_INVALID', `functionary '${name}' must name a public key file`);
    const key = resolveKey(name, reference);
    byName.set(name, key);
    // The layout carries each functionary key in securesystemslib form, with its key id.
    keys[key.keyid] = { ...key.toSecuresystemslib(), keyid: key.keyid };
  }
  const stepsRaw = spec['steps'] ?? [];
  if (!Array.isArray(stepsRaw) || stepsRaw.length === 0) return fail('LAYOUT_INVALID', "'steps' must be a non-empty list");
  const steps = stepsRaw.map((raw, i) => {
    const where = `steps[${i}]`;
    if (!isJsonObject(raw)) return fail('LAYOUT_INVALID', `${where} must be a mapping`);
    checkFields(raw, STEP_FIELDS, where);
    const threshold = raw['threshold'] ?? 1;
    if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 1) {
      fail('LAYOUT_INVALID', `${where}: 'threshold' must be a positive integer`);
    }
    return {
      _type: 'step',
      name: raw['name'] ?? null,
      expected_materials: ruleList(raw['materials'], `${where}.materials`),
      expected_products: ruleList(raw['products'], `${where}.products`),
      pubkeys: functionaryKeyIds(raw['functionaries'], where, byName),
      expected_command: commandList(raw['expected_command'], `${where}.expected_command`),
      threshold,
    };
  });
  const inspectionsRaw = spec['inspections'] ?? [];
  if (!Array.isArray(inspectionsRaw)) return fail('LAYOUT_INVALID', "'inspections' must be a list");
  const inspect = inspectionsRaw.map((raw, i) => {
    const where = `inspections[${i}]`;
    if (!isJsonObject(raw)) return fail('LAYOUT_INVALID', `${where} must be a mapping`);
    checkFields(raw, INSPECTION_FIELDS, where);
    const run = commandList(raw['run'], `${where}.run`);
    if (run.length === 0) fail('LAYOUT_INVALID', `${where}: 'run' must give the command the verifier runs`);
    return {
      _type: 'inspection',
      name: raw['name'] ?? null,
      expected_materials: ruleList(raw['materials'], `${where}.materials`),
      expected_products: ruleList(raw['products'], `${where}.products`),
      run,
    };
  });
  const readme = spec['readme'] ?? '';
  return parseLayout({
    _type: 'layout',
    steps,
    inspect,
    keys,
    expires: resolveExpires(spec['expires'] ?? '365d', now),
    readme: typeof readme === 'string' ? readme : fail('LAYOUT_INVALID', "'readme' must be a string"),
  });
}
