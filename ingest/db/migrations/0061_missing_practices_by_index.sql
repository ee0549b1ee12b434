-- triage.supplier_missing_practices read the 8 days it needs through the index on
-- (supplier_id, activity_date), whatever the years stored. The 0010 view joined
-- supplier_activity to daily_requests on a date range, which the planner ran as a scan of
-- every current row (twice): 6 s with one year of national data. The refresher reads the view
-- on every refresh and the status page on every load. Same columns, same rows.
--
-- Each supplier's rows are read by a LATERAL subquery that the planner may not flatten
-- (OFFSET 0), so it can only run as an index range scan per active supplier.
CREATE OR REPLACE VIEW triage.supplier_missing_practices AS
WITH active AS MATERIALIZED (
    SELECT a.supplier_id, a.latest_activity_date
    FROM triage.supplier_activity a
    JOIN triage.suppliers s ON s.supplier_id = a.supplier_id AND s.active
), week AS MATERIALIZED (
    SELECT a.supplier_id, d.practice_code, a.latest_activity_date,
           max(d.activity_date) AS last_reported_date
    FROM active a
    CROSS JOIN LATERAL (
        SELECT d.practice_code, d.activity_date
        FROM triage.daily_requests d
        WHERE d.supplier_id = a.supplier_id
          AND d.activity_date >= a.latest_activity_date - 7
          AND d.activity_date < a.latest_activity_date
        OFFSET 0) d
    GROUP BY a.supplier_id, d.practice_code, a.latest_activity_date
), latest AS MATERIALIZED (
    SELECT a.supplier_id, d.practice_code
    FROM active a
    CROSS JOIN LATERAL (
        SELECT d.practice_code
        FROM triage.daily_requests d
        WHERE d.supplier_id = a.supplier_id AND d.activity_date = a.latest_activity_date
        OFFSET 0) d
)
SELECT w.supplier_id, w.practice_code, w.latest_activity_date, w.last_reported_date
FROM week w
WHERE NOT EXISTS (SELECT 1 FROM latest l
                  WHERE l.supplier_id = w.supplier_id AND l.practice_code = w.practice_code);

-- 0060's summary triggers lock the summary rows of a batch in key order, so that two consumers
-- storing the same supplier's practices at once wait for each other instead of deadlocking.
CREATE OR REPLACE FUNCTION triage.practice_feed_summary_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO triage.practice_feed_summary AS f
    SELECT n.supplier_id, n.practice_code, min(n.activity_date), max(n.activity_date),
           count(*), sum(n.total_requests)
    FROM inserted_rows n
    GROUP BY n.supplier_id, n.practice_code
    ORDER BY n.supplier_id, n.practice_code
    ON CONFLICT (supplier_id, practice_code) DO UPDATE SET
        first_activity_date = LEAST(f.first_activity_date, EXCLUDED.first_activity_date),
        last_activity_date = GREATEST(f.last_activity_date, EXCLUDED.last_activity_date),
        days_reported = f.days_reported + EXCLUDED.days_reported,
        total_requests = f.total_requests + EXCLUDED.total_requests;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION triage.practice_feed_summary_updated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT supplier_id, practice_code, sum(total) AS delta
        FROM (SELECT supplier_id, practice_code, total_requests::bigint AS total
              FROM new_rows
              UNION ALL
              SELECT supplier_id, practice_code, -total_requests::bigint
              FROM old_rows) t
        GROUP BY supplier_id, practice_code
        HAVING sum(total) <> 0
        ORDER BY supplier_id, practice_code
    LOOP
        UPDATE triage.practice_feed_summary f
        SET total_requests = f.total_requests + c.delta
        WHERE f.supplier_id = c.supplier_id AND f.practice_code = c.practice_code;
    END LOOP;
    RETURN NULL;
END
$$;
