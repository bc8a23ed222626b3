// in-toto v0.9 artifact rules (spec §4.3.3): the string arrays of a step's or inspection's
// expected_materials / expected_products, parsed into a typed union exactly as the reference's
// rulelib.unpack_rule accepts them. The original array is kept, so re-serializing a layout
// reproduces the signed bytes (keyword case included).
import { fail } from './json-value.ts';

export type GenericRuleType = 'CREATE' | 'DELETE' | 'MODIFY' | 'ALLOW' | 'DISALLOW' | 'REQUIRE';
export type ArtifactRuleType = GenericRuleType | 'MATCH';
export type ArtifactType = 'materials' | 'products';

export interface GenericArtifactRule {
  readonly type: GenericRuleType;
  /** An fnmatch pattern; for REQUIRE a literal path. */
  readonly pattern: string;
  /** The rule as written in the layout. */
  readonly raw: readonly string[];
}

export interface MatchArtifactRule {
  readonly type: 'MATCH';
  readonly pattern: string;
  /** '' when the rule has no `IN <source-path-prefix>`. */
  readonly sourcePrefix: string;
  readonly destType: ArtifactType;
  /** '' when the rule has no `IN <destination-path-prefix>`. */
  readonly destPrefix: string;
  readonly destName: string;
  readonly raw: readonly string[];
}

export type ArtifactRule = GenericArtifactRule | MatchArtifactRule;

const GENERIC: ReadonlySet<string> = new Set(['create', 'delete', 'modify', 'allow', 'disallow', 'require']);

/**
 * Parses one rule (rulelib.unpack_rule): keywords are case-insensitive, everything else keeps its
 * case. Throws InputError LAYOUT_INVALID for anything unpack_rule rejects.
 */
export function parseArtifactRule(raw: unknown, where = 'artifact rule'): ArtifactRule {
  if (!Array.isArray(raw) || !raw.every((s): s is string => typeof s === 'string')) {
    return fail('LAYOUT_INVALID', `${where} must be a list of strings`);
  }
  const rule: readonly string[] = [...raw];
  const lower = rule.map((s) => s.toLowerCase());
  const kind = lower[0];
  const pattern = rule[1];
  if (kind === undefined || pattern === undefined || (kind !== 'match' && !GENERIC.has(kind))) {
    return fail('LAYOUT_INVALID', `${where}: a rule starts with one of CREATE, DELETE, MODIFY, ALLOW, DISALLOW, REQUIRE, MATCH and a pattern`);
  }
  if (kind !== 'match') {
    if (rule.length !== 2) return fail('LAYOUT_INVALID', `${where}: '${kind.toUpperCase()} <pattern>' takes exactly one pattern`);
    return { type: kind.toUpperCase() as GenericRuleType, pattern, raw: rule };
  }
  return parseMatchRule(rule, lower, where);
}

// The four MATCH forms of unpack_rule: length, keyword positions, and where each field sits
// (0 = absent, as an empty prefix).
const MATCH_FORMS = [
  // MATCH <pattern> IN <source-prefix> WITH <type> IN <dest-prefix> FROM <step>
  { length: 10, keywords: [[2, 'in'], [4, 'with'], [6, 'in'], [8, 'from']], source: 3, type: 5, dest: 7, name: 9 },
  // MATCH <pattern> IN <source-prefix> WITH <type> FROM <step>
  { length: 8, keywords: [[2, 'in'], [4, 'with'], [6, 'from']], source: 3, type: 5, dest: 0, name: 7 },
  // MATCH <pattern> WITH <type> IN <dest-prefix> FROM <step>
  { length: 8, keywords: [[2, 'with'], [4, 'in'], [6, 'from']], source: 0, type: 3, dest: 5, name: 7 },
  // MATCH <pattern> WITH <type> FROM <step>
  { length: 6, keywords: [[2, 'with'], [4, 'from']], source: 0, type: 3, dest: 0, name: 5 },
] as const;

function parseMatchRule(rule: readonly string[], lower: readonly string[], where: string): MatchArtifactRule {
  const form = MATCH_FORMS.find((f) => f.length === rule.length && f.keywords.every(([i, kw]) => lower[i] === kw));
  if (form === undefined) {
    return fail(
      'LAYOUT_INVALID',
      `${where}: expected MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-path-prefix>] FROM <step>`,
    );
  }
  const at = (i: number): string => (i === 0 ? '' : (rule[i] ?? ''));
  const destType = lower[form.type];
  if (destType !== 'materials' && destType !== 'products') {
    return fail('LAYOUT_INVALID', `${where}: a MATCH rule matches WITH MATERIALS or WITH PRODUCTS`);
  }
  return { type: 'MATCH', pattern: at(1), sourcePrefix: at(form.source), destType, destPrefix: at(form.dest), destName: at(form.name), raw: rule };
}

export function parseArtifactRules(raw: unknown, where: string): ArtifactRule[] {
  if (!Array.isArray(raw)) return fail('LAYOUT_INVALID', `${where} must be a list of rules`);
  return raw.map((r, i) => parseArtifactRule(r, `${where}[${i}]`));
}

/** A generic rule in the reference's canonical spelling (rulelib.pack_rule: upper-case keyword). */
export function genericRule(type: GenericRuleType, pattern: string): GenericArtifactRule {
  return { type, pattern, raw: [type, pattern] };
}

/** A MATCH rule in the reference's canonical spelling (rulelib.pack_rule). */
export function matchRule(fields: {
  pattern: string;
  sourcePrefix?: string;
  destType: ArtifactType;
  destPrefix?: string;
  destName: string;
}): MatchArtifactRule {
  const sourcePrefix = fields.sourcePrefix ?? '';
  const destPrefix = fields.destPrefix ?? '';
  if (fields.destName === '') fail('LAYOUT_INVALID', 'a MATCH rule needs a step name after FROM');
  const raw = ['MATCH', fields.pattern];
  if (sourcePrefix !== '') raw.push('IN', sourcePrefix);
  raw.push('WITH', fields.destType.toUpperCase());
  if (destPrefix !== '') raw.push('IN', destPrefix);
  raw.push('FROM', fields.destName);
  return { type: 'MATCH', pattern: fields.pattern, sourcePrefix, destType: fields.destType, destPrefix, destName: fields.destName, raw };
}

/** The rule as one line, as the reference prints it (`" ".join(rule)`). */
export function ruleToString(rule: ArtifactRule): string {
  return rule.raw.join(' ');
}

/**
 * Python `shlex.split(text)` (POSIX mode, no comments): how the reference turns a rule or a
 * command written as one string into a list.
 */
export function shlexSplit(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (quote !== undefined) {
      // Inside double quotes a backslash escapes only '"' and itself; single quotes escape nothing.
      const escaped = quote === '"' && c === '\\' && (chars[i + 1] === '"' || chars[i + 1] === '\\');
      if (escaped) word += chars[++i] as string;
      else if (c === quote) quote = undefined;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= chars.length) fail('INPUT_INVALID', 'No escaped character');
      word += chars[++i] as string;
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      // shlex's whitespace is exactly these four characters.
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) fail('INPUT_INVALID', 'No closing quotation');
  if (inWord) words.push(word);
  return words;
}

/** Parses a rule written as one string (SupplyChainItem.add_*_rule_from_string). */
export function parseArtifactRuleString(text: string): ArtifactRule {
  return parseArtifactRule(shlexSplit(text), `rule '${text}'`);
}
