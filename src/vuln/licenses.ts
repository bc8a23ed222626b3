// License policy over SBOM components: SPDX expressions evaluated with spdx-expression-parse and
// spdx-satisfies. An expression is allowed when it can be satisfied using allowed licenses only,
// and denied when every way of satisfying it needs a denied license ("MIT OR GPL-3.0-only" with
// GPL denied is fine: the licensee picks MIT). Missing and non-SPDX licenses are "unknown".
import parseSpdx from 'spdx-expression-parse';
import satisfies from 'spdx-satisfies';
import { InputError } from '../core/index.ts';

export interface LicenseSubject {
  ref: string;
  name: string;
  version?: string;
  purl?: string;
  license?: string;
}

export type LicenseVerdict = 'allowed' | 'denied' | 'not-allowed' | 'unknown';

export interface LicenseResult {
  component: LicenseSubject;
  license?: string;
  verdict: LicenseVerdict;
  /** The denied licenses the expression cannot avoid, or why the license is unknown. */
  reason?: string;
}

type Node = ReturnType<typeof parseSpdx>;

function leaves(node: Node): string[] {
  if ('license' in node) {
    const base = `${node.license}${node.plus === true ? '+' : ''}`;
    return [node.exception !== undefined ? `${base} WITH ${node.exception}` : base];
  }
  return [...leaves(node.left), ...leaves(node.right)];
}

function parseOrUndefined(text: string): Node | undefined {
  try {
    return parseSpdx(text);
  } catch {
    return undefined;
  }
}

function safeSatisfies(expression: string, list: readonly string[]): boolean {
  if (list.length === 0) return false;
  try {
    return satisfies(expression, list);
  } catch {
    // spdx-satisfies refuses LicenseRef-… and other ids it cannot rank: compare literally.
    return list.includes(expression);
  }
}

/** Checks the policy's own entries: each must be a license id, a range (id+) or "id WITH exception". */
export function checkPolicyEntries(entries: readonly string[], what: string): void {
  for (const e of entries) {
    const node = parseOrUndefined(e);
    if (node === undefined || !('license' in node)) {
      throw new InputError('USAGE', `${what} '${e}' is not a single SPDX license (id, id+ or id WITH exception)`);
    }
  }
}

export function evaluateLicense(component: LicenseSubject, allow: readonly string[], deny: readonly string[]): LicenseResult {
  const license = component.license?.trim();
  if (license === undefined || license === '' || license === 'NOASSERTION' || license === 'NONE') {
    return { component, verdict: 'unknown', reason: 'no license stated' };
  }
  const node = parseOrUndefined(license);
  if (node === undefined) return { component, license, verdict: 'unknown', reason: 'not an SPDX license expression' };
  const all = leaves(node);
  if (deny.length > 0) {
    const denied = all.filter((l) => safeSatisfies(l, deny));
    const rest = all.filter((l) => !denied.includes(l));
    if (denied.length > 0 && !safeSatisfies(license, rest)) return { component, license, verdict: 'denied', reason: [...new Set(denied)].join(', ') };
  }
  if (allow.length > 0 && !safeSatisfies(license, allow)) return { component, license, verdict: 'not-allowed', reason: 'not satisfiable with the allowed licenses' };
  return { component, license, verdict: 'allowed' };
}

export function evaluateLicenses(components: readonly LicenseSubject[], allow: readonly string[], deny: readonly string[]): LicenseResult[] {
  checkPolicyEntries(allow, '--allow');
  checkPolicyEntries(deny, '--deny');
  return components.map((c) => evaluateLicense(c, allow, deny));
}
