-- Monthly range partitions of triage.daily_request_revisions on activity_date, so that the
-- cost of storing a batch stops growing with the years of history. A backlog of recent days
-- probes and inserts into the unique key (supplier_id, practice_code, activity_date,
-- revision): in one table that B-tree holds every year, and a batch of new days touches one
-- leaf page per practice scattered across it (docs/benchmarks-history.md, "What still
-- misses"); in monthly partitions it touches the recent months' small indexes only. The
-- unique key contains activity_date, so it stays a real unique constraint.
--
-- Partitions: one per month, named daily_request_revisions_YYYY_MM, made by
-- triage.add_revision_partitions(first_day, last_day) (the consumer calls it before storing a
-- month it has not seen, and for the month after; a bulk load calls it for its range). A
-- default partition, daily_request_revisions_default, takes any row whose month has no
-- partition yet (nothing is ever refused); the function moves such rows into the month's
-- partition when it makes it.
--
-- Upgrade, in place: the existing table is not copied. It becomes the partition of every
-- month before the next one (daily_request_revisions_before_YYYY_MM, bounds MINVALUE to the
-- first day of the month after today, or after its last activity_date should a row be later):
-- a CHECK constraint proves the bound in one read of the table (no rewrite), ATTACH then needs
-- no scan, and the table's own indexes become the partition's (no index build). The views on
-- the table, its triggers, grants, keys and indexes are re-created on the partitioned table
-- from the catalogue as they are at this point (columns or indexes added by earlier
-- migrations follow), so an upgraded database has the schema of a new one; an empty table
-- (a new database) is dropped rather than attached.
--
-- triage.rejected_events stays one table: it is 1% of the rows (301,766 at five years of
-- national history against 31 million revisions), its rows arrive in Kafka-offset order (the
-- unique key (source_topic, source_partition, source_offset) and the identity key grow at
-- their right-hand edge, so an insert touches the same few recent leaf pages whatever the
-- history), and partitioning it by a time column would cost the global uniqueness of both
-- keys, which the consumer's idempotent insert (ON CONFLICT on the source position) and
-- triage.dlq_replays' foreign key rely on.

CREATE FUNCTION triage.add_revision_partitions(first_day date, last_day date)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '5s'
AS $$
-- Makes the monthly partitions of triage.daily_request_revisions for every month from
-- first_day's to last_day's that has none; returns how many it made. Rows of such a month
-- already in the default partition move into the new partition (its statement triggers do
-- not fire: the rows are moved, not stored again). A month inside the range of an existing
-- partition (the pre-partitioning one of an upgraded database) is left as it is.
DECLARE
    month date := date_trunc('month', first_day)::date;
    last_month date := date_trunc('month', last_day)::date;
    next_month date;
    name text;
    made integer := 0;
BEGIN
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN
        RAISE EXCEPTION 'add_revision_partitions: a range of days, first <= last (got % to %)',
            first_day, last_day USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF last_month > month + interval '600 months' THEN
        RAISE EXCEPTION 'add_revision_partitions: at most 600 months at once (got % to %)',
            first_day, last_day USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One maker at a time (two consumers meeting a new month together).
    PERFORM pg_advisory_xact_lock(7626400612836978544);
    WHILE month <= last_month LOOP
        next_month := (month + interval '1 month')::date;
        name := 'daily_request_revisions_' || to_char(month, 'YYYY_MM');
        IF to_regclass(format('triage.%I', name)) IS NULL THEN
            BEGIN
                IF EXISTS (
                    SELECT 1 FROM triage.daily_request_revisions_default
                    WHERE activity_date >= month AND activity_date < next_month
                ) THEN
                    EXECUTE format(
                        'CREATE TABLE triage.%I (LIKE triage.daily_request_revisions'
                        ' INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
                    EXECUTE format(
                        'WITH moved AS (DELETE FROM triage.daily_request_revisions_default'
                        ' WHERE activity_date >= %L AND activity_date < %L RETURNING *)'
                        ' INSERT INTO triage.%I SELECT * FROM moved', month, next_month, name);
                    EXECUTE format(
                        'ALTER TABLE triage.daily_request_revisions ATTACH PARTITION triage.%I'
                        ' FOR VALUES FROM (%L) TO (%L)', name, month, next_month);
                ELSE
                    EXECUTE format(
                        'CREATE TABLE triage.%I PARTITION OF triage.daily_request_revisions'
                        ' FOR VALUES FROM (%L) TO (%L)', name, month, next_month);
                END IF;
                made := made + 1;
            EXCEPTION WHEN invalid_object_definition THEN
                -- "would overlap partition": an existing partition covers the month already
                NULL;
            END;
        END IF;
        month := next_month;
    END LOOP;
    RETURN made;
END
$$;

REVOKE ALL ON FUNCTION triage.add_revision_partitions(date, date) FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'triage_writer') THEN
        GRANT EXECUTE ON FUNCTION triage.add_revision_partitions(date, date) TO triage_writer;
    END IF;
END
$$;

DO $convert$
DECLARE
    tbl constant regclass := 'triage.daily_request_revisions'::regclass;
    saved_path constant text := pg_catalog.current_setting('search_path');
    keys text[];
    indexes text[];
    triggers text[];
    trigger_names text[];
    grants text[];
    grantees text[];
    views text[];
    old_indexes text[];
    stmt text;
    bound date;
    legacy text;
    i integer := 0;
BEGIN
    -- Definitions read from the catalogue with every name schema-qualified. CHECK constraints
    -- are among them rather than copied by LIKE, which would make a NOT VALID one (0120's
    -- bound on source_key) valid on the partitioned table, and the table as it was could then
    -- not be attached under it.
    PERFORM pg_catalog.set_config('search_path', '', true);

    IF EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
        JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
        WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refobjid = tbl
          AND c.oid <> tbl AND (c.relkind <> 'v' OR r.rulename <> '_RETURN')
    ) OR EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.refobjid = tbl
    ) THEN
        RAISE EXCEPTION 'a materialized view, a rule or a function body depends on %: not converted',
            tbl;
    END IF;

    SELECT coalesce(array_agg(pg_catalog.format('ALTER TABLE triage.daily_request_revisions'
               ' ADD CONSTRAINT %I %s', conname, pg_catalog.pg_get_constraintdef(oid))
               ORDER BY conname), '{}')
      INTO keys
      FROM pg_catalog.pg_constraint
     WHERE conrelid = tbl AND contype IN ('c', 'p', 'u', 'x', 'f');
    SELECT coalesce(array_agg(pg_catalog.pg_get_indexdef(x.indexrelid)
               ORDER BY x.indexrelid::regclass::text), '{}')
      INTO indexes
      FROM pg_catalog.pg_index x
     WHERE x.indrelid = tbl
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = x.indexrelid
                                                               AND c.conrelid = tbl);
    SELECT coalesce(array_agg(pg_catalog.pg_get_triggerdef(oid) ORDER BY tgname), '{}'),
           coalesce(array_agg(tgname::text ORDER BY tgname), '{}')
      INTO triggers, trigger_names
      FROM pg_catalog.pg_trigger
     WHERE tgrelid = tbl AND NOT tgisinternal;
    SELECT coalesce(array_agg(pg_catalog.format('GRANT %s ON triage.daily_request_revisions TO %I%s',
               a.privilege_type, r.rolname,
               CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
               ORDER BY r.rolname, a.privilege_type), '{}'),
           coalesce(array_agg(DISTINCT r.rolname::text), '{}')
      INTO grants, grantees
      FROM pg_catalog.pg_class c,
           LATERAL pg_catalog.aclexplode(c.relacl) a
      JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
     WHERE c.oid = tbl AND a.grantee <> c.relowner;
    SELECT coalesce(array_agg(pg_catalog.format('CREATE OR REPLACE VIEW %s%s AS %s',
               v.oid::regclass,
               CASE WHEN v.reloptions IS NULL THEN ''
                    ELSE ' WITH (' || pg_catalog.array_to_string(v.reloptions, ', ') || ')' END,
               pg_catalog.pg_get_viewdef(v.oid))
               ORDER BY v.oid::regclass::text), '{}')
      INTO views
      FROM pg_catalog.pg_class v
     WHERE v.oid IN (
        SELECT r.ev_class FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refobjid = tbl
          AND r.ev_class <> tbl);
    SELECT coalesce(array_agg(x.indexrelid::regclass::text ORDER BY x.indexrelid), '{}')
      INTO old_indexes
      FROM pg_catalog.pg_index x WHERE x.indrelid = tbl;

    -- The table keeps its rows, file and indexes under other names.
    ALTER TABLE triage.daily_request_revisions RENAME TO daily_request_revisions_unpartitioned;
    FOREACH stmt IN ARRAY old_indexes LOOP
        i := i + 1;
        EXECUTE pg_catalog.format('ALTER INDEX %s RENAME TO %I', stmt,
                                  'daily_request_revisions_unpartitioned_' || i);
    END LOOP;
    FOREACH stmt IN ARRAY trigger_names LOOP
        EXECUTE pg_catalog.format(
            'DROP TRIGGER %I ON triage.daily_request_revisions_unpartitioned', stmt);
    END LOOP;
    FOREACH stmt IN ARRAY grantees LOOP
        EXECUTE pg_catalog.format(
            'REVOKE ALL ON triage.daily_request_revisions_unpartitioned FROM %I', stmt);
    END LOOP;

    CREATE TABLE triage.daily_request_revisions (
        LIKE triage.daily_request_revisions_unpartitioned
            INCLUDING ALL EXCLUDING CONSTRAINTS EXCLUDING INDEXES
    ) PARTITION BY RANGE (activity_date);
    FOREACH stmt IN ARRAY keys || indexes || triggers || grants || views LOOP
        EXECUTE stmt;
    END LOOP;

    IF EXISTS (SELECT 1 FROM triage.daily_request_revisions_unpartitioned) THEN
        bound := (pg_catalog.date_trunc('month', pg_catalog.now()) + interval '1 month')::date;
        BEGIN
            EXECUTE pg_catalog.format(
                'ALTER TABLE triage.daily_request_revisions_unpartitioned'
                ' ADD CONSTRAINT daily_request_revisions_before_bound'
                ' CHECK (activity_date < %L)', bound);
        EXCEPTION WHEN check_violation THEN
            SELECT (pg_catalog.date_trunc('month', pg_catalog.max(activity_date))
                    + interval '1 month')::date
              INTO bound FROM triage.daily_request_revisions_unpartitioned;
            EXECUTE pg_catalog.format(
                'ALTER TABLE triage.daily_request_revisions_unpartitioned'
                ' ADD CONSTRAINT daily_request_revisions_before_bound'
                ' CHECK (activity_date < %L)', bound);
        END;
        legacy := 'daily_request_revisions_before_' || pg_catalog.to_char(bound, 'YYYY_MM');
        EXECUTE pg_catalog.format(
            'ALTER TABLE triage.daily_request_revisions_unpartitioned RENAME TO %I', legacy);
        EXECUTE pg_catalog.format(
            'ALTER TABLE triage.daily_request_revisions ATTACH PARTITION triage.%I'
            ' FOR VALUES FROM (MINVALUE) TO (%L)', legacy, bound);
        EXECUTE pg_catalog.format(
            'ALTER TABLE triage.%I DROP CONSTRAINT daily_request_revisions_before_bound', legacy);
    ELSE
        DROP TABLE triage.daily_request_revisions_unpartitioned;
    END IF;

    CREATE TABLE triage.daily_request_revisions_default
        PARTITION OF triage.daily_request_revisions DEFAULT;

    PERFORM pg_catalog.set_config('search_path', saved_path, true);
END
$convert$;
