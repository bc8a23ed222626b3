// Reason codes for source verification findings: stable strings that tests, policies and users
// can rely on (docs/source.md lists them with their meaning).
export type FindingCode =
  // commit signatures and authorization
  | 'UNSIGNED'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_NAMESPACE_MISMATCH'
  | 'SIGNATURE_UNSUPPORTED'
  | 'KEY_UNKNOWN'
  | 'KEY_NOT_VALID_AT_COMMIT_TIME'
  | 'SIGNER_NOT_AUTHORIZED_FOR_REF'
  | 'PATH_OWNED_BY_OTHERS'
  | 'MERGETAG_SIGNATURE_INVALID'
  | 'REF_NOT_COVERED'
  // reviews
  | 'REVIEW_MISSING'
  | 'REVIEW_SELF_APPROVAL'
  | 'REVIEW_STALE'
  | 'REVIEW_NO_WRITER'
  | 'REVIEW_REJECTED'
  // reference state log
  | 'RSL_ENTRY_INVALID'
  | 'RSL_SIGNATURE_INVALID'
  | 'RSL_SIGNER_NOT_ALLOWED'
  | 'RSL_CHAIN_BROKEN'
  | 'RSL_FORCE_PUSH'
  | 'RSL_NOT_RECORDED'
  | 'RSL_UNRECORDED_UPDATE'
  | 'RSL_REF_REWRITTEN';

export interface Finding {
  readonly code: FindingCode;
  readonly message: string;
  readonly commit?: string;
  readonly path?: string;
  readonly ref?: string;
  readonly entry?: number;
  readonly logCommit?: string;
  readonly identity?: string;
}
