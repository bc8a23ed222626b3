// in-toto's artifact exclude patterns: gitignore-style patterns with the exact semantics of
// pathspec 0.11 `gitwildmatch` (what in-toto 1.3.1's runlib uses), ported to JavaScript RegExps.
// The `ignore` npm package is close but not equal (it refuses the path "." that in-toto matches,
// and reads some edge patterns differently), so the translation below follows pathspec line by line.
import { InputError } from '../core/index.ts';

/** in-toto's default ARTIFACT_EXCLUDE_PATTERNS (in_toto/settings.py). */
export const DEFAULT_EXCLUDE_PATTERNS: readonly string[] = Object.freeze(['*.link*', '.git', '*.pyc', '*~']);

/**
 * Exclusion test. `path` tests a whole normalized relative path. `child` tests the entry `name`
 * of a directory recorded as `parent` that was itself not excluded (in-toto never walks into an
 * excluded directory): when every pattern is a plain name pattern, that only needs the name.
 */
export interface ExcludeMatcher {
  path(path: string): boolean;
  child(parent: string, name: string): boolean;
  /** Equal for equal pattern lists: what cached walk results are valid for. */
  readonly fingerprint: string;
}

interface CompiledPattern {
  regex: RegExp;
  /**
   * For a pattern that matches one name at any depth ('**' + a segment glob that cannot match
   * '/'): the RegExp source of that glob.
   */
  nameOnly: string | null;
  /** pathspec's `include`: true excludes the match, false ("!pattern") re-includes it. */
  include: boolean;
}

function invalid(pattern: string, why: string): never {
  throw new InputError('PATTERN_INVALID', `invalid exclude pattern ${JSON.stringify(pattern)}: ${why}`);
}

// Python's str.strip() removes the characters str.isspace() accepts, which is not JavaScript's
// trim() set (Python strips U+001C–U+001F and U+0085, and keeps U+FEFF).
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

function pyStrip(s: string): string {
  const chars = Array.from(s);
  let start = 0;
  let end = chars.length;
  while (start < end && PY_SPACE.has(chars[start]!.codePointAt(0)!)) start++;
  while (end > start && PY_SPACE.has(chars[end - 1]!.codePointAt(0)!)) end--;
  return chars.slice(start, end).join('');
}

/** A literal code point in a `u`-mode RegExp (Python `re.escape(char)`). */
function literal(codePoint: number): string {
  const c = String.fromCodePoint(codePoint);
  return /^[A-Za-z0-9_]$/.test(c) ? c : `\\u{${codePoint.toString(16)}}`;
}

/**
 * Parses the bracket expression pathspec hands to Python's `re` (`[` already consumed) the way
 * `re._parser` does, and returns the equivalent JavaScript class. `text` only ever holds escapes
 * of the form `\\` + one char (pathspec doubles every backslash and writes `\^`).
 */
function translateClass(pattern: string, text: string[]): string {
  let pos = 0;
  const next = (): number | undefined => {
    const c = text[pos++];
    if (c === undefined) return undefined;
    if (c === '\\') {
      const escaped = text[pos++];
      if (escaped === undefined) invalid(pattern, 'bad escape in bracket expression');
      return escaped.codePointAt(0)!;
    }
    return c.codePointAt(0)!;
  };
  const negate = text[0] === '^';
  if (negate) pos++;
  const items: string[] = [];
  for (;;) {
    const raw = text[pos];
    if (raw === undefined) invalid(pattern, 'unterminated character set');
    if (raw === ']' && items.length > 0) {
      pos++;
      break;
    }
    const code1 = next()!;
    if (text[pos] === '-') {
      pos++;
      if (text[pos] === undefined) invalid(pattern, 'unterminated character set');
      if (text[pos] === ']') {
        pos++;
        items.push(literal(code1), literal(0x2d));
        break;
      }
      const code2 = next()!;
      if (code2 < code1) invalid(pattern, 'bad character range');
      items.push(`${literal(code1)}-${literal(code2)}`);
    } else {
      items.push(literal(code1));
    }
  }
  // pathspec found the closing bracket itself; Python's parser must agree on where it is.
  if (pos !== text.length) invalid(pattern, 'bracket expression ends early');
  return `[${negate ? '^' : ''}${items.join('')}]`;
}

