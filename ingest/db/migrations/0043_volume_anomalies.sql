-- Volume anomalies, flagged (never rejected). A day's total is compared with
-- the same weekday of the previous p_weeks weeks (robust statistics: median and MAD, median
-- absolute deviation). The noise is the robust standard deviation 1.4826 x MAD, but never less
-- than the square root of the median (counts are at least as noisy as a Poisson count: six
-- weeks can have a MAD near 0 by chance). A day is flagged when at least p_min_weeks of those
-- weekdays have data (no alarm in a supplier's first weeks) and it differs from the median by
-- more than p_z noises, p_min_change of the median and p_min_abs requests
-- (docs/operations.md, "Volume anomalies": the method and its measured false-alarm rate).
--
-- The assessment functions read triage.daily_requests as their owner (SECURITY DEFINER), so
-- triage_reader can use them and the views without reading the table.
--
-- Upgrade: new functions and views only.

CREATE OR REPLACE FUNCTION triage.volume_verdict(
    p_total numeric, p_history numeric[], p_min_weeks integer, p_z numeric,
    p_min_change numeric, p_min_abs numeric)
RETURNS TABLE (weeks integer, baseline_median numeric, baseline_mad numeric, change numeric,
               robust_z numeric, flagged boolean)
LANGUAGE sql IMMUTABLE
AS $$
WITH h AS (SELECT unnest(p_history) AS v),
     s AS (SELECT count(*)::integer AS n,
                  (percentile_cont(0.5) WITHIN GROUP (ORDER BY v))::numeric AS med FROM h),
     m AS (SELECT (percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(h.v - s.med)))::numeric AS mad
           FROM h, s),
     n AS (SELECT greatest(1.4826 * m.mad, sqrt(greatest(s.med, 0))) AS noise FROM s, m)
SELECT s.n,
       s.med,
       m.mad,
       CASE WHEN s.med > 0 THEN round((p_total - s.med) / s.med, 4) END,
       CASE WHEN n.noise > 0 THEN round((p_total - s.med) / n.noise, 2) END,
       coalesce(s.n >= p_min_weeks
                AND abs(p_total - s.med) > greatest(p_z * n.noise, p_min_change * s.med,
                                                    p_min_abs), false)
FROM s, m, n
$$;

-- A supplier's daily total on p_day against the same weekday of the p_weeks weeks before.
CREATE OR REPLACE FUNCTION triage.supplier_volume_assessment(
    p_supplier text, p_day date, p_weeks integer DEFAULT 6, p_min_weeks integer DEFAULT 4,
    p_z numeric DEFAULT 3.5, p_min_change numeric DEFAULT 0.05)
RETURNS TABLE (supplier_id text, activity_date date, total_requests bigint, weeks integer,
               baseline_median numeric, baseline_mad numeric, change numeric,
               robust_z numeric, flagged boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH totals AS (
    SELECT w, (SELECT sum(d.total_requests) FROM triage.daily_requests d
               WHERE d.supplier_id = p_supplier AND d.activity_date = p_day - 7 * w) AS total
    FROM generate_series(0, p_weeks) AS w
)
SELECT p_supplier, p_day, coalesce((SELECT total FROM totals WHERE w = 0), 0)::bigint, v.*
FROM triage.volume_verdict(
    coalesce((SELECT total FROM totals WHERE w = 0), 0),
    ARRAY(SELECT total FROM totals WHERE w > 0 AND total IS NOT NULL),
    p_min_weeks, p_z, p_min_change, 0) AS v
$$;

-- Each practice of a supplier that reported on p_day, against its own same weekdays before.
CREATE OR REPLACE FUNCTION triage.practice_volume_assessment(
    p_supplier text, p_day date, p_weeks integer DEFAULT 6, p_min_weeks integer DEFAULT 4,
    p_z numeric DEFAULT 3.5, p_min_change numeric DEFAULT 0.5, p_min_abs numeric DEFAULT 10)
RETURNS TABLE (supplier_id text, practice_code text, activity_date date,
               total_requests integer, weeks integer, baseline_median numeric,
               baseline_mad numeric, change numeric, robust_z numeric, flagged boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p_supplier, d.practice_code, p_day, d.total_requests, v.*
FROM triage.daily_requests d
CROSS JOIN LATERAL triage.volume_verdict(
    d.total_requests,
    ARRAY(SELECT h.total_requests FROM triage.daily_requests h
          WHERE h.supplier_id = p_supplier AND h.practice_code = d.practice_code
            AND h.activity_date IN (SELECT p_day - 7 * w FROM generate_series(1, p_weeks) w)),
    p_min_weeks, p_z, p_min_change, p_min_abs) AS v
WHERE d.supplier_id = p_supplier AND d.activity_date = p_day
$$;

-- Every active supplier's latest reported day, assessed (flagged or not).
CREATE OR REPLACE VIEW triage.supplier_volume_anomalies AS
SELECT v.*,
       CASE WHEN v.flagged AND v.total_requests < v.baseline_median THEN 'drop'
            WHEN v.flagged THEN 'spike' END AS direction
FROM triage.supplier_activity a
JOIN triage.suppliers s ON s.supplier_id = a.supplier_id AND s.active
CROSS JOIN LATERAL triage.supplier_volume_assessment(a.supplier_id, a.latest_activity_date) v;

-- The flagged practices of every active supplier's latest reported day.
CREATE OR REPLACE VIEW triage.practice_volume_anomalies AS
SELECT v.*,
       CASE WHEN v.total_requests < v.baseline_median THEN 'drop' ELSE 'spike' END AS direction
FROM triage.supplier_activity a
JOIN triage.suppliers s ON s.supplier_id = a.supplier_id AND s.active
CROSS JOIN LATERAL triage.practice_volume_assessment(a.supplier_id, a.latest_activity_date) v
WHERE v.flagged;

GRANT SELECT ON triage.supplier_volume_anomalies, triage.practice_volume_anomalies
    TO triage_reader;
