// Typed errors with stable codes (STYLE.md §8). The CLI and the HTTP layer map them to exit codes
// and statuses in one place: InputError → exit 2 / HTTP 400, VerificationError and PolicyError →
// exit 1 / HTTP 422.

export type InputErrorCode =
  | 'INPUT_INVALID'
  | 'JSON_INVALID'
  | 'CANONICAL_JSON_INVALID'
  | 'PEM_INVALID'
  | 'KEY_INVALID'
  | 'KEY_UNSUPPORTED'
  | 'KEY_PASSPHRASE_REQUIRED'
  | 'KEY_PASSPHRASE_WRONG'
  | 'ENVELOPE_INVALID'
  | 'STATEMENT_INVALID'
  | 'FILE_UNREADABLE'
  | 'PATH_INVALID'
  | 'LINK_INVALID'
  | 'LAYOUT_INVALID'
  | 'NOTE_INVALID'
  | 'CHECKPOINT_INVALID'
  | 'LOG_LOCKED'
  | 'PATTERN_INVALID'
  | 'PATH_OUTSIDE_BASE'
  | 'PATH_CONFLICT'
  | 'SYMLINK_LOOP'
  | 'PREDICATE_INVALID'
  | 'POLICY_INVALID'
  | 'LOCKFILE_INVALID'
  | 'LOCKFILE_UNSUPPORTED'
  | 'SBOM_INVALID'
  | 'OSV_INVALID'
  | 'VEX_INVALID'
  | 'VERSION_INVALID'
  | 'CVSS_INVALID'
  | 'USAGE'
  | 'SERVER_REFUSED'
  | 'SERVER_UNAVAILABLE'
  | 'SANDBOX_UNAVAILABLE'
  | 'REPOSITORY_INVALID'
  | 'KEY_NOT_FOUND'
  | 'KEY_EXISTS'
  | 'BUNDLE_INVALID';

export type VerificationErrorCode =
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MISSING'
  | 'KEY_UNKNOWN'
  | 'THRESHOLD_NOT_MET'
  | 'DIGEST_MISMATCH'
  | 'SUBJECT_MISMATCH'
  | 'PAYLOAD_TYPE_MISMATCH'
  | 'EXPIRED'
  | 'PROOF_INVALID'
  | 'TILE_INVALID'
  | 'TILE_MISSING'
  | 'LOG_INCONSISTENT'
  | 'ORIGIN_MISMATCH'
  | 'VERIFICATION_FAILED'
  | 'ROLLBACK'
  | 'METADATA_INVALID'
  | 'LENGTH_EXCEEDED'
  | 'TARGET_MISSING'
  | 'SIGNATURE_REVOKED'
  | 'CERTIFICATE_UNTRUSTED'
  | 'CERTIFICATE_EXPIRED'
  | 'TIMESTAMP_INVALID';

export type PolicyErrorCode =
  | 'POLICY_FAILED'
  | 'RULE_FAILED'
  | 'UNAUTHORIZED_SIGNER'
  | 'VULNERABILITIES_FOUND'
  | 'LICENSE_DENIED'
  | 'DEPENDENCY_RISK'
  | 'ACCESS_DENIED'
  | 'ADMISSION_DENIED'
  | 'KEY_REVOKED'
  | 'IDENTITY_MISMATCH';

export type ErrorCode = InputErrorCode | VerificationErrorCode | PolicyErrorCode;

export abstract class CustodyError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  /** Process exit code for the CLI: 1 = verification or policy failure, 2 = usage or input error. */
  abstract readonly exitCode: 1 | 2;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The input could not be read or parsed: a usage error (exit 2, HTTP 400). */
export class InputError extends CustodyError<InputErrorCode> {
  readonly exitCode = 2;
}

/** The evidence is broken: bad signature, wrong digest, too few signers (exit 1). */
export class VerificationError extends CustodyError<VerificationErrorCode> {
  readonly exitCode = 1;
}

/** The evidence is sound but the policy does not allow it (exit 1). */
export class PolicyError extends CustodyError<PolicyErrorCode> {
  readonly exitCode = 1;
}

export function isCustodyError(e: unknown): e is CustodyError {
  return e instanceof CustodyError;
}
