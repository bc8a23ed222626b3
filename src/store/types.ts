// The store's interface: what the server needs to persist attestations, API tokens and the
// hash-chained audit log. One implementation per database (sqlite.ts, postgres.ts); both pass the
// same contract suite (contract.case.ts).
import type { DigestSet } from '../core/index.ts';

/** One (algorithm, value) pair of a subject or material digest set, value in lowercase hex. */
export interface DigestRef {
  algorithm: string;
  value: string;
}

/** How the server's trusted keys judged the signatures of an attestation when it was stored. */
export interface VerificationResult {
  /** verified: at least one trusted key signed; unverified: no trusted key signed (or none configured). */
  status: 'verified' | 'unverified';
  /** Key ids of the trusted keys whose signatures verified. */
  keyids: string[];
  /** Error code of core's verifyEnvelope when unverified (KEY_UNKNOWN, SIGNATURE_INVALID, …). */
  code?: string;
}

export type AttestationMediaType = 'application/vnd.dsse.envelope.v1+json' | 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Index fields extracted from a stored document (see ingest.ts). */
export interface AttestationMeta {
  mediaType: AttestationMediaType;
  payloadType: string;
  predicateType: string;
  /** Step name (in-toto link predicate `name`), when the predicate has one. */
  step?: string;
  subjects: { name?: string; digest: DigestSet }[];
  materials: { name?: string; uri?: string; digest: DigestSet }[];
  /** Key id hints in the signatures (unauthenticated). */
  claimedKeyids: string[];
  verification: VerificationResult;
}

/** An attestation ready to store: exact bytes, their sha256 (the id) and the extracted index fields. */
export interface NewAttestation extends AttestationMeta {
  /** sha256 hex of `bytes`: the content address. */
  id: string;
  bytes: Uint8Array;
}

/** What listings return: everything but the bytes. */
export interface AttestationSummary extends AttestationMeta {
  id: string;
  namespace: string;
  size: number;
  /** ISO 8601 time the first upload was stored. */
  createdAt: string;
  /** Store-wide insertion order; cursors are built from it. */
  seq: number;
}

export interface StoredAttestation extends AttestationSummary {
  bytes: Uint8Array;
}

export interface AttestationQuery {
  namespace: string;
  subject?: DigestRef;
  predicateType?: string;
  /** A trusted key id that verified (claimed key ids are not searchable: they prove nothing). */
  signer?: string;
  step?: string;
  /** Only attestations stored at or after this time. */
  since?: Date;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  limit: number;
}

export interface AttestationPage {
  items: AttestationSummary[];
  /** Present when more results may follow. */
  nextCursor?: string;
}

export interface MaterialQuery {
  /** Only attestations each of whose materials has a digest in this list: steps that consumed nothing else. */
  within?: DigestRef[];
  /**
   * Leave out a digest more than this many attestations consumed (a shell, a compiler: it leads
   * to every build), so the query reads at most this many index rows per digest.
   */
  maxPerDigest?: number;
}

export interface MaterialMatches {
  items: AttestationSummary[];
  /** The digests left out under maxPerDigest. */
  skipped: DigestRef[];
}

export interface ProvenanceGraph {
  root: DigestRef;
  depth: number;
  /** Artifacts reached, with the depth at which each was first reached. */
  artifacts: { digest: DigestRef; depth: number }[];
  /**
   * Attestations whose subjects include a reached artifact (their materials are the next level),
   * then the consumers (below).
   */
  attestations: AttestationSummary[];
  /**
   * Ids of the attestations among `attestations` reached through the material index: steps that
   * consumed only materials of the graph (lint, scans) and produced nothing on its path (graph.ts).
   */
  consumers: string[];
  /** Materials consumed by so many attestations (tools) that they were not followed to their consumers. */
  skippedMaterials: DigestRef[];
  /** True when the walk stopped at the attestation limit (producers or consumers) before reaching all. */
  truncated: boolean;
}

export type AuditOutcome = 'allowed' | 'denied' | 'failed';

/** An audit entry before the store gives it a place in the chain. */
export interface AuditDraft {
  /** ISO 8601 time of the event. */
  at: string;
  /** Who: `token:<id>`, `oidc:<issuer>#<sub>`, `anonymous`, `offline:<user>`. */
  actor: string;
  /** What was attempted, e.g. `attestations.write`, `tokens.create`. */
  action: string;
  namespace: string | null;
  /** What it was done to: an attestation id, a token id, a route. */
  target: string | null;
  outcome: AuditOutcome;
  /** HTTP status given, 0 when not an HTTP request (offline administration). */
  status: number;
  /** Small JSON details (never secrets). */
  detail: Record<string, unknown>;
}

export interface AuditEntry extends AuditDraft {
  seq: number;
  /** Hash of the previous entry (64 zeros for the first). */
  prevHash: string;
  /** sha256 over JCS of this entry's fields with prevHash (audit-chain.ts). */
  hash: string;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

/** One atomic write: optional attestations to store in a namespace, and the audit entry for it. */
export interface WriteUnit {
  attestations?: { namespace: string; records: NewAttestation[] };
  audit: AuditDraft;
}

export interface PutResult {
  id: string;
  seq: number;
  /** false when the same bytes were already stored in the namespace (idempotent upload). */
  created: boolean;
  createdAt: string;
}

export interface WriteResult {
  attestations: PutResult[];
  audit: AuditEntry;
}

export type Role = 'admin' | 'maintainer' | 'attester' | 'signer' | 'reviewer' | 'reader';

export interface TokenRecord {
  /** Public id, part of the token string; not secret. */
  id: string;
  /** sha256 hex of the token's secret part. */
  secretHash: string;
  role: Role;
  /** Namespaces the token may act in; ['*'] = all. */
  namespaces: string[];
  description: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface MigrationReport {
  /** Schema version after migrating. */
  version: number;
  /** Versions applied by this call. */
  applied: number[];
}

/**
 * Persistence for the server. Every write that changes state carries its audit entry and is
 * stored in the same transaction, so an acknowledged write is always audited.
 */
export interface Store {
  readonly driver: 'sqlite' | 'postgres';
  /** Applies pending versioned migrations (safe to call from several processes at once). */
  migrate(): Promise<MigrationReport>;
  /** Cheap round trip to the database, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Stores units in one transaction, appending one audit entry per unit in order. */
  write(units: WriteUnit[]): Promise<WriteResult[]>;
  getAttestation(namespace: string, id: string): Promise<StoredAttestation | undefined>;
  listAttestations(query: AttestationQuery): Promise<AttestationPage>;
  /** Attestations in the namespace whose subjects include any of the digests. */
  attestationsBySubjects(namespace: string, digests: DigestRef[], limit: number): Promise<AttestationSummary[]>;
  /**
   * Attestations in the namespace whose materials include any of the digests — the steps that
   * consumed them (a lint, a scan, another build) — newest first (see MaterialQuery).
   */
  attestationsByMaterials(namespace: string, digests: DigestRef[], limit: number, options?: MaterialQuery): Promise<MaterialMatches>;

  createToken(token: TokenRecord, audit: AuditDraft): Promise<AuditEntry>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  /** Marks a token revoked; false when there is no such token or it already was revoked. */
  revokeToken(id: string, at: string, audit: AuditDraft): Promise<boolean>;

  /** Audit entries with seq > afterSeq, ascending. */
  readAudit(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  auditHead(): Promise<AuditHead>;
}
