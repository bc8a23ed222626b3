// source: git commit signatures (SSHSIG, in-process), the source policy (authorized signers per
// ref, protected namespaces, path owners), review attestations, the reference state log, source
// VSAs, and secret scanning.
export { GitRepo } from './git-repo.ts';
export type { GitObject } from './git-repo.ts';
export { embedCommitSignature, parseCommitObject, parseTagObject, splitSignedCommit } from './commit-object.ts';
export type { CommitObject, TagObject, GitIdent } from './commit-object.ts';
export { SSH_KEY_TYPES, parseSshPublicKeyBlob, parseSshPublicKeyLine, sshFingerprint, sshKeyAsPublicKey, sshPublicKeyLine, verifySshSignatureBlob } from './ssh-public-key.ts';
export type { SshKeyType, SshPublicKey } from './ssh-public-key.ts';
export { armorSshsig, dearmorSshsig, isArmoredSshsig, parseSshsig, signSshsig, sshsigSignedData, verifySshsig } from './sshsig.ts';
export type { Sshsig, SshsigCheck, SshsigHash } from './sshsig.ts';
export { isOpenSshPrivateKey, parseOpenSshPrivateKey } from './openssh-private-key.ts';
export type { OpenSshPrivateKey } from './openssh-private-key.ts';
export { parseAllowedSigners, allowedSignerApplies } from './allowed-signers.ts';
export type { AllowedSigner } from './allowed-signers.ts';
export { parseSourcePolicy, refRuleFor, ownersOf, refPatternToRegExp } from './source-policy.ts';
export type { SourcePolicy, Identity, RefRule, OwnerRule, PolicyFiles } from './source-policy.ts';
export { verifySource } from './verify-history.ts';
export type { VerifySourceOptions, SourceVerification, CommitResult, ReviewCheck } from './verify-history.ts';
export type { Finding, FindingCode } from './findings.ts';
export { REVIEW_NOTES_REF, signReview, storeReviewInNotes, collectReviewEnvelopes, verifyReviews } from './reviews.ts';
export type { Approval, ApprovalSet, RejectedApproval, ApproveOptions } from './reviews.ts';
export { RSL_REF, readRsl, recordRef, verifyRsl } from './rsl.ts';
export type { RslEntry, RslVerification } from './rsl.ts';
export { SOURCE_VERIFIER_ID, sourceVsaStatement, signSourceVsa } from './source-vsa.ts';
export type { SourceVsaOptions } from './source-vsa.ts';
export { sshSigner } from './ssh-signer.ts';
export { SECRET_RULES, shannonEntropy, isPlaceholder } from './secret-rules.ts';
export type { SecretRule } from './secret-rules.ts';
export { DEFAULT_MAX_BYTES, EMPTY_ALLOWLIST, mergeAllowlists, parseSecretsConfig, scanHistory, scanPaths, scanStaged, scanText } from './secret-scanner.ts';
export type { ScanOptions, ScanReport, SecretAllowlist, SecretFinding } from './secret-scanner.ts';
export { SARIF_SCHEMA, secretsToSarif } from './secret-sarif.ts';
export { HOOK_MARKER, preCommitHook, prePushHook } from './git-hooks.ts';
