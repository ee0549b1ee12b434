-- Freshness (docs/operations.md): evaluated at any instant, missing practices, and an
-- index for the per-supplier day ranges that ops read every refresh.

-- The freshness rule of CONTRACT section 4 (ingest/freshness.py has the same rule in Python).
CREATE OR REPLACE FUNCTION triage.freshness_status(
    last_event_at timestamptz, warn_after interval, error_after interval, ts timestamptz
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
           WHEN last_event_at IS NULL THEN 'never_reported'
           WHEN ts - last_event_at <= warn_after THEN 'ok'
           WHEN ts - last_event_at <= error_after THEN 'late'
           ELSE 'silent'
       END
$$;

-- triage.supplier_freshness as it is (was, will be) at instant `ts`: the view is this at now(),
-- the service's freshness refresher calls it with its clock so that tests can inject time.
-- SECURITY DEFINER so that readers of the view need no right on the underlying tables.
CREATE OR REPLACE FUNCTION triage.supplier_freshness_at(ts timestamptz)
RETURNS TABLE (
    supplier_id           text,
    last_event_at         timestamptz,
    latest_activity_date  date,
    status                text,
    name                  text,
    warn_after            interval,
    error_after           interval
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT s.supplier_id,
       a.last_event_at,
       a.latest_activity_date,
       triage.freshness_status(a.last_event_at, s.warn_after, s.error_after, ts),
       s.name,
       s.warn_after,
       s.error_after
FROM triage.suppliers s
LEFT JOIN triage.supplier_activity a ON a.supplier_id = s.supplier_id
WHERE s.active
ORDER BY s.supplier_id
$$;

-- Same columns, same order as 0001 (the contract's four first): only the source changes.
CREATE OR REPLACE VIEW triage.supplier_freshness AS
SELECT f.supplier_id,
       f.last_event_at,
       f.latest_activity_date,
       f.status,
       f.name,
       f.warn_after,
       f.error_after
FROM triage.supplier_freshness_at(now()) f;

-- Ranges of days per supplier (missing practices, the status page's coverage heat map).
CREATE INDEX IF NOT EXISTS daily_requests_supplier_day_idx
    ON triage.daily_requests (supplier_id, activity_date) INCLUDE (practice_code);

-- Practices an active supplier reported on any of the 7 days before its latest reported day
-- but not for that day. `last_reported_date` is the latest of those 7 days it was reported for.
CREATE OR REPLACE VIEW triage.supplier_missing_practices AS
SELECT a.supplier_id,
       d.practice_code,
       a.latest_activity_date,
       max(d.activity_date) AS last_reported_date
FROM triage.supplier_activity a
JOIN triage.suppliers s ON s.supplier_id = a.supplier_id AND s.active
JOIN triage.daily_requests d
  ON d.supplier_id = a.supplier_id
 AND d.activity_date >= a.latest_activity_date - 7
 AND d.activity_date < a.latest_activity_date
WHERE NOT EXISTS (
    SELECT 1 FROM triage.daily_requests l
    WHERE l.supplier_id = a.supplier_id
      AND l.practice_code = d.practice_code
      AND l.activity_date = a.latest_activity_date
)
GROUP BY a.supplier_id, d.practice_code, a.latest_activity_date;
