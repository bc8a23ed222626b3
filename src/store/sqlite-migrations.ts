// Versioned schema of the SQLite store. Append new versions; never edit an applied one.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

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
];
