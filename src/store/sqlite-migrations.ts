// Versioned schema of the SQLite store. Append new versions; never edit an applied one.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Fills the material index from the materials column of every stored attestation (migration 6; idempotent). */
export const SQLITE_MATERIAL_BACKFILL = `
INSERT OR IGNORE INTO attestation_materials (namespace, algorithm, value, seq)
  SELECT a.namespace, d.key, lower(d.value), a.seq
  FROM attestations a, json_each(a.materials) m, json_each(m.value, '$.digest') d
  WHERE json_valid(a.materials) AND json_type(a.materials) = 'array' AND json_type(m.value, '$.digest') = 'object' AND d.type = 'text';
`;

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'attestations, tokens, audit log',
    sql: `
CREATE TABLE attestations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace TEXT NOT NULL,
  id TEXT NOT NULL,
  bytes BLOB NOT NULL,
  size INTEGER NOT NULL,
  media_type TEXT NOT NULL,
  payload_type TEXT NOT NULL,
  predicate_type TEXT NOT NULL,
  step TEXT,
  verification TEXT NOT NULL,
  claimed_keyids TEXT NOT NULL,
  subjects TEXT NOT NULL,
  materials TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (namespace, id)
);
CREATE INDEX attestations_predicate_type ON attestations (namespace, predicate_type, seq);
CREATE INDEX attestations_step ON attestations (namespace, step, seq) WHERE step IS NOT NULL;
CREATE INDEX attestations_created_at ON attestations (namespace, created_at);
CREATE TABLE attestation_subjects (
  namespace TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  value TEXT NOT NULL,
  seq INTEGER NOT NULL REFERENCES attestations (seq),
  PRIMARY KEY (namespace, algorithm, value, seq)
) WITHOUT ROWID;
CREATE TABLE attestation_signers (
  namespace TEXT NOT NULL,
  keyid TEXT NOT NULL,
  seq INTEGER NOT NULL REFERENCES attestations (seq),
  PRIMARY KEY (namespace, keyid, seq)
) WITHOUT ROWID;
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  namespaces TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  namespace TEXT,
  target TEXT,
  outcome TEXT NOT NULL,
  status INTEGER NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');
-- Append-only: the server never updates or deletes audit entries; the chain catches anyone who does.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
`,
  },
  {
    version: 2,
    name: 'transparency log sequencing state',
    sql: `
CREATE TABLE tlog_leaves (
  leaf_hash BLOB PRIMARY KEY,
  idx INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE tlog_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_size INTEGER NOT NULL
);
INSERT INTO tlog_state (id, indexed_size) VALUES (1, 0);
CREATE TABLE tlog_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  entry BLOB NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'rebuild job queue',
    sql: `
CREATE TABLE rebuild_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace TEXT NOT NULL,
  provenance_id TEXT NOT NULL,
  git TEXT,
  commit_id TEXT,
  wanted INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX rebuild_jobs_open ON rebuild_jobs (state, id);
CREATE TABLE rebuild_claims (
  job_id INTEGER NOT NULL REFERENCES rebuild_jobs (id),
  worker TEXT NOT NULL,
  state TEXT NOT NULL,
  lease_until TEXT NOT NULL,
  result TEXT,
  vsa_id TEXT,
  finished_at TEXT,
  PRIMARY KEY (job_id, worker)
);
`,
  },
  {
    version: 4,
    name: 'signing service jobs and revoked signatures',
    sql: `
CREATE TABLE signing_jobs (
  id TEXT PRIMARY KEY,
  key_ref TEXT NOT NULL,
  keyid TEXT NOT NULL,
  namespace TEXT NOT NULL,
  artifact_name TEXT NOT NULL,
  artifact_digest TEXT NOT NULL,
  signature_digest TEXT NOT NULL,
  log_index INTEGER,
  created_at TEXT NOT NULL,
  deadline TEXT NOT NULL,
  status TEXT NOT NULL,
  finished_at TEXT,
  reason TEXT
);
CREATE INDEX signing_jobs_pending ON signing_jobs (status, created_at);
CREATE TABLE signing_revocations (
  signature_digest TEXT PRIMARY KEY,
  keyid TEXT NOT NULL,
  artifact_digest TEXT NOT NULL,
  artifact_name TEXT NOT NULL,
  log_index INTEGER,
  revoked_at TEXT NOT NULL,
  reason TEXT NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'transparency log monitor: last verified checkpoints and alarms',
    sql: `
CREATE TABLE monitor_logs (
  log_id TEXT PRIMARY KEY,
  origin TEXT NOT NULL,
  size INTEGER NOT NULL,
  root_hash TEXT NOT NULL,
  checkpoint TEXT NOT NULL,
  cosignatures TEXT NOT NULL,
  verified_at TEXT NOT NULL
);
CREATE TABLE monitor_alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  log_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  size INTEGER,
  checkpoint TEXT,
  raised_at TEXT NOT NULL
);
CREATE INDEX monitor_alarms_log ON monitor_alarms (log_id, id);
`,
  },
  {
    version: 6,
    name: 'material digest index (attestations that consumed an artifact), backfilled',
    // Same shape as attestation_subjects; filled on ingest from the extracted materials (ingest.ts)
    // and here from the materials column of the attestations already stored.
    sql: `
CREATE TABLE attestation_materials (
  namespace TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  value TEXT NOT NULL,
  seq INTEGER NOT NULL REFERENCES attestations (seq),
  PRIMARY KEY (namespace, algorithm, value, seq)
) WITHOUT ROWID;
${SQLITE_MATERIAL_BACKFILL}
`,
  },
];
