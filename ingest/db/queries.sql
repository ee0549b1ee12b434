-- The migrations' own bookkeeping (triage.schema_migrations) and their lock. Loaded by
-- ingest.db.queries.

-- name: migrations_table
-- Whether the bookkeeping table exists yet (a read: no DDL, any role may run it).
SELECT to_regclass('triage.schema_migrations')

-- name: applied_migrations
-- Each applied migration's version and the checksum of the file that was applied.
SELECT version, checksum FROM triage.schema_migrations

-- name: current_role
SELECT current_user

-- name: lock_migrations
-- A session lock ($1): a second run waits, then finds nothing left to do.
SELECT pg_advisory_lock($1)

-- name: unlock_migrations
SELECT pg_advisory_unlock($1)

-- name: create_migrations_table
CREATE SCHEMA IF NOT EXISTS triage;
CREATE TABLE IF NOT EXISTS triage.schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: record_migration
INSERT INTO triage.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)
