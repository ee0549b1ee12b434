-- 0060's per-practice summary cost the ingestion path too much: every batch updated
-- one summary row per (supplier, practice) it stored (about 40 us a row on the benchmark
-- machine, as much as the row itself). What the refresher needs is only the set of practice
-- codes each supplier has sent, which changes when a code is sent for the first time: this
-- migration keeps that set (insert-only: an existing code costs one index probe and no write)
-- and computes the figures of triage.unknown_practices from the current rows of the unknown
-- codes only, through the primary key.

LOCK TABLE triage.daily_requests IN SHARE MODE;  -- no writes while the set is built

CREATE TABLE triage.practice_codes_reported (
    supplier_id    text NOT NULL,
    practice_code  text NOT NULL,
    PRIMARY KEY (supplier_id, practice_code)
);

-- 0060 summarised every stored row: its keys are the set.
INSERT INTO triage.practice_codes_reported (supplier_id, practice_code)
SELECT supplier_id, practice_code FROM triage.practice_feed_summary;

CREATE FUNCTION triage.practice_codes_reported_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO triage.practice_codes_reported (supplier_id, practice_code)
    SELECT DISTINCT n.supplier_id, n.practice_code
    FROM inserted_rows n
    WHERE NOT EXISTS (SELECT 1 FROM triage.practice_codes_reported r
                      WHERE r.supplier_id = n.supplier_id AND r.practice_code = n.practice_code)
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

-- Codes whose last current row was deleted leave the set.
CREATE FUNCTION triage.practice_codes_reported_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM triage.practice_codes_reported r
    USING (SELECT DISTINCT supplier_id, practice_code FROM old_rows) o
    WHERE r.supplier_id = o.supplier_id AND r.practice_code = o.practice_code
      AND NOT EXISTS (SELECT 1 FROM triage.daily_requests d
                      WHERE d.supplier_id = o.supplier_id AND d.practice_code = o.practice_code);
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.practice_codes_reported_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM triage.practice_codes_reported;
    RETURN NULL;
END
$$;

DROP TRIGGER practice_feed_summary_insert ON triage.daily_requests;
DROP TRIGGER practice_feed_summary_update ON triage.daily_requests;
DROP TRIGGER practice_feed_summary_delete ON triage.daily_requests;
DROP TRIGGER practice_feed_summary_truncate ON triage.daily_requests;

CREATE TRIGGER practice_codes_reported_insert
    AFTER INSERT ON triage.daily_requests
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_codes_reported_inserted();
CREATE TRIGGER practice_codes_reported_delete
    AFTER DELETE ON triage.daily_requests
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_codes_reported_deleted();
CREATE TRIGGER practice_codes_reported_truncate
    AFTER TRUNCATE ON triage.daily_requests
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_codes_reported_truncated();

-- Same columns, same meaning as 0030 and 0060. The figures of each unknown code are read by a
-- LATERAL aggregate over its rows (primary key prefix): only for the codes that are unknown.
CREATE OR REPLACE VIEW triage.unknown_practices AS
SELECT c.supplier_id,
       c.practice_code,
       f.first_activity_date,
       f.last_activity_date,
       f.days_reported,
       f.total_requests
FROM triage.practice_codes_reported c
CROSS JOIN LATERAL (
    SELECT min(d.activity_date) AS first_activity_date,
           max(d.activity_date) AS last_activity_date,
           count(*)::integer AS days_reported,
           sum(d.total_requests)::bigint AS total_requests
    FROM triage.daily_requests d
    WHERE d.supplier_id = c.supplier_id AND d.practice_code = c.practice_code) f
WHERE EXISTS (SELECT 1 FROM triage.reference_loads l
              WHERE l.kind = 'practices' AND l.superseded_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM triage.current_practice_classes p
                  WHERE p.practice_code = c.practice_code AND p.setting = 'gp_practice');

DROP FUNCTION triage.practice_feed_summary_inserted();
DROP FUNCTION triage.practice_feed_summary_updated();
DROP FUNCTION triage.practice_feed_summary_deleted();
DROP FUNCTION triage.practice_feed_summary_truncated();
DROP TABLE triage.practice_feed_summary;
