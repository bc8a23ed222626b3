// The on-disk JSON text the in-toto reference writes (Metablock.dump):
// json.dumps(obj, indent=1, separators=(',', ': '), sort_keys=True), ensure_ascii on, no trailing
// newline. Written byte for byte the same, so files diff cleanly against the reference's.
import { InputError, compareCodePoints } from '../../core/index.ts';

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** json.encoder.py_encode_basestring_ascii: everything outside ' '..'~' is escaped as \uXXXX (lowercase hex). */
function pythonAsciiString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const unit = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (unit >= 0x20 && unit <= 0x7e) out += ch;
    // UTF-16 code units are exactly what Python writes for astral characters (a surrogate pair).
    else out += `\\u${unit.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/** float.__repr__: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
function pythonFloat(x: number): string {
  if (!Number.isFinite(x)) throw new InputError('INPUT_INVALID', `number ${x} has no JSON form`);
  if (Object.is(x, -0)) return '-0.0';
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let body: string;
  if (exp >= -5 + 1 && exp < 16) {
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      body = `${intPart}.${frac === '' ? '0' : frac}`;
    } else {
      body = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
  } else {
    const frac = digits.slice(1);
    const e = Math.abs(exp).toString().padStart(2, '0');
    body = `${digits[0] ?? '0'}${frac === '' ? '' : `.${frac}`}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return negative ? `-${body}` : body;
}

function write(value: unknown, level: number, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(pythonAsciiString(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      out.push(Number.isSafeInteger(value) ? String(value) : pythonFloat(value));
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'object': {
      if (value === null) {
        out.push('null');
        return;
      }
      const inner = `\n${' '.repeat(level + 1)}`;
      const close = `\n${' '.repeat(level)}`;
      if (Array.isArray(value)) {
        if (value.length === 0) {
          out.push('[]');
          return;
        }
        out.push('[');
        value.forEach((item, i) => {
          out.push(i === 0 ? inner : `,${inner}`);
          write(item, level + 1, out);
        });
        out.push(close, ']');
        return;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort(compareCodePoints);
      if (keys.length === 0) {
        out.push('{}');
        return;
      }
      out.push('{');
      keys.forEach((key, i) => {
        out.push(i === 0 ? inner : `,${inner}`, pythonAsciiString(key), ': ');
        write(obj[key], level + 1, out);
      });
      out.push(close, '}');
      return;
    }
    default:
      throw new InputError('INPUT_INVALID', `a ${typeof value} has no JSON form`);
  }
}

/**
 * `json.dumps(value, indent=1, separators=(',', ': '), sort_keys=True)` as Python 3 writes it:
 * the text in-toto-run / in-toto-sign save (without a trailing newline).
 */
export function formatLikeReference(value: unknown): string {
  const out: string[] = [];
  write(value, 0, out);
  return out.join('');
}
