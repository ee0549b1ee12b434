-- Practices reported in the period or the $4 days before it, without a row on a day of the
-- period up to the supplier's latest reported day (days after a close date not counted).
-- $1 supplier_id, $2 first day, $3 last day.
WITH last AS (
    SELECT max(activity_date) AS day FROM triage.daily_requests
    WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3),
expected AS (
    SELECT DISTINCT practice_code FROM triage.daily_requests
    WHERE supplier_id = $1 AND activity_date BETWEEN $2::date - $4::int AND $3),
grid AS (
    SELECT e.practice_code, g::date AS day
    FROM expected e
    CROSS JOIN last
    CROSS JOIN generate_series($2::date, last.day, interval '1 day') g)
SELECT g.practice_code, cp.name, cp.close_date,
       count(*)::integer AS days_missing,
       min(g.day) AS first_missing, max(g.day) AS last_missing,
       (SELECT max(r2.activity_date) FROM triage.daily_requests r2
        WHERE r2.supplier_id = $1 AND r2.practice_code = g.practice_code) AS last_reported
FROM grid g
LEFT JOIN triage.current_practices cp ON cp.practice_code = g.practice_code
WHERE (cp.close_date IS NULL OR g.day <= cp.close_date)
  AND NOT EXISTS (SELECT 1 FROM triage.daily_requests r
                  WHERE r.supplier_id = $1 AND r.practice_code = g.practice_code
                    AND r.activity_date = g.day)
GROUP BY g.practice_code, cp.name, cp.close_date
ORDER BY days_missing DESC, g.practice_code
