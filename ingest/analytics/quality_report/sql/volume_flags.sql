-- Days of the period whose total is flagged against the same weekday of the previous weeks
-- (migration 0043). $1 supplier_id, $2 first day, $3 last day.
SELECT a.activity_date, a.total_requests, a.baseline_median, a.change
FROM generate_series($2::date, $3::date, interval '1 day') AS g(day)
CROSS JOIN LATERAL triage.supplier_volume_assessment($1, g.day::date) a
WHERE a.flagged
ORDER BY a.activity_date
