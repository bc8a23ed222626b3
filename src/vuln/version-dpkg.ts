// Debian version ordering (deb-version(7), dpkg's lib/dpkg/version.c verrevcmp):
// [epoch:]upstream_version[-debian_revision], compared epoch, then upstream, then revision, each
// by alternating non-digit parts (letters < non-letters, '~' before everything, even the end)
// and digit parts (numerically).
import { InputError } from '../core/index.ts';

interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

export function parseDebVersion(text: string): DebVersion {
  const v = text.trim();
  const colon = v.indexOf(':');
  const epochText = colon >= 0 ? v.slice(0, colon) : '0';
  const rest = colon >= 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  // deb-version(7): epoch is an unsigned integer; upstream starts with a digit and uses
  // [A-Za-z0-9.+~-] (':' only with an epoch); revision uses [A-Za-z0-9.+~].
  if (!/^\d+$/.test(epochText) || !/^\d[A-Za-z0-9.+~:-]*$/.test(upstream) || !/^[A-Za-z0-9.+~]*$/.test(revision) || (colon < 0 && upstream.includes(':'))) {
    throw new InputError('VERSION_INVALID', `'${text}' is not a Debian version`);
  }
  return { epoch: Number(epochText), upstream, revision: revision === '' ? '0' : revision };
}

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[0-9]/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Compares the digit runs at a[i] and b[j] numerically; returns the result and the new positions. */
function compareDigits(a: string, i: number, b: string, j: number): [number, number, number] {
  while (a[i] === '0') i++;
  while (b[j] === '0') j++;
  let firstDiff = 0;
  while (isDigit(a[i]) && isDigit(b[j])) {
    if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
    i++;
    j++;
  }
  if (isDigit(a[i])) return [1, i, j];
  if (isDigit(b[j])) return [-1, i, j];
  return [firstDiff, i, j];
}

/** dpkg's verrevcmp. */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    const [c, ni, nj] = compareDigits(a, i, b, j);
    if (c !== 0) return c;
    i = ni;
    j = nj;
  }
  return 0;
}

export function compareDpkg(left: string, right: string): number {
  return compareParsedDeb(parseDebVersion(left), parseDebVersion(right));
}

export const dpkgOrdering = { parse: parseDebVersion, compare: compareParsedDeb };

function compareParsedDeb(a: DebVersion, b: DebVersion): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return Math.sign(verrevcmp(a.upstream, b.upstream)) || Math.sign(verrevcmp(a.revision, b.revision));
}
