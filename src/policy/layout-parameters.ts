// Layout parameter substitution (verifylib.substitute_parameters): every stanza of every artifact
// rule, expected_command and inspection run is passed through Python's `str.format(**params)`.
// This module reproduces str.format for string values: `{name}`, `{{`, `}}`, `!s`, and the
// string format spec ([[fill]align][0][width][.precision][s]), with Python's errors. Forms whose
// Python result depends on Python objects (`{x.attr}`, `{x[0]}`, `!r`, `!a`, nested `{}` in a
// spec) are refused as unsupported rather than guessed.
import { InputError } from '../core/index.ts';
import { parseArtifactRule, type ArtifactRule, type Inspection, type Layout, type Step } from '../formats/index.ts';

export type SubstitutionErrorKind =
  /** Python raises KeyError: a `{name}` with no such parameter. */
  | 'missing'
  /** Python raises ValueError/IndexError: malformed braces, positional fields, a bad format spec. */
  | 'invalid'
  /** Valid Python whose result custody does not reproduce. */
  | 'unsupported';

export type SubstitutionResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly kind: SubstitutionErrorKind; readonly message: string };

type Outcome = { ok: true; value: string } | { ok: false; kind: SubstitutionErrorKind; message: string };

const err = (kind: SubstitutionErrorKind, message: string): Outcome => ({ ok: false, kind, message });

/** in_toto.formats.PARAMETER_DICTIONARY_KEY. */
export function isParameterName(name: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(name);
}

interface ParsedSpec {
  fill: string;
  align: string;
  sign: boolean;
  noNegZero: boolean;
  alternate: boolean;
  widthText: string;
  grouping: boolean;
  precisionText: string | undefined;
  rest: string[];
}

/** formatter_unicode.c parse_internal_render_format_spec, with str's defaults ('<', 's'). */
function parseSpec(spec: string): ParsedSpec | Outcome {
  const s = [...spec];
  let pos = 0;
  const isAlign = (c: string | undefined): boolean => c === '<' || c === '>' || c === '^' || c === '=';
  const fillGiven = s.length >= 2 && isAlign(s[1]);
  const alignGiven = fillGiven || (s.length >= 1 && isAlign(s[0]));
  const p: ParsedSpec = { fill: ' ', align: '<', sign: false, noNegZero: false, alternate: false, widthText: '', grouping: false, precisionText: undefined, rest: [] };
  if (fillGiven) {
    p.fill = s[0] as string;
    p.align = s[1] as string;
    pos = 2;
  } else if (alignGiven) {
    p.align = s[0] as string;
    pos = 1;
  }
  const take = (pred: (c: string | undefined) => boolean): boolean => (pred(s[pos]) ? (pos++, true) : false);
  p.sign = take((c) => c === '+' || c === '-' || c === ' ');
  p.noNegZero = take((c) => c === 'z');
  p.alternate = take((c) => c === '#');
  // The '0' flag sets the fill (str's default alignment stays '<').
  if (!fillGiven && take((c) => c === '0')) p.fill = '0';
  const digits = (): string => {
    let d = '';
    while (pos < s.length && /^[0-9]$/.test(s[pos] as string)) d += s[pos++] as string;
    return d;
  };
  p.widthText = digits();
  p.grouping = take((c) => c === ',' || c === '_');
  if (take((c) => c === '.')) {
    p.precisionText = digits();
    if (p.precisionText === '') return err('invalid', 'Format specifier missing precision');
  }
  p.rest = s.slice(pos);
  return p;
}

function specError(p: ParsedSpec, spec: string): Outcome | undefined {
  if (p.rest.length > 1) return err('invalid', `Invalid format specifier '${spec}' for object of type 'str'`);
  const type = p.rest[0] ?? 's';
  if (p.grouping && type === 's') return err('invalid', "Cannot specify ',' with 's'.");
  if (type !== 's') return err('invalid', `Unknown format code '${type}' for object of type 'str'`);
  if (p.sign) return err('invalid', 'Sign not allowed in string format specifier');
  if (p.noNegZero) return err('invalid', 'Negative zero coercion (z) not allowed in string format specifier');
  if (p.alternate) return err('invalid', 'Alternate form (#) not allowed in string format specifier');
  if (p.align === '=') return err('invalid', "'=' alignment not allowed in string format specifier");
  if (p.widthText.length > 18 || (p.precisionText?.length ?? 0) > 18) return err('invalid', 'Too many decimal digits in format string');
  return undefined;
}

const MAX_WIDTH = 65536;

/** `format(value, spec)` for a str value. */
function formatSpec(value: string, spec: string): Outcome {
  // Python reads any Unicode decimal digit as a width or precision digit.
  if (/[^\P{Nd}0-9]/u.test(spec)) return err('unsupported', `non-ASCII digits in format spec '${spec}'`);
  const p = parseSpec(spec);
  if ('ok' in p) return p;
  const error = specError(p, spec);
  if (error !== undefined) return error;
  let chars = [...value];
  if (p.precisionText !== undefined) chars = chars.slice(0, Number(p.precisionText));
  const width = p.widthText === '' ? 0 : Number(p.widthText);
  if (width > MAX_WIDTH) return err('unsupported', `width ${p.widthText} is larger than ${MAX_WIDTH}`);
  const pad = Math.max(0, width - chars.length);
  const left = p.align === '>' ? pad : p.align === '^' ? Math.floor(pad / 2) : 0;
  return { ok: true, value: p.fill.repeat(left) + chars.join('') + p.fill.repeat(pad - left) };
}

