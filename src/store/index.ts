// store: persistence behind one interface (Store) with two drivers, SQLite embedded and
// PostgreSQL at scale; versioned migrations; the audit hash chain; upload parsing and indexing.
export { openSqliteStore, SqliteStore } from './sqlite.ts';
export type { SqliteStoreOptions } from './sqlite.ts';
export { openPostgresStore, PostgresStore } from './postgres.ts';
export type { PostgresStoreOptions } from './postgres.ts';
export { SQLITE_MIGRATIONS } from './sqlite-migrations.ts';
export type { Migration } from './sqlite-migrations.ts';
export { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
export { SqliteLogState, PostgresLogState } from './log-state.ts';
export type { LogState, QueuedEntry } from './log-state.ts';
export { PostgresMonitorState, SqliteMonitorState } from './monitor-state.ts';
export type { MonitorAlarmInput, MonitorAlarmRecord, MonitorStateStore, MonitoredCheckpoint } from './monitor-state.ts';
export { PostgresRebuildQueue, SqliteRebuildQueue } from './rebuild-queue.ts';
export type { RebuildClaim, RebuildJob, RebuildJobInput, RebuildQueue } from './rebuild-queue.ts';
export { PostgresSigningState, SqliteSigningState } from './signing-state.ts';
export type { JobDecision, RevokedSignatureRecord, SigningJob, SigningJobStatus, SigningState } from './signing-state.ts';
export { withGroupCommit } from './group-commit.ts';
export type { GroupCommitOptions } from './group-commit.ts';
export { provenanceGraph } from './graph.ts';
export type { GraphOptions } from './graph.ts';
export { DSSE_MEDIA_TYPE, SIGSTORE_BUNDLE_V03, digestRefs, prepareAttestation, uniqueDigestRefs } from './ingest.ts';
export type { IngestOptions } from './ingest.ts';
export { AuditChainVerifier, GENESIS_HASH, auditEntryHash, chainEntries, verifyAuditEntries } from './audit-chain.ts';
export type { AuditProblem, AuditProblemCode } from './audit-chain.ts';
export type {
  AttestationMediaType,
  AttestationMeta,
  AttestationPage,
  AttestationQuery,
  AttestationSummary,
  AuditDraft,
  AuditEntry,
  AuditHead,
  AuditOutcome,
  DigestRef,
  MaterialMatches,
  MaterialQuery,
  MigrationReport,
  NewAttestation,
  ProvenanceGraph,
  PutResult,
  Role,
  Store,
  StoredAttestation,
  TokenRecord,
  VerificationResult,
  WriteResult,
  WriteUnit,
} from './types.ts';
