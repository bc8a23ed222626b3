// Keyless signing (a self-hosted Sigstore): the certificate authority, the RFC 3161 time-stamp
// authority, the workload-identity issuer, trust documents, the keyless client and verifier.
export { caPlugin } from './plugin.ts';
export { defaultCaConfig, parseCaConfig, CA_MAX_VALIDITY_SECONDS, GITHUB_ACTIONS_PRESET } from './ca-config.ts';
export type { CaConfig, CaIssuerConfig, CaBackendConfig } from './ca-config.ts';
export { initCa, loadCaMaterial, openCaBackend, localSigner, ROOT_CERT, INTERMEDIATE_CERT, TSA_CERT, IDENTITY_KEY } from './ca-material.ts';
export type { CaInitOptions, CaInitResult, CaMaterial } from './ca-material.ts';
export { CertificateAuthority, certificateLogEntry, signingCertResponse } from './ca-service.ts';
export type { IssuedCertificate, SigningCertRequest } from './ca-service.ts';
export { createIdentityTokenVerifier, fillTemplate } from './identity-token.ts';
export type { IdentityTokenVerifier, VerifiedIdentity } from './identity-token.ts';
export { createWorkloadIssuer, workloadSubject, JWKS_PATH } from './workload-issuer.ts';
export type { WorkloadIssuer, MintRequest, MintedToken } from './workload-issuer.ts';
export { createTimestampAuthority, parseTimestampRequest, timestampRequest, TSA_POLICY_OID } from './tsa.ts';
export type { TimestampAuthority } from './tsa.ts';
export { keylessSigningConfig, keylessTrustedRoot } from './trust.ts';
export { keylessSignDigest, mintIdentityToken, fetchTimestamp, BUNDLE_V03 } from './keyless-client.ts';
export type { KeylessBundle, KeylessSignResult, MintOptions } from './keyless-client.ts';
export { verifyKeylessBundle, certificateIdentity, matches } from './verify-keyless.ts';
export { keylessSignDsse, verifyKeylessDsse, bundleLeaf } from './keyless-dsse.ts';
export { keylessPolicyVerifier } from './keyless-policy-verifier.ts';
export type { KeylessDsseBundle, KeylessDsseResult, KeylessDsseVerification, KeylessDsseVerifyInput } from './keyless-dsse.ts';
export type { IdentityMatcher, KeylessVerification, KeylessVerifyInput } from './verify-keyless.ts';
export { buildCertificate, distinguishedName, extensionValue, keyIdentifier, pemCertificates, toPem, subjectName, FULCIO_OID } from './x509.ts';
export type { CertSigner, CertTemplate, SanValue } from './x509.ts';
