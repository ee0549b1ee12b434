-- A summary of every supplier's feed per practice, kept incrementally, so that the
-- view triage.unknown_practices (read by the freshness refresher every refresh for the gauge
-- triage_unknown_practices) no longer scans every row of triage.daily_requests. With five
-- years of national data that scan took seconds per refresh; the summary holds one row per
-- (supplier, practice): about 20,000 rows whatever the years.
--
-- Kept by statement-level triggers on triage.daily_requests (their transition tables hold the
-- batch's rows: one aggregate per statement, not per row). The ingestion service inserts
-- current rows (COPY or INSERT ... ON CONFLICT DO UPDATE) and updates them on restatement; it
-- never deletes them, but a DELETE or TRUNCATE keeps the summary right too.

LOCK TABLE triage.daily_requests IN SHARE MODE;  -- no writes while the summary is backfilled

CREATE TABLE triage.practice_feed_summary (
    supplier_id          text    NOT NULL,
    practice_code        text    NOT NULL,
    first_activity_date  date    NOT NULL,
    last_activity_date   date    NOT NULL,
    days_reported        integer NOT NULL CHECK (days_reported > 0),
    total_requests       bigint  NOT NULL,
    PRIMARY KEY (supplier_id, practice_code)
);

CREATE FUNCTION triage.practice_feed_summary_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO triage.practice_feed_summary AS f
    SELECT n.supplier_id, n.practice_code, min(n.activity_date), max(n.activity_date),
           count(*), sum(n.total_requests)
    FROM inserted_rows n
    GROUP BY n.supplier_id, n.practice_code
    ON CONFLICT (supplier_id, practice_code) DO UPDATE SET
        first_activity_date = LEAST(f.first_activity_date, EXCLUDED.first_activity_date),
        last_activity_date = GREATEST(f.last_activity_date, EXCLUDED.last_activity_date),
        days_reported = f.days_reported + EXCLUDED.days_reported,
        total_requests = f.total_requests + EXCLUDED.total_requests;
    RETURN NULL;
END
$$;

-- A restatement changes the figures, never the key: only the total moves.
CREATE FUNCTION triage.practice_feed_summary_updated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE triage.practice_feed_summary f
    SET total_requests = f.total_requests + c.delta
    FROM (SELECT supplier_id, practice_code, sum(total) AS delta
          FROM (SELECT supplier_id, practice_code, total_requests::bigint AS total
                FROM new_rows
                UNION ALL
                SELECT supplier_id, practice_code, -total_requests::bigint
                FROM old_rows) t
          GROUP BY supplier_id, practice_code) c
    WHERE f.supplier_id = c.supplier_id AND f.practice_code = c.practice_code
      AND c.delta <> 0;
    RETURN NULL;
END
$$;

-- Deleted rows: the practices they touched are summarised again from their remaining rows.
CREATE FUNCTION triage.practice_feed_summary_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM triage.practice_feed_summary f
    USING (SELECT DISTINCT supplier_id, practice_code FROM old_rows) o
    WHERE f.supplier_id = o.supplier_id AND f.practice_code = o.practice_code;
    INSERT INTO triage.practice_feed_summary
    SELECT d.supplier_id, d.practice_code, min(d.activity_date), max(d.activity_date),
           count(*), sum(d.total_requests)
    FROM triage.daily_requests d
    JOIN (SELECT DISTINCT supplier_id, practice_code FROM old_rows) o
      ON o.supplier_id = d.supplier_id AND o.practice_code = d.practice_code
    GROUP BY d.supplier_id, d.practice_code;
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.practice_feed_summary_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM triage.practice_feed_summary;
    RETURN NULL;
END
$$;

CREATE TRIGGER practice_feed_summary_insert
    AFTER INSERT ON triage.daily_requests
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_feed_summary_inserted();
CREATE TRIGGER practice_feed_summary_update
    AFTER UPDATE ON triage.daily_requests
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_feed_summary_updated();
CREATE TRIGGER practice_feed_summary_delete
    AFTER DELETE ON triage.daily_requests
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_feed_summary_deleted();
CREATE TRIGGER practice_feed_summary_truncate
    AFTER TRUNCATE ON triage.daily_requests
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_feed_summary_truncated();

-- The data already stored (an upgrade keeps every row and summarises it once).
INSERT INTO triage.practice_feed_summary
SELECT supplier_id, practice_code, min(activity_date), max(activity_date), count(*),
       sum(total_requests)
FROM triage.daily_requests
GROUP BY supplier_id, practice_code;

-- Same columns, same meaning as 0030 (codes that are not GP practices of the current practice
-- reference): read from the summary instead of every row.
CREATE OR REPLACE VIEW triage.unknown_practices AS
SELECT f.supplier_id,
       f.practice_code,
       f.first_activity_date,
       f.last_activity_date,
       f.days_reported,
       f.total_requests
FROM triage.practice_feed_summary f
WHERE EXISTS (SELECT 1 FROM triage.reference_loads l
              WHERE l.kind = 'practices' AND l.superseded_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM triage.current_practice_classes p
                  WHERE p.practice_code = f.practice_code AND p.setting = 'gp_practice');
