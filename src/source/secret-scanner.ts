// Secret scanning over files, git's index (pre-commit) or history (pre-push, audits): rules from
// secret-rules.ts, allowlists (paths, regexes, fingerprints, disabled rules) and inline ignore
// comments. A finding never carries the secret itself: a redacted prefix and a fingerprint.
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ignore from 'ignore';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../core/index.ts';
import type { GitRepo } from './git-repo.ts';
import { SECRET_RULES, type SecretRule } from './secret-rules.ts';

export interface SecretFinding {
  readonly ruleId: string;
  readonly description: string;
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  /** "<rule>:<first 16 hex of sha256(secret)>": stable across moves, for allowlists and baselines. */
  readonly fingerprint: string;
  /** The first 4 characters and the length, never the secret. */
  readonly redacted: string;
  /** Git blob id when scanning the index or history. */
  readonly blob?: string;
}

export interface SecretAllowlist {
  /** gitignore-style patterns of paths not scanned. */
  readonly paths: readonly string[];
  /** A secret matching one of these is not reported. */
  readonly regexes: readonly RegExp[];
  readonly fingerprints: ReadonlySet<string>;
  readonly disabledRules: ReadonlySet<string>;
}

export const EMPTY_ALLOWLIST: SecretAllowlist = { paths: [], regexes: [], fingerprints: new Set(), disabledRules: new Set() };

/** Markers that silence findings on their line (ours, and those of gitleaks, secretlint, detect-secrets). */
const INLINE_IGNORE = /custody:allow-secret|gitleaks:allow|secretlint-disable-line|pragma: allowlist secret/;
const NEXT_LINE_IGNORE = /custody:allow-secret-next-line|secretlint-disable-next-line/;

export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;

export interface ScanOptions {
  rules?: readonly SecretRule[];
  allow?: SecretAllowlist;
  maxBytes?: number;
}

export interface ScanReport {
  readonly findings: SecretFinding[];
  readonly filesScanned: number;
  readonly bytesScanned: number;
  readonly skipped: number;
}

