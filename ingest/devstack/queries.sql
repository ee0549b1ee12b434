-- The local stack's Postgres administration, run as the superuser (ingest stack up). Role and
-- database DDL cannot bind parameters: the queries with {fields} are templates filled with
-- str.format from the stack's own constants and password verifiers, never from input.
-- Loaded by ingest.db.queries.

-- name: server_answers
SELECT 1

-- name: statement_statistics
-- Statement statistics for the benchmarks, in database postgres only (nothing added to triage).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements

-- name: reload_configuration
SELECT pg_reload_conf()

-- name: idle_transactions
-- Sessions idle in a transaction for over 10 s: the usual blockers of a migration.
SELECT pid, now() - xact_start AS age FROM pg_stat_activity
WHERE datname = current_database() AND state LIKE 'idle in transaction%'
  AND now() - xact_start > interval '10 seconds'
ORDER BY xact_start

-- name: role_exists
SELECT 1 FROM pg_roles WHERE rolname = $1

-- name: database_exists
SELECT 1 FROM pg_database WHERE datname = $1

-- name: set_password
-- Template: {role}, {verifier} (a quoted SCRAM verifier).
ALTER ROLE {role} PASSWORD {verifier}

-- name: create_login_role
-- Template: {role}, {options}, {verifier}.
CREATE ROLE {role} {options} PASSWORD {verifier}

-- name: alter_login_role
-- Template: {role}, {options}, {verifier}.
ALTER ROLE {role} {options} PASSWORD {verifier}

-- name: create_group_role
-- Template: {role}.
CREATE ROLE {role} NOLOGIN

-- name: grant_roles
-- Template: {roles} (comma-separated), {grantee}.
GRANT {roles} TO {grantee}

-- name: set_database_owner
-- Template: {database}, {owner}.
ALTER DATABASE "{database}" OWNER TO {owner}

-- name: create_database
-- Template: {database}, {owner}.
CREATE DATABASE "{database}" OWNER {owner}

-- name: hand_schema_to_owner
-- Run as the superuser in database
-- triage: hand schema triage and every object in it to triage_owner, the role that runs the
-- migrations. A stack initialised before the roles existed has them owned by the superuser.
-- Idempotent; nothing else changes (grants stay as they are).
DO $$
DECLARE
    item record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'triage') THEN
        RETURN;
    END IF;
    EXECUTE 'ALTER SCHEMA triage OWNER TO triage_owner';

    -- tables, views, materialized views, foreign tables (owned sequences follow their table)
    FOR item IN
        SELECT c.relname, c.relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'triage'
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND c.relowner <> 'triage_owner'::regrole
    LOOP
        EXECUTE format(
            'ALTER %s triage.%I OWNER TO triage_owner',
            CASE item.relkind
                WHEN 'v' THEN 'VIEW'
                WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'f' THEN 'FOREIGN TABLE'
                ELSE 'TABLE'
            END,
            item.relname
        );
    END LOOP;

    -- sequences no column owns
    FOR item IN
        SELECT c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'triage' AND c.relkind = 'S'
          AND c.relowner <> 'triage_owner'::regrole
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                AND d.deptype IN ('a', 'i')
          )
    LOOP
        EXECUTE format('ALTER SEQUENCE triage.%I OWNER TO triage_owner', item.relname);
    END LOOP;

    -- functions and procedures
    FOR item IN
        SELECT p.oid::regprocedure AS signature
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'triage' AND p.proowner <> 'triage_owner'::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO triage_owner', item.signature);
    END LOOP;

    -- stand-alone types: enums, domains, ranges
    FOR item IN
        SELECT t.oid::regtype AS type_name, t.typtype
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'triage' AND t.typowner <> 'triage_owner'::regrole
          AND t.typtype IN ('e', 'd', 'r')
    LOOP
        EXECUTE format(
            'ALTER %s %s OWNER TO triage_owner',
            CASE item.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
            item.type_name
        );
    END LOOP;
END
$$;
