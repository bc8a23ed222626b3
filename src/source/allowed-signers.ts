// ssh-keygen's allowed signers file (ssh-keygen(1) "ALLOWED SIGNERS"), the file git names with
// gpg.ssh.allowedSignersFile: "principals [options] keytype base64 [comment]" per line.
import { InputError } from '../core/index.ts';
import { isSshKeyType, parseSshPublicKeyLine, type SshPublicKey } from './ssh-public-key.ts';

export interface AllowedSigner {
  readonly principals: readonly string[];
  readonly key: SshPublicKey;
  /** Namespaces the key may sign for; undefined = any. */
  readonly namespaces?: readonly string[];
  readonly validAfter?: Date;
  readonly validBefore?: Date;
  readonly line: number;
}

/** Splits the options field on commas outside double quotes. */
function splitOptions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out;
}

/** ssh-keygen timestamps: YYYYMMDD[HHMM[SS]] with an optional trailing Z (UTC; local otherwise, taken as UTC here). */
function parseTimestamp(value: string, line: number): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?Z?$/.exec(value);
  if (m === null) throw new InputError('INPUT_INVALID', `allowed signers line ${line}: bad timestamp '${value}'`);
  const [, y, mo, d, h, mi, s] = m;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)));
}

/** Splits a line into whitespace-separated fields, keeping double-quoted runs together. */
function fields(line: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  for (const m of line.matchAll(re)) out.push(m[0]);
  return out;
}

function unquote(v: string): string {
  return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v;
}

function applyOption(entry: { namespaces?: string[]; validAfter?: Date; validBefore?: Date }, option: string, line: number): void {
  const eq = option.indexOf('=');
  const name = (eq < 0 ? option : option.slice(0, eq)).toLowerCase();
  const value = eq < 0 ? '' : unquote(option.slice(eq + 1));
  if (name === 'namespaces') entry.namespaces = value.split(',').filter((n) => n !== '');
  else if (name === 'valid-after') entry.validAfter = parseTimestamp(value, line);
  else if (name === 'valid-before') entry.validBefore = parseTimestamp(value, line);
  else if (name === 'cert-authority') throw new InputError('KEY_UNSUPPORTED', `allowed signers line ${line}: cert-authority (SSH certificates) is not supported`);
  else throw new InputError('INPUT_INVALID', `allowed signers line ${line}: unknown option '${name}'`);
}

export function parseAllowedSigners(text: string): AllowedSigner[] {
  const out: AllowedSigner[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const f = fields(trimmed);
    const principals = f[0];
    if (principals === undefined || f.length < 3) throw new InputError('INPUT_INVALID', `allowed signers line ${line}: expected "principals [options] keytype key"`);
    let k = 1;
    const entry: { namespaces?: string[]; validAfter?: Date; validBefore?: Date } = {};
    if (!isSshKeyType(f[1] ?? '')) {
      for (const option of splitOptions(f[1] ?? '')) applyOption(entry, option, line);
      k = 2;
    }
    const key = parseSshPublicKeyLine(f.slice(k).join(' '));
    out.push({ principals: unquote(principals).split(',').filter((p) => p !== ''), key, line, ...entry });
  });
  return out;
}

/** Whether an entry allows its key to sign in this namespace at this time. */
export function allowedSignerApplies(entry: AllowedSigner, namespace: string, at?: Date): boolean {
  if (entry.namespaces !== undefined && !entry.namespaces.includes(namespace)) return false;
  if (at !== undefined && entry.validAfter !== undefined && at < entry.validAfter) return false;
  if (at !== undefined && entry.validBefore !== undefined && at > entry.validBefore) return false;
  return true;
}