function fingerprint(ruleId: string, secret: string): string {
  return `${ruleId}:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of an offset. */
function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] as number) + 1 };
}

function lineText(text: string, starts: number[], line: number): string {
  const start = starts[line - 1];
  if (start === undefined) return '';
  const end = starts[line] ?? text.length + 1;
  return text.slice(start, end - 1);
}

/** An ignore comment on the match's first line or the secret's line, or a next-line comment above. */
function ignoredInline(text: string, starts: number[], first: number, secretLine: number): boolean {
  if (INLINE_IGNORE.test(lineText(text, starts, first)) || INLINE_IGNORE.test(lineText(text, starts, secretLine))) return true;
  return first > 1 && NEXT_LINE_IGNORE.test(lineText(text, starts, first - 1));
}

function allowed(allow: SecretAllowlist, secret: string, fp: string): boolean {
  return allow.fingerprints.has(fp) || allow.regexes.some((r) => r.test(secret));
}

/** One regex over all rules' keywords: a single pass tells which keyword rules can match. */
const keywordIndex = new WeakMap<readonly SecretRule[], RegExp>();

function keywordsPresent(rules: readonly SecretRule[], text: string): Set<string> {
  let re = keywordIndex.get(rules);
  if (re === undefined) {
    const all = [...new Set(rules.flatMap((r) => r.keywords))].sort((a, b) => b.length - a.length);
    re = new RegExp(all.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    keywordIndex.set(rules, re);
  }
  const found = new Set<string>();
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) found.add(m[0]);
  return found;
}

function ruleApplies(rule: SecretRule, text: string, present: Set<string>): boolean {
  if (rule.keywords.length > 0) return rule.keywords.some((k) => present.has(k));
  return rule.prefilter === undefined || rule.prefilter.test(text);
}

/** Scans one text. `path` only labels findings. */
export function scanText(text: string, path: string, options: ScanOptions = {}, blob?: string): SecretFinding[] {
  const rules = options.rules ?? SECRET_RULES;
  const allow = options.allow ?? EMPTY_ALLOWLIST;
  const out: SecretFinding[] = [];
  // Offsets already reported: a later (more generic) rule does not report the same secret again.
  const covered: [number, number][] = [];
  let starts: number[] | undefined;
  const present = keywordsPresent(rules, text);
  for (const rule of rules) {
    if (allow.disabledRules.has(rule.id) || !ruleApplies(rule, text, present)) continue;
    rule.pattern.lastIndex = 0;
    for (let m = rule.pattern.exec(text); m !== null; m = rule.pattern.exec(text)) {
      if (m[0].length === 0) rule.pattern.lastIndex++;
      const secret = m.groups?.['secret'] ?? m[0];
      if (rule.accept !== undefined && !rule.accept(secret, m)) continue;
      const offset = m.index + m[0].indexOf(secret);
      if (covered.some(([a, b]) => offset < b && offset + secret.length > a)) continue;
      covered.push([offset, offset + secret.length]);
      const fp = fingerprint(rule.id, secret);
      if (allowed(allow, secret, fp)) continue;
      starts ??= lineStarts(text);
      const begin = position(starts, m.index);
      const sPos = position(starts, offset);
      const end = position(starts, offset + secret.length);
      if (ignoredInline(text, starts, begin.line, sPos.line)) continue;
      out.push({
        ruleId: rule.id,
        description: rule.description,
        path,
        line: sPos.line,
        column: sPos.column,
        endLine: end.line,
        endColumn: end.column,
        fingerprint: fp,
        redacted: `${secret.slice(0, 4)}…(${secret.length} chars)`,
        ...(blob === undefined ? {} : { blob }),
      });
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

function isBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8000);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

function pathFilter(allow: SecretAllowlist): (rel: string) => boolean {
  if (allow.paths.length === 0) return () => false;
  const ig = ignore().add([...allow.paths]);
  return (rel) => rel !== '' && ig.ignores(rel);
}

/** Scans files and directories (recursively; .git directories and symlinks are skipped). */
export function scanPaths(paths: readonly string[], base: string, options: ScanOptions = {}): ScanReport {
  const allow = options.allow ?? EMPTY_ALLOWLIST;
  const excluded = pathFilter(allow);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const findings: SecretFinding[] = [];
  let filesScanned = 0;
  let bytesScanned = 0;
  let skipped = 0;
  const head = Buffer.alloc(8000);
  const visit = (path: string): void => {
    const rel = relative(base, path).split(sep).join('/');
    let st;
    try {
      st = lstatSync(path);
    } catch (e) {
      throw new InputError('FILE_UNREADABLE', `cannot read ${path}`, { cause: e });
    }
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      if (rel !== '' && (excluded(`${rel}/`) || path.endsWith(`${sep}.git`))) return;
      for (const name of readdirSync(path).sort()) {
        if (name === '.git') continue;
        visit(join(path, name));
      }
      return;
    }
    if (!st.isFile() || excluded(rel)) return;
    if (st.size > maxBytes) {
      skipped++;
      return;
    }
    // Sniff the head for NUL before reading a binary file whole.
    const fd = openSync(path, 'r');
    const n = readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    if (isBinary(head.subarray(0, n))) {
      skipped++;
      return;
    }
    const text = readFileSync(path, 'utf8');
    filesScanned++;
    bytesScanned += st.size;
    findings.push(...scanText(text, rel === '' ? path : rel, options));
  };
  for (const p of paths) visit(p);
  return { findings, filesScanned, bytesScanned, skipped };
}

function scanBlobs(repo: GitRepo, entries: readonly { blob: string; path: string }[], options: ScanOptions): ScanReport {
  const allow = options.allow ?? EMPTY_ALLOWLIST;
  const excluded = pathFilter(allow);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const wanted = entries.filter((e) => !excluded(e.path));
  const findings: SecretFinding[] = [];
  let filesScanned = 0;
  let bytesScanned = 0;
  let skipped = 0;
  // Read in batches so memory stays bounded on large histories.
  for (let i = 0; i < wanted.length; i += 2000) {
    const batch = wanted.slice(i, i + 2000);
    const objects = repo.readObjects([...new Set(batch.map((e) => e.blob))]);
    for (const e of batch) {
      const obj = objects.get(e.blob);
      if (obj === undefined || obj.bytes.length > maxBytes || isBinary(obj.bytes)) {
        skipped++;
        continue;
      }
      filesScanned++;
      bytesScanned += obj.bytes.length;
      findings.push(...scanText(Buffer.from(obj.bytes).toString('utf8'), e.path, options, e.blob));
    }
  }
  return { findings, filesScanned, bytesScanned, skipped };
}

/** What `git commit` would record: staged blobs of added, copied, modified or renamed files. */
export function scanStaged(repo: GitRepo, options: ScanOptions = {}): ScanReport {
  const names = repo.text(['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMR', '--no-renames']).split('\0').filter((p) => p !== '');
  if (names.length === 0) return { findings: [], filesScanned: 0, bytesScanned: 0, skipped: 0 };
  const staged = repo.text(['ls-files', '--stage', '-z', '--', ...names]).split('\0').filter((l) => l !== '');
  const entries = staged.map((l) => {
    const tab = l.indexOf('\t');
    const [, blob] = l.slice(0, tab).split(' ');
    return { blob: blob ?? '', path: l.slice(tab + 1) };
  });
  return scanBlobs(repo, entries, options);
}

/**
 * Every distinct blob in history (or in the commits of a range, for pre-push), each once under the
 * first path git lists it with.
 */
export function scanHistory(repo: GitRepo, options: ScanOptions & { range?: string } = {}): ScanReport {
  const revs = options.range === undefined ? ['--all'] : options.range.split(/\s+/).filter((a) => a !== '');
  const named = repo.text(['rev-list', '--objects', ...revs]);
  // Trees and blobs come with a path; ask git which of them are blobs.
  const withPath = named.split('\n').filter((l) => l.indexOf(' ') === 40 || l.indexOf(' ') === 64);
  const typed = repo.text(['cat-file', '--batch-check=%(objectname) %(objecttype)'], `${withPath.map((l) => l.slice(0, l.indexOf(' '))).join('\n')}\n`);
  const blobs = new Set(typed.split('\n').filter((l) => l.endsWith(' blob')).map((l) => l.split(' ')[0] ?? ''));
  const entries: { blob: string; path: string }[] = [];
  const seen = new Set<string>();
  for (const line of named.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const id = line.slice(0, sp);
    if (blobs.has(id) && !seen.has(id)) {
      seen.add(id);
      entries.push({ blob: id, path: line.slice(sp + 1) });
    }
  }
  return scanBlobs(repo, entries, options);
}

/** .custody/secrets.yaml: { allow: { paths, regexes, fingerprints }, disable: [rule ids] }. */
export function parseSecretsConfig(text: string): SecretAllowlist {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new InputError('INPUT_INVALID', 'secrets config: not valid YAML', { cause: e });
  }
  if (doc === null || doc === undefined) return EMPTY_ALLOWLIST;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new InputError('INPUT_INVALID', 'secrets config: must be a mapping');
  const o = doc as Record<string, unknown>;
  const list = (v: unknown, where: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InputError('INPUT_INVALID', `secrets config: ${where} must be a list of strings`);
    return v;
  };
  const allow = (o['allow'] ?? {}) as Record<string, unknown>;
  const known = new Set(SECRET_RULES.map((r) => r.id));
  const disabled = list(o['disable'], 'disable');
  for (const id of disabled) if (!known.has(id)) throw new InputError('INPUT_INVALID', `secrets config: unknown rule '${id}'`);
  return {
    paths: list(allow['paths'], 'allow.paths'),
    regexes: list(allow['regexes'], 'allow.regexes').map((r) => {
      try {
        return new RegExp(r);
      } catch (e) {
        throw new InputError('PATTERN_INVALID', `secrets config: bad regex ${r}`, { cause: e });
      }
    }),
    fingerprints: new Set(list(allow['fingerprints'], 'allow.fingerprints')),
    disabledRules: new Set(disabled),
  };
}

export function mergeAllowlists(a: SecretAllowlist, b: Partial<SecretAllowlist>): SecretAllowlist {
  return {
    paths: [...a.paths, ...(b.paths ?? [])],
    regexes: [...a.regexes, ...(b.regexes ?? [])],
    fingerprints: new Set([...a.fingerprints, ...(b.fingerprints ?? [])]),
    disabledRules: new Set([...a.disabledRules, ...(b.disabledRules ?? [])]),
  };
}
