-- Only the schema's owner records migrations. Migration 0050 granted triage_writer (the
-- service's group role) INSERT, UPDATE and DELETE on every table of the schema, including
-- triage.schema_migrations: stolen service credentials could then mark a later migration as
-- applied (so `ingest migrate` would skip it) or remove a row to have one run again. The
-- service only reads the table (which migrations are applied, and their checksums).
--
-- Upgrade: privileges only; no data changes.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON triage.schema_migrations FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'triage_writer') THEN
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON triage.schema_migrations FROM triage_writer;
        GRANT SELECT ON triage.schema_migrations TO triage_writer;
    END IF;
END
$$;
