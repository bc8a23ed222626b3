// Python's fnmatch.fnmatchcase (POSIX, 3.11 `fnmatch.translate`), which in-toto v0.9 artifact rules
// use: `*` matches any run of characters *including* `/`, `?` one character, `[...]` a set with
// Python's exact rules for `!`, `]`, ranges and unterminated brackets. No escaping exists.
// Characters are Unicode code points, as in Python.

type Token =
  | { readonly kind: 'star' }
  | { readonly kind: 'any' }
  | { readonly kind: 'never' }
  | { readonly kind: 'literal'; readonly cp: number }
  | { readonly kind: 'set'; readonly negate: boolean; readonly ranges: readonly (readonly [number, number])[] };

function cp(ch: string): number {
  return ch.codePointAt(0) ?? 0;
}

/** The set built from `[stuff]` when stuff contains a '-' (the `chunks` branch of translate). */
function rangeChunks(pat: readonly string[], start: number, end: number): string[][] {
  let i = start;
  const chunks: string[][] = [];
  let k = pat[i] === '!' ? i + 2 : i + 1;
  for (;;) {
    let found = -1;
    for (let x = k; x < end; x++) {
      if (pat[x] === '-') {
        found = x;
        break;
      }
    }
    if (found < 0) break;
    chunks.push(pat.slice(i, found));
    i = found + 1;
    k = found + 3;
  }
  const chunk = pat.slice(i, end);
  if (chunk.length > 0) chunks.push(chunk);
  else chunks[chunks.length - 1]?.push('-');
  // "Remove empty ranges -- invalid in RE."
  for (let x = chunks.length - 1; x > 0; x--) {
    const prev = chunks[x - 1] as string[];
    const next = chunks[x] as string[];
    if (cp(prev[prev.length - 1] ?? '') > cp(next[0] ?? '')) {
      chunks[x - 1] = [...prev.slice(0, -1), ...next.slice(1)];
      chunks.splice(x, 1);
    }
  }
  return chunks;
}

function setToken(chunks: readonly (readonly string[])[]): Token {
  // `stuff` is the chunks joined by range hyphens; its first character decides negation.
  const first = chunks[0] ?? [];
  if (chunks.length === 1 && first.length === 0) return { kind: 'never' };
  if (chunks.length === 1 && first.length === 1 && first[0] === '!') return { kind: 'any' };
  const negate = first[0] === '!';
  const pieces = chunks.map((c, idx) => (idx === 0 && negate ? c.slice(1) : [...c]));
  const ranges: [number, number][] = [];
  pieces.forEach((piece, idx) => {
    const from = idx === 0 ? 0 : 1;
    const to = idx === pieces.length - 1 ? piece.length : piece.length - 1;
    if (idx > 0) ranges.push([cp((pieces[idx - 1] as string[])[(pieces[idx - 1] as string[]).length - 1] ?? ''), cp(piece[0] ?? '')]);
    for (let x = from; x < to; x++) {
      const c = cp(piece[x] as string);
      ranges.push([c, c]);
    }
  });
  return { kind: 'set', negate, ranges };
}

function tokenize(pattern: string): Token[] {
  const pat = [...pattern];
  const n = pat.length;
  const tokens: Token[] = [];
  let i = 0;
  while (i < n) {
    const c = pat[i] as string;
    i++;
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
    } else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        tokens.push({ kind: 'literal', cp: cp('[') });
      } else {
        const stuff = pat.slice(i, j);
        tokens.push(setToken(stuff.includes('-') ? rangeChunks(pat, i, j) : [stuff]));
        i = j + 1;
      }
    } else {
      tokens.push({ kind: 'literal', cp: cp(c) });
    }
  }
  return tokens;
}

function matchesOne(token: Token, c: number): boolean {
  switch (token.kind) {
    case 'any':
      return true;
    case 'literal':
      return token.cp === c;
    case 'set':
      return token.ranges.some(([lo, hi]) => c >= lo && c <= hi) !== token.negate;
    default:
      return false;
  }
}

function matchTokens(tokens: readonly Token[], name: readonly number[]): boolean {
  let t = 0;
  let s = 0;
  let starT = -1;
  let starS = 0;
  while (s < name.length) {
    const token = tokens[t];
    if (token?.kind === 'star') {
      starT = t++;
      starS = s;
    } else if (token !== undefined && matchesOne(token, name[s] as number)) {
      t++;
      s++;
    } else if (starT >= 0) {
      // Every non-star token is one character wide, so retrying the last star one character
      // further is complete (the same argument as translate's atomic groups).
      t = starT + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}

export type Matcher = (name: string) => boolean;

/** Matches `name` against literal segments separated by stars (`*` in between each). */
function matchStarSegments(segments: readonly string[], name: string): boolean {
  const first = segments[0] as string;
  const last = segments[segments.length - 1] as string;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  // The leftmost occurrence of each middle segment is as good as any (every star matches anything).
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    const found = name.indexOf(segment, at);
    if (found < 0 || found + segment.length > end) return false;
    at = found + segment.length;
  }
  return true;
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Compiles a pattern once (fnmatch._compile_pattern). Patterns of only literals and stars (`*`,
 * `*.js`, `dist/*`, a plain path) are matched on the string directly; that is the same as matching
 * code points when the pattern holds no surrogate: a literal segment then starts and ends on whole
 * code points of the name.
 */
export function compileFnmatch(pattern: string): Matcher {
  const tokens = tokenize(pattern);
  if (!SURROGATE.test(pattern) && tokens.every((t) => t.kind === 'star' || t.kind === 'literal')) {
    if (tokens.length === 1 && tokens[0]?.kind === 'star') return () => true;
    // Literal runs between stars; with no star the pattern is the one name it matches.
    const segments: string[] = [''];
    for (const t of tokens) {
      if (t.kind === 'star') segments.push('');
      else if (t.kind === 'literal') segments.push(`${segments.pop() ?? ''}${String.fromCodePoint(t.cp)}`);
    }
    if (segments.length === 1) return (name) => name === segments[0];
    return (name) => matchStarSegments(segments, name);
  }
  return (name) => matchTokens(tokens, [...name].map(cp));
}

/** The general matcher, without the fast paths of compileFnmatch (for differential tests). */
export function compileFnmatchGeneral(pattern: string): Matcher {
  const tokens = tokenize(pattern);
  return (name) => matchTokens(tokens, [...name].map(cp));
}

/** fnmatch.fnmatchcase(name, pattern); on POSIX also fnmatch.fnmatch. */
export function fnmatch(name: string, pattern: string): boolean {
  return compileFnmatch(pattern)(name);
}

/** fnmatch.filter(names, pattern), keeping the input order. */
export function fnmatchFilter(names: Iterable<string>, pattern: string): string[] {
  const match = compileFnmatch(pattern);
  return [...names].filter(match);
}
