-- Practices reported in the period or the $4 days before it, without a row on a day they were
-- expected. $1 supplier_id, $2 first day, $3 last day (yesterday at the latest: today is not
-- due). A practice is expected on a day of the period that is
--   - on or after the supplier's first report for that practice (days before are not missing),
--   - up to the supplier's latest reported day,
--   - on or before the practice's close date (from epraccur), and
--   - a weekday, or a Saturday/Sunday when the supplier has reported that practice on some
--     weekend day of the window (practices closed at weekends are not missing then).
WITH last AS (
    SELECT max(activity_date) AS day FROM triage.daily_requests
    WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3),
expected AS (
    SELECT practice_code,
           bool_or(extract(isodow FROM activity_date) IN (6, 7)) AS reports_weekends
    FROM triage.daily_requests
    WHERE supplier_id = $1 AND activity_date BETWEEN $2::date - $4::int AND $3
    GROUP BY practice_code),
first_report AS (
    SELECT practice_code, min(activity_date) AS day FROM triage.daily_requests
    WHERE supplier_id = $1 AND practice_code IN (SELECT practice_code FROM expected)
    GROUP BY practice_code),
grid AS (
    SELECT e.practice_code, g::date AS day
    FROM expected e
    JOIN first_report f ON f.practice_code = e.practice_code
    CROSS JOIN last
    CROSS JOIN generate_series(greatest($2::date, f.day), last.day, interval '1 day') g
    WHERE e.reports_weekends OR extract(isodow FROM g) NOT IN (6, 7))
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
