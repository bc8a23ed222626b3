// Versioned schema of the PostgreSQL store. Append new versions; never edit an applied one.
import type { Migration } from './sqlite-migrations.ts';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'attestations, tokens, audit log',
    sql: `
CREATE TABLE attestations (
  seq BIGSERIAL PRIMARY KEY,
  namespace TEXT NOT NULL,
  id TEXT NOT NULL,
  bytes BYTEA NOT NULL,
  size INTEGER NOT NULL,
  media_type TEXT NOT NULL,
  payload_type TEXT NOT NULL,
  predicate_type TEXT NOT NULL,
  step TEXT,
  verification TEXT NOT NULL,
  claimed_keyids TEXT NOT NULL,
  subjects TEXT NOT NULL,
  materials TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (namespace, id)
);
CREATE INDEX attestations_predicate_type ON attestations (namespace, predicate_type, seq);
CREATE INDEX attestations_step ON attestations (namespace, step, seq) WHERE step IS NOT NULL;
CREATE INDEX attestations_created_at ON attestations (namespace, created_at);
CREATE TABLE attestation_subjects (
  namespace TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  value TEXT NOT NULL,
  seq BIGINT NOT NULL REFERENCES attestations (seq),
  PRIMARY KEY (namespace, algorithm, value, seq)
);
CREATE TABLE attestation_signers (
  namespace TEXT NOT NULL,
  keyid TEXT NOT NULL,
  seq BIGINT NOT NULL REFERENCES attestations (seq),
  PRIMARY KEY (namespace, keyid, seq)
);
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
  seq BIGINT PRIMARY KEY,
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
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');
-- Append-only: the server never updates or deletes audit entries; the chain catches anyone who does.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
`,
  },
];
