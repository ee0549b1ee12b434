-- Least privilege. The group role `triage_writer`: what the service and the ops
-- commands need (read and write the tables of schema triage), and nothing more: no DDL, no
-- ownership, no superuser. The schema's owner runs the migrations; the service logs in with a
-- role of its own that is a member (docs/operations.md, "Production roles"), e.g. as a role
-- with CREATEROLE:
--     CREATE ROLE triage_service LOGIN PASSWORD '...' IN ROLE triage_writer;
-- Like triage_reader (0022): created only when missing (roles are cluster-wide), which needs
-- CREATEROLE, or create it beforehand as a superuser (the local stack does).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'triage_writer') THEN
        BEGIN
            CREATE ROLE triage_writer NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by another session
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA triage TO triage_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA triage TO triage_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA triage TO triage_writer;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA triage TO triage_writer;

-- Tables, sequences and functions later migrations create (as the role running this one)
-- get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA triage
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO triage_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA triage GRANT USAGE, SELECT ON SEQUENCES TO triage_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA triage GRANT EXECUTE ON FUNCTIONS TO triage_writer;
