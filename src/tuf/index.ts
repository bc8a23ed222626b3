// tuf: a TUF repository writer on @tufjs/models (delegations, TAP 15 hashed bins, consistent
// snapshots, root rotation, offline signing) and the client side around tuf-js's Updater.
export { TufRepository, DEFAULT_EXPIRY, SPEC_VERSION, TOP_LEVEL_ROLES, checkRoleName, checkTargetPath, parseMetadata, signExported } from './repository.ts';
export type { ExpiryPeriods, InitOptions, PublishResult, RoleStatus, TargetInput } from './repository.ts';
export { TufClient, DirectoryFetcher, checkExpiry, custodyInfo, tufError } from './client.ts';
export type { CustodyTargetInfo, FetchedTarget, TufClientOptions } from './client.ts';
export { formatTufTime, parseTufTime, parseReferenceTime, parseDuration, addSeconds } from './tuf-time.ts';
export { tufKey, tufKeyId, signMetadata, signedBytes, validSigners } from './tuf-keys.ts';
export type { AnyMetadata } from './tuf-keys.ts';
