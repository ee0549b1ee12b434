-- The status page's coverage heat map and its "stored in 24 h" counts read small
-- summaries instead of counting rows. The heat map counted 30 days of current rows of every
-- supplier (half a million index entries at national scale) and the 24-hour count every
-- revision stored in the last day (as many as a backfill stored): together about 1 s with one
-- year of national data on the benchmark machine, whatever the page showed.
--
--   triage.supplier_day_practices  practices with a current row per supplier and activity date
--   triage.supplier_hourly_stored  revisions stored per supplier and UTC hour (ingested_at)
--
-- Both are kept by statement-level triggers (one aggregate per statement over its transition
-- table: a few rows per batch) and stay exact: a DELETE or TRUNCATE is followed too. Their rows
-- are locked in key order, so concurrent consumers wait for each other, never deadlock.

LOCK TABLE triage.daily_requests IN SHARE MODE;
LOCK TABLE triage.daily_request_revisions IN SHARE MODE;

CREATE TABLE triage.supplier_day_practices (
    supplier_id    text    NOT NULL,
    activity_date  date    NOT NULL,
    practices      integer NOT NULL CHECK (practices > 0),
    PRIMARY KEY (supplier_id, activity_date)
);

CREATE TABLE triage.supplier_hourly_stored (
    supplier_id  text        NOT NULL,
    hour         timestamptz NOT NULL,  -- date_trunc('hour', ingested_at, 'UTC')
    revisions    integer     NOT NULL CHECK (revisions > 0),
    PRIMARY KEY (supplier_id, hour)
);

CREATE FUNCTION triage.supplier_day_practices_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO triage.supplier_day_practices AS s (supplier_id, activity_date, practices)
    SELECT n.supplier_id, n.activity_date, count(*)
    FROM day_rows n
    GROUP BY n.supplier_id, n.activity_date
    ORDER BY n.supplier_id, n.activity_date
    ON CONFLICT (supplier_id, activity_date) DO UPDATE
        SET practices = s.practices + EXCLUDED.practices;
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.supplier_day_practices_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT o.supplier_id, o.activity_date, count(*)::integer AS n
        FROM day_rows o
        GROUP BY o.supplier_id, o.activity_date
        ORDER BY o.supplier_id, o.activity_date
    LOOP
        UPDATE triage.supplier_day_practices s SET practices = s.practices - g.n
        WHERE s.supplier_id = g.supplier_id AND s.activity_date = g.activity_date
          AND s.practices > g.n;
        IF NOT FOUND THEN
            DELETE FROM triage.supplier_day_practices s
            WHERE s.supplier_id = g.supplier_id AND s.activity_date = g.activity_date;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.supplier_hourly_stored_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO triage.supplier_hourly_stored AS s (supplier_id, hour, revisions)
    SELECT n.supplier_id, date_trunc('hour', n.ingested_at, 'UTC'), count(*)
    FROM revision_rows n
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (supplier_id, hour) DO UPDATE SET revisions = s.revisions + EXCLUDED.revisions;
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.supplier_hourly_stored_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT o.supplier_id, date_trunc('hour', o.ingested_at, 'UTC') AS hour,
               count(*)::integer AS n
        FROM revision_rows o
        GROUP BY 1, 2
        ORDER BY 1, 2
    LOOP
        UPDATE triage.supplier_hourly_stored s SET revisions = s.revisions - g.n
        WHERE s.supplier_id = g.supplier_id AND s.hour = g.hour AND s.revisions > g.n;
        IF NOT FOUND THEN
            DELETE FROM triage.supplier_hourly_stored s
            WHERE s.supplier_id = g.supplier_id AND s.hour = g.hour;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.supplier_day_practices_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM triage.supplier_day_practices;
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.supplier_hourly_stored_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM triage.supplier_hourly_stored;
    RETURN NULL;
END
$$;

CREATE TRIGGER supplier_day_practices_insert
    AFTER INSERT ON triage.daily_requests
    REFERENCING NEW TABLE AS day_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_day_practices_inserted();
CREATE TRIGGER supplier_day_practices_delete
    AFTER DELETE ON triage.daily_requests
    REFERENCING OLD TABLE AS day_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_day_practices_deleted();
CREATE TRIGGER supplier_day_practices_truncate
    AFTER TRUNCATE ON triage.daily_requests
    FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_day_practices_truncated();
CREATE TRIGGER supplier_hourly_stored_insert
    AFTER INSERT ON triage.daily_request_revisions
    REFERENCING NEW TABLE AS revision_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_hourly_stored_inserted();
CREATE TRIGGER supplier_hourly_stored_delete
    AFTER DELETE ON triage.daily_request_revisions
    REFERENCING OLD TABLE AS revision_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_hourly_stored_deleted();
CREATE TRIGGER supplier_hourly_stored_truncate
    AFTER TRUNCATE ON triage.daily_request_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_hourly_stored_truncated();

-- The rows already stored (an upgrade keeps them all and counts them once).
INSERT INTO triage.supplier_day_practices (supplier_id, activity_date, practices)
SELECT supplier_id, activity_date, count(*) FROM triage.daily_requests GROUP BY 1, 2;
INSERT INTO triage.supplier_hourly_stored (supplier_id, hour, revisions)
SELECT supplier_id, date_trunc('hour', ingested_at, 'UTC'), count(*)
FROM triage.daily_request_revisions GROUP BY 1, 2;

-- Same signature and answer as 0032: the whole hours after p_since from the hourly counts,
-- the rest of p_since's own hour from the revisions themselves (at most an hour of rows).
CREATE OR REPLACE FUNCTION triage.stored_since(p_since timestamptz, p_suppliers text[])
RETURNS TABLE (supplier_id text, n integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH bound AS (
    SELECT date_trunc('hour', p_since, 'UTC') + interval '1 hour' AS next_hour
), counted AS (
    SELECT h.supplier_id, h.revisions::bigint AS n
    FROM triage.supplier_hourly_stored h, bound
    WHERE h.supplier_id = ANY(p_suppliers) AND h.hour >= bound.next_hour
    UNION ALL
    SELECT r.supplier_id, 1
    FROM triage.daily_request_revisions r, bound
    WHERE r.supplier_id = ANY(p_suppliers)
      AND r.ingested_at > p_since AND r.ingested_at < bound.next_hour
)
SELECT c.supplier_id, sum(c.n)::integer FROM counted c GROUP BY c.supplier_id
$$;
