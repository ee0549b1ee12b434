-- Practices of the supplier roster without a row on a day they were expected (the supplier has
-- rows in the current roster). $1 supplier_id, $2 first day, $3 last day (yesterday at the
-- latest), $4 days before the period searched for weekend reports. A practice is expected on a
-- day of the period that is
--   - within its installation (installed_on to removed_on) -- never reported ones included,
--   - up to the supplier's latest reported day,
--   - on or before the practice's close date (from epraccur), and
--   - a weekday, or a Saturday/Sunday when the supplier has reported that practice on some
--     weekend day of the window.
WITH last AS (
    SELECT max(activity_date) AS day FROM triage.daily_requests
    WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3),
weekend AS (
    SELECT DISTINCT practice_code FROM triage.daily_requests
    WHERE supplier_id = $1 AND activity_date BETWEEN $2::date - $4::int AND $3
      AND extract(isodow FROM activity_date) IN (6, 7)),
grid AS (
    SELECT r.practice_code, g::date AS day
    FROM triage.current_roster r
    CROSS JOIN last
    CROSS JOIN generate_series(greatest($2::date, r.installed_on),
                               least(last.day, coalesce(r.removed_on, last.day)),
                               interval '1 day') g
    WHERE r.supplier_id = $1
      AND (extract(isodow FROM g) NOT IN (6, 7)
           OR r.practice_code IN (SELECT practice_code FROM weekend)))
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
