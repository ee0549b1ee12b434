-- Practices and total requests (current figures) per activity date of the period, every day
-- present. $1 supplier_id, $2 first day, $3 last day.
SELECT g::date AS day, coalesce(v.practices, 0) AS practices, coalesce(v.total, 0) AS total
FROM generate_series($2::date, $3::date, interval '1 day') g
LEFT JOIN (SELECT activity_date, count(*)::integer AS practices,
                  sum(total_requests)::bigint AS total
           FROM triage.daily_requests
           WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3
           GROUP BY activity_date) v ON v.activity_date = g::date
ORDER BY 1
