// server: `custody serve` (fastify; one plugin per service), its auth and audit, offline
// administration, and the HTTP client the CLI uses. The composition root of the server.
export { startServer, openStore, loadTrustedKeys, resolveServeConfig, SQLITE_FILE } from './start.ts';
export type { ServeOptions, RunningServer } from './start.ts';
export { buildApp, NDJSON } from './app.ts';
export type { AppContext, BuildAppOptions } from './app.ts';
export { defaultConfig, defaultConfigText, loadConfig, parseConfig, DEFAULT_PORT } from './config.ts';
export type { ServerConfig, OidcIssuerConfig, OidcGrant } from './config.ts';
export { createAuthenticator } from './auth.ts';
export type { Authenticator } from './auth.ts';
export { createOidcVerifier } from './oidc.ts';
export type { OidcVerifier } from './oidc.ts';
export { ROLES, authorize, isNamespace, isRole, DEFAULT_NAMESPACE } from './authz.ts';
export type { Permission, Principal, Decision } from './authz.ts';
export { createApiToken, parseExpiry, publicRecord } from './api-tokens.ts';
export type { CreateTokenRequest, CreatedToken } from './api-tokens.ts';
export { verifyStoreAudit } from './audit.ts';
export type { AuditVerification } from './audit.ts';
export { createTokenOffline, listTokensOffline, revokeTokenOffline, verifyAuditOffline, withOfflineStore } from './admin.ts';
export type { OfflineTarget } from './admin.ts';
export { CustodyClient, readDocuments, subjectDigest } from './client.ts';
export type { ClientOptions, PushResult, QueryFilters } from './client.ts';
export { ApiError, mapError } from './errors.ts';
export type { ApiErrorCode } from './errors.ts';
export { createMetrics } from './metrics.ts';
export type { ServerMetrics } from './metrics.ts';
