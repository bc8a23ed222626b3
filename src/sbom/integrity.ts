// Subresource Integrity strings (W3C SRI, as npm, pnpm and yarn write them) to CycloneDX hashes.

const SRI_ALGORITHMS: Record<string, string> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/**
 * Parses "sha512-BASE64 sha1-BASE64 ..." into { 'SHA-512': hex, ... }. Unknown algorithms and
 * malformed tokens are ignored (SRI §3.3.3: unrecognised hash functions are skipped).
 */
export function hashesFromIntegrity(integrity: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof integrity !== 'string') return out;
  for (const token of integrity.trim().split(/\s+/)) {
    const m = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(token);
    if (m === null) continue;
    const alg = SRI_ALGORITHMS[m[1] ?? ''];
    if (alg === undefined) continue;
    const hex = Buffer.from(m[2] ?? '', 'base64').toString('hex');
    const expected = { 'SHA-1': 40, 'SHA-256': 64, 'SHA-384': 96, 'SHA-512': 128 }[alg];
    if (hex.length === expected) out[alg] = hex;
  }
  return out;
}

/** Hex of a known length for a CycloneDX algorithm name, or undefined. */
export function hexHash(alg: 'SHA-1' | 'SHA-256' | 'SHA-512', value: unknown): Record<string, string> {
  const len = { 'SHA-1': 40, 'SHA-256': 64, 'SHA-512': 128 }[alg];
  if (typeof value === 'string' && new RegExp(`^[0-9a-fA-F]{${len}}$`).test(value)) return { [alg]: value.toLowerCase() };
  return {};
}
