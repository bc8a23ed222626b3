// PEP 440 version ordering (https://peps.python.org/pep-0440/; the same keys as packaging's
// `_cmpkey`): epoch, release (trailing zeros ignored), pre-release, post-release, dev release, local.
import { InputError } from '../core/index.ts';

// PEP 440 "Appendix B: parsing version strings with regular expressions" (the permissive form).
const PEP440 = /^\s*v?(?:(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

interface Pep440 {
  epoch: number;
  release: number[];
  pre?: [number, number]; // phase (a=0, b=1, rc=2), number
  post?: number;
  dev?: number;
  local?: (number | string)[];
}

const PHASE: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };

export function parsePep440(text: string): Pep440 {
  const m = PEP440.exec(text);
  if (m === null) throw new InputError('VERSION_INVALID', `'${text}' is not a PEP 440 version`);
  const v: Pep440 = { epoch: m[1] !== undefined ? Number(m[1]) : 0, release: m[2]!.split('.').map(Number) };
  if (m[3] !== undefined) v.pre = [PHASE[m[3].toLowerCase()]!, m[4] !== undefined ? Number(m[4]) : 0];
  if (m[5] !== undefined) v.post = Number(m[5]);
  else if (m[6] !== undefined) v.post = m[7] !== undefined ? Number(m[7]) : 0;
  if (m[8] !== undefined) v.dev = m[9] !== undefined ? Number(m[9]) : 0;
  if (m[10] !== undefined) v.local = m[10].toLowerCase().split(/[-_.]/).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  return v;
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRelease(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmp(a[i] ?? 0, b[i] ?? 0);
    if (c !== 0) return c;
  }
  return 0;
}

// packaging: a dev release without pre/post sorts before every pre-release of that release.
function preKey(v: Pep440): [number, number] {
  if (v.pre === undefined && v.post === undefined && v.dev !== undefined) return [-Infinity, 0];
  return v.pre ?? [Infinity, 0];
}

function compareLocal(a: (number | string)[] | undefined, b: (number | string)[] | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    // PEP 440 local versions: numeric segments sort after alphanumeric ones.
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return cmp(x, y);
    } else if (typeof x === 'number') return 1;
    else if (typeof y === 'number') return -1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function comparePep440(left: string, right: string): number {
  return compareParsedPep440(parsePep440(left), parsePep440(right));
}

export const pep440Ordering = { parse: parsePep440, compare: compareParsedPep440 };

function compareParsedPep440(a: Pep440, b: Pep440): number {
  const [pa, pb] = [preKey(a), preKey(b)];
  return (
    cmp(a.epoch, b.epoch) ||
    compareRelease(a.release, b.release) ||
    cmp(pa[0], pb[0]) ||
    cmp(pa[1], pb[1]) ||
    cmp(a.post ?? -Infinity, b.post ?? -Infinity) ||
    cmp(a.dev ?? Infinity, b.dev ?? Infinity) ||
    compareLocal(a.local, b.local)
  );
}
