-- Practice-days of the period, and those with more than one stored revision.
-- $1 supplier_id, $2 first day, $3 last day.
SELECT count(*)::integer AS practice_days,
       count(*) FILTER (WHERE n > 1)::integer AS restated
FROM (SELECT count(*) AS n FROM triage.daily_request_revisions
      WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3
      GROUP BY practice_code, activity_date) k
