// Certificate identities as functionaries (keyless signing, docs/keyless.md): a functionary named
// by OIDC issuer + subject instead of a key. Matching is exact, or a regular expression over the
// whole value when written /…/ (as verify-blob's --certificate-identity). Verifying the
// certificate itself (chain to a trusted root, signature under the leaf key, signing time inside
// the validity) is I/O-free but lives with the CA code: callers inject a KeylessVerifier. Pure.
import type { Envelope } from '../../core/index.ts';

/** The identity a functionary accepts: each field exact, or /regexp/ over the whole value. */
export interface CertificateIdentity {
  readonly issuer: string;
  readonly subject: string;
}

/** Who a verified certificate names: its SAN (subject) and OIDC issuer extension. */
export interface KeylessIdentity {
  readonly issuer: string;
  readonly subject: string;
}

export type KeylessCheck =
  | { readonly ok: true; readonly identity: KeylessIdentity; readonly signedAt: string }
  | {
      readonly ok: false;
      /** The verifier's error code, e.g. CERTIFICATE_UNTRUSTED, CERTIFICATE_EXPIRED, SIGNATURE_INVALID. */
      readonly code: string;
      readonly reason: string;
      /** The identity the certificate claims (unverified), when it could be read. */
      readonly claimed?: KeylessIdentity;
    };

export interface KeylessVerifier {
  /**
   * Verifies keyless material (a Sigstore bundle) for exactly this envelope: the certificate chains
   * to a trusted root, the DSSE signature verifies under its key, the signing time (RFC 3161
   * time-stamp or log inclusion) lies inside its validity. Returns a failure, never throws, for
   * bad evidence.
   */
  verify(envelope: Envelope, material: unknown): KeylessCheck;
}

const PATTERN = /^\/(.*)\/$/s;
const MAX_PATTERN = 1024;

/** The compiled form of a pattern, or undefined for an exact value; throws SyntaxError when invalid. */
function compile(pattern: string): RegExp | undefined {
  const m = PATTERN.exec(pattern);
  if (m === null || pattern.length < 2) return undefined;
  return new RegExp(`^(?:${m[1]!})$`, 'u');
}

/** Why a pattern is unusable (policy parse time), or undefined when it is fine. */
export function identityPatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || pattern === '') return 'must be a non-empty string';
  if (pattern.length > MAX_PATTERN) return `must be at most ${MAX_PATTERN} characters`;
  try {
    compile(pattern);
  } catch (e) {
    return `is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

/** `/re/` matches the whole value as a regular expression; anything else matches only itself. */
export function identityMatches(pattern: string, value: string): boolean {
  let re: RegExp | undefined;
  try {
    re = compile(pattern);
  } catch {
    return false;
  }
  return re === undefined ? pattern === value : re.test(value);
}

/** Why an identity does not satisfy a functionary's, or undefined when it does. */
export function identityMismatch(wanted: CertificateIdentity, got: KeylessIdentity): string | undefined {
  const problems: string[] = [];
  if (!identityMatches(wanted.subject, got.subject)) problems.push(`subject '${got.subject}' does not match '${wanted.subject}'`);
  if (!identityMatches(wanted.issuer, got.issuer)) problems.push(`issuer '${got.issuer}' does not match '${wanted.issuer}'`);
  return problems.length === 0 ? undefined : problems.join(', ');
}

/** The signer id a keyless identity counts as (thresholds count distinct signer ids). */
export function identitySignerId(id: KeylessIdentity): string {
  return `oidc:${id.issuer}#${id.subject}`;
}