/**
 * pathspec `GitWildMatchPattern._translate_segment_glob`, emitting a JavaScript `u` RegExp;
 * `brackets` tells whether it holds a bracket expression (which, unlike '*' and '?', can match '/').
 */
function translateSegmentGlob(pattern: string, seg: string): { regex: string; brackets: boolean } {
  const chars = Array.from(seg);
  const end = chars.length;
  let escape = false;
  let regex = '';
  let brackets = false;
  let i = 0;
  while (i < end) {
    const char = chars[i]!;
    i++;
    if (escape) {
      escape = false;
      regex += literal(char.codePointAt(0)!);
    } else if (char === '\\') {
      escape = true;
    } else if (char === '*') {
      regex += '[^/]*';
    } else if (char === '?') {
      regex += '[^/]';
    } else if (char === '[') {
      let j = i;
      if (j < end && chars[j] === '!') j++;
      if (j < end && chars[j] === ']') j++;
      while (j < end && chars[j] !== ']') j++;
      if (j < end) {
        j++;
        // What pathspec writes after '[': '^' for '!', '\^' for '^', then the rest with every
        // backslash doubled.
        const text: string[] = [];
        if (chars[i] === '!') {
          text.push('^');
          i++;
        } else if (chars[i] === '^') {
          text.push('\\', '^');
          i++;
        }
        for (const c of chars.slice(i, j)) {
          if (c === '\\') text.push('\\', '\\');
          else text.push(c);
        }
        regex += translateClass(pattern, text);
        brackets = true;
        i = j;
      } else {
        regex += literal(0x5b);
      }
    } else {
      regex += literal(char.codePointAt(0)!);
    }
  }
  if (escape) invalid(pattern, 'escape character with nothing to escape');
  return { regex, brackets };
}

// Python's `.` is any character but "\n" (JavaScript's also skips "\r", U+2028, U+2029), and its
// `$` also matches before one final "\n".
const ANY = '[^\\n]';
const END = '\\n?$';

/** pathspec's normalization of a pattern's segments (the first half of `pattern_to_regex`). */
function normalizeSegments(original: string, segs: string[]): void {
  // Collapse runs of '**'.
  for (let i = segs.length - 1; i > 0; i--) {
    if (segs[i - 1] === '**' && segs[i] === '**') segs.splice(i, 1);
  }
  if (segs[0] === '') {
    // A leading '/' anchors the pattern at the root.
    segs.shift();
  } else if (segs.length === 1 || (segs.length === 2 && segs[1] === '')) {
    // A single segment (or 'dir/') matches at any depth: '**/<pattern>'.
    if (segs[0] !== '**') segs.unshift('**');
  }
  if (segs.length === 0) invalid(original, 'pattern is empty');
  // A trailing '/' means everything below: '<pattern>/**'.
  if (segs.length > 1 && segs[segs.length - 1] === '') segs[segs.length - 1] = '**';
}

/** The regex of normalized segments (the second half of `pattern_to_regex`). */
function segmentsRegex(original: string, segs: readonly string[]): { source: string; nameOnly: string | null } {
  const out = ['^'];
  let needSlash = false;
  const end = segs.length - 1;
  let nameOnly: string | null = null;
  segs.forEach((seg, i) => {
    if (seg === '**') {
      if (i === 0 && i === end) {
        out.push(`[^/]+(?:/${ANY}*)?`);
      } else if (i === 0) {
        out.push(`(?:${ANY}+/)?`);
        needSlash = false;
      } else if (i === end) {
        out.push(`/${ANY}*`);
      } else {
        out.push(`(?:/${ANY}+)?`);
        needSlash = true;
      }
      return;
    }
    if (needSlash) out.push('/');
    const glob = seg === '*' ? { regex: '[^/]+', brackets: false } : translateSegmentGlob(original, seg);
    out.push(glob.regex);
    if (segs.length === 2 && i === 1 && segs[0] === '**' && !glob.brackets) nameOnly = glob.regex;
    // Without a trailing '/', a pattern matches a file or a directory and everything below it.
    if (i === end) out.push(`(?:/${ANY}*)?`);
    needSlash = true;
  });
  out.push(END);
  return { source: out.join(''), nameOnly };
}

