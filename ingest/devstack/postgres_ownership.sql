-- Local stack only (ingest/devstack/postgres_roles.py), run as the superuser in database
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
