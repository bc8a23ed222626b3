// License fields of package manifests (package.json `license`/`licenses`, Cargo, PyPI, Debian
// copyright) to one SPDX license expression when possible.
import parseSpdx from 'spdx-expression-parse';

export function isSpdxExpression(text: string): boolean {
  try {
    parseSpdx(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A manifest's license value as a single string: an SPDX expression when the value is one (old
 * `licenses: [{type}]` arrays are joined with OR, as npm's docs describe), else the text as given.
 */
export function licenseFromManifest(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return licenseFromManifest((value as Record<string, unknown>)['type']);
  }
  if (Array.isArray(value)) {
    const parts = value.map((v) => licenseFromManifest(v)).filter((v): v is string => v !== undefined);
    if (parts.length === 0) return undefined;
    if (parts.length === 1) return parts[0];
    const joined = parts.map((p) => (isSpdxExpression(p) && /\s/.test(p) ? `(${p})` : p)).join(' OR ');
    return isSpdxExpression(joined) ? joined : parts.join(', ');
  }
  return undefined;
}
