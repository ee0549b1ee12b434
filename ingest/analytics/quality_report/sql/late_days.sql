-- Activity dates with practice-days whose first revision arrived more than warn_after ($5)
-- after the end of the day ($4 time zone). $1 supplier_id, $2 first day, $3 last day.
WITH first AS (
    SELECT activity_date, min(ingested_at) AS first_at,
           ((activity_date + 1)::timestamp AT TIME ZONE $4) + $5::interval AS deadline
    FROM triage.daily_request_revisions
    WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3
    GROUP BY practice_code, activity_date)
SELECT activity_date, count(*)::integer AS practices,
       count(*) FILTER (WHERE first_at > deadline)::integer AS late,
       max(first_at - deadline) AS worst
FROM first
GROUP BY activity_date
HAVING count(*) FILTER (WHERE first_at > deadline) > 0
ORDER BY activity_date