/** One replacement field's content (between the braces). */
function replaceField(field: string, params: ReadonlyMap<string, string>): Outcome {
  // parse_field: the name ends at the first '!' or ':'.
  const end = [...field].findIndex((c) => c === '!' || c === ':');
  const chars = [...field];
  const name = end < 0 ? field : chars.slice(0, end).join('');
  // Python's order: syntax errors while parsing the field, then the lookup (KeyError /
  // IndexError), then the conversion, then the format spec.
  let spec = '';
  let conversion: string | undefined;
  if (end >= 0) {
    if (chars[end] === '!') {
      conversion = chars[end + 1];
      if (conversion === undefined) return err('invalid', 'end of string while looking for conversion specifier');
      if (end + 2 < chars.length && chars[end + 2] !== ':') return err('invalid', "expected ':' after conversion specifier");
      spec = chars.slice(end + 3).join('');
    } else {
      spec = chars.slice(end + 1).join('');
    }
  }
  if (name.includes('.') || name.includes('[')) return err('unsupported', `attribute or index access in '{${field}}'`);
  // An empty or all-digit name is positional; str.format(**params) has no positional arguments.
  if (name === '' || /^\p{Nd}+$/u.test(name)) return err('invalid', `Replacement index ${name === '' ? 0 : name} out of range for positional args tuple`);
  const value = params.get(name);
  if (value === undefined) return err('missing', `no parameter '${name}'`);
  if (conversion === 'r' || conversion === 'a') return err('unsupported', `conversion !${conversion} (Python repr)`);
  if (conversion !== undefined && conversion !== 's') return err('invalid', `Unknown conversion specifier ${conversion}`);
  return spec === '' ? { ok: true, value } : formatSpec(value, spec);
}

/**
 * Where the replacement field starting at `start` (after its '{') ends (MarkupIterator_next):
 * the character after a '!' in the field name is the conversion, whatever it is, and does not
 * end the field.
 */
function fieldEnd(template: string, start: number): number | SubstitutionResult {
  let inSpec = false;
  for (let j = start; j < template.length; j++) {
    const c = template[j];
    if (c === '}') return j;
    if (c === '{') return err('unsupported', 'nested replacement field');
    if (inSpec) continue;
    if (c === '[') return err('unsupported', 'index access in a replacement field');
    if (c === ':') inSpec = true;
    else if (c === '!') j++;
  }
  return err('invalid', start >= template.length ? "Single '{' encountered in format string" : "expected '}' before end of string");
}

/** Python `template.format(**params)` for string parameters. */
export function formatPythonTemplate(template: string, params: ReadonlyMap<string, string>): SubstitutionResult {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i] as string;
    if (c === '{') {
      if (template[i + 1] === '{') {
        out += '{';
        i += 2;
        continue;
      }
      const close = fieldEnd(template, i + 1);
      if (typeof close !== 'number') return close;
      const field = template.slice(i + 1, close);
      const replaced = replaceField(field, params);
      if (!replaced.ok) return replaced;
      out += replaced.value;
      i = close + 1;
    } else if (c === '}') {
      if (template[i + 1] !== '}') return err('invalid', "Single '}' encountered in format string");
      out += '}';
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return { ok: true, value: out };
}

/** A stanza that cannot be substituted: an InputError (INPUT_INVALID) that also says why and where. */
export class SubstitutionError extends InputError {
  readonly kind: SubstitutionErrorKind;
  readonly item: string;
  readonly stanza: string;
  constructor(kind: SubstitutionErrorKind, item: string, stanza: string, message: string) {
    super('INPUT_INVALID', `${item}: cannot substitute parameters in '${stanza}': ${message}`);
    this.kind = kind;
    this.item = item;
    this.stanza = stanza;
  }
}

function substitute(item: string, stanza: string, params: ReadonlyMap<string, string>): string {
  const r = formatPythonTemplate(stanza, params);
  if (!r.ok) throw new SubstitutionError(r.kind, item, stanza, r.message);
  return r.value;
}

function substituteRules(item: string, rules: readonly ArtifactRule[], params: ReadonlyMap<string, string>): ArtifactRule[] {
  return rules.map((rule, i) => parseArtifactRule(rule.raw.map((s) => substitute(item, s, params)), `${item} rule ${i}`));
}

/**
 * verifylib.substitute_parameters: returns the layout with parameters substituted in artifact
 * rules, expected commands and inspection commands. Throws SubstitutionError (see its kind).
 */
export function substituteLayoutParameters(layout: Layout, parameters: Readonly<Record<string, string>>): Layout {
  const params = new Map(Object.keys(parameters).map((k) => [k, parameters[k] as string]));
  const steps = layout.steps.map(
    (step): Step => ({
      ...step,
      expectedMaterials: substituteRules(step.name, step.expectedMaterials, params),
      expectedProducts: substituteRules(step.name, step.expectedProducts, params),
      expectedCommand: step.expectedCommand.map((s) => substitute(step.name, s, params)),
    }),
  );
  const inspect = layout.inspect.map(
    (inspection): Inspection => ({
      ...inspection,
      expectedMaterials: substituteRules(inspection.name, inspection.expectedMaterials, params),
      expectedProducts: substituteRules(inspection.name, inspection.expectedProducts, params),
      run: inspection.run.map((s) => substitute(inspection.name, s, params)),
    }),
  );
  return { ...layout, steps, inspect };
}
