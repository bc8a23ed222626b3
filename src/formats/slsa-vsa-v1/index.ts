// SLSA Verification Summary Attestation v1.
export { SLSA_VSA_V1, VERIFICATION_RESULTS, makeVsaPredicate, parseVsaV1 } from './vsa.ts';
export type { VerificationResult, VsaInput, VsaPredicateV1, VsaVerifier } from './vsa.ts';