/** pathspec 0.11 `GitWildMatchPattern.pattern_to_regex`: null for a pattern that matches nothing. */
function compilePattern(original: string): CompiledPattern | null {
  let pattern = pyStrip(original);
  if (pattern.startsWith('#') || pattern === '/' || pattern === '') return null;
  let include = true;
  if (pattern.startsWith('!')) {
    include = false;
    pattern = pattern.slice(1);
  }
  const segs = pattern.split('/');
  // '**/' (after collapsing '**' runs) matches everything except files directly in the root.
  const everythingBelow = segs.length >= 2 && segs.at(-1) === '' && segs.slice(0, -1).every((s) => s === '**');
  normalizeSegments(original, segs);
  if (everythingBelow) return { regex: new RegExp(`^${ANY}+/${ANY}*${END}`, 'u'), include, nameOnly: null };
  const { source, nameOnly } = segmentsRegex(original, segs);
  try {
    return { regex: new RegExp(source, 'u'), include, nameOnly };
  } catch (e) {
    return invalid(original, (e as Error).message);
  }
}

/** pathspec `util.normalize_file` on POSIX: drop one leading '/' or './'. */
function normalizeForMatch(path: string): string {
  if (path.startsWith('/')) return path.slice(1);
  if (path.startsWith('./')) return path.slice(2);
  return path;
}

/**
 * Compiles gitignore-style exclude patterns with in-toto's semantics (pathspec `gitwildmatch`):
 * patterns are matched against the whole normalized path relative to the base path; a pattern
 * without '/' matches at any depth; the last matching pattern wins, so `!pattern` re-includes.
 * Empty lines, whitespace-only lines and `#` comments are ignored.
 * @throws InputError PATTERN_INVALID where pathspec raises (e.g. a trailing backslash).
 */
export function compileExcludePatterns(patterns: readonly string[]): ExcludeMatcher {
  const compiled = patterns.filter((p) => p !== '').map(compilePattern).filter((p) => p !== null);
  const fingerprint = JSON.stringify(patterns);
  if (compiled.length === 0) return { path: () => false, child: () => false, fingerprint };
  let path: (p: string) => boolean;
  if (compiled.every((p) => p.include)) {
    // Without negations the answer is "any pattern matches": one alternation is faster.
    const any = new RegExp(compiled.map((p) => `(?:${p.regex.source})`).join('|'), 'u');
    path = (p) => any.test(normalizeForMatch(p));
  } else {
    path = (p) => {
      const normalized = normalizeForMatch(p);
      let excluded = false;
      for (const { regex, include } of compiled) {
        if (regex.test(normalized)) excluded = include;
      }
      return excluded;
    };
  }
  const globs = compiled.map((p) => (p.include ? p.nameOnly : null));
  if (globs.some((g) => g === null)) {
    return { path, child: (parent, name) => path(parent === '.' ? name : `${parent}/${name}`), fingerprint };
  }
  // Every pattern is '**/<glob>' with a glob that stays inside one name: a path matches iff one of
  // its names does, and the parent's names were already checked. Except below a name with "\n":
  // the leading '(?:.+/)?' cannot cross it (Python's '.'), so the whole path decides.
  const names = new RegExp(`^(?:${globs.join('|')})${END}`, 'u');
  return {
    path,
    child: (parent, name) => (parent.includes('\n') ? path(`${parent}/${name}`) : names.test(name)),
    fingerprint,
  };
}
