-- The quality report's queries, run by ingest.analytics.quality_report.collect in one
-- read-only repeatable-read transaction. Loaded by ingest.db.queries.

-- name: key_mismatches
-- Valid records of the period whose Kafka key disagreed with their body (keys are advisory:
-- stored by the body), and on how many activity dates. $1 supplier_id, $2 first day, $3 last day.
SELECT coalesce(sum(mismatches), 0)::bigint AS records, count(*)::integer AS days
FROM triage.record_key_mismatches
WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3

-- name: late_days
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

-- name: missing_practices
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

-- name: missing_practices_roster
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

-- name: rejection_samples
-- The latest $5 rejections per reason, the value cut to its first $4 bytes.
-- $1 supplier_id, $2 topic, $3 since.
SELECT * FROM (
    SELECT r.reason, r.received_at, r.source_topic, r.source_partition, r.source_offset, r.key,
           substring(r.value FROM 1 FOR $4) AS value_head, octet_length(r.value) AS value_length,
           r.detail,
           row_number() OVER (PARTITION BY r.reason
                              ORDER BY r.received_at DESC, r.rejected_id DESC) AS rn
    FROM triage.rejected_events r
    WHERE (r.supplier_id = $1 OR r.source_topic = $2) AND r.received_at >= $3) s
WHERE s.rn <= $5
ORDER BY s.reason, s.rn

-- name: rejections_by_day
-- Rejections per day received ($4 time zone). $1 supplier_id, $2 topic, $3 since.
SELECT (r.received_at AT TIME ZONE $4)::date AS day, count(*)::integer AS n
FROM triage.rejected_events r
WHERE (r.supplier_id = $1 OR r.source_topic = $2) AND r.received_at >= $3
GROUP BY 1
ORDER BY 1

-- name: rejections_by_reason
-- Rejections of the supplier (by supplier_id, or by its topic when undecodable) received since
-- the period's first midnight, by reason. $1 supplier_id, $2 topic, $3 since.
SELECT r.reason, count(*)::integer AS n, min(r.received_at) AS first_at,
       max(r.received_at) AS last_at
FROM triage.rejected_events r
WHERE (r.supplier_id = $1 OR r.source_topic = $2) AND r.received_at >= $3
GROUP BY r.reason
ORDER BY n DESC, r.reason

-- name: restatements
-- Practice-days of the period, and those with more than one stored revision.
-- $1 supplier_id, $2 first day, $3 last day.
SELECT count(*)::integer AS practice_days,
       count(*) FILTER (WHERE n > 1)::integer AS restated
FROM (SELECT count(*) AS n FROM triage.daily_request_revisions
      WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3
      GROUP BY practice_code, activity_date) k

-- name: revisions_received
-- Revisions stored since the period's first midnight. $1 supplier_id, $2 since.
SELECT count(*)::integer FROM triage.daily_request_revisions
WHERE supplier_id = $1 AND ingested_at >= $2

-- name: roster_coverage
-- The supplier's roster coverage on its latest reported day (migration 0042), if it has a roster.
SELECT latest_activity_date, installed, participating, reporting
FROM triage.supplier_roster_coverage WHERE supplier_id = $1

-- name: supplier
-- The supplier the report is about ($1 supplier_id).
SELECT supplier_id, name, warn_after FROM triage.suppliers WHERE supplier_id = $1

-- name: unknown_practices
-- Practice codes the supplier sent that are not GP practices of the ODS reference (walk-in
-- centres, hospitals, prisons... or absent). $1 supplier_id.
SELECT practice_code, first_activity_date, last_activity_date, days_reported
FROM triage.unknown_practices
WHERE supplier_id = $1
ORDER BY practice_code

-- name: volume_flags
-- Days of the period whose total is flagged against the same weekday of the previous weeks
-- (migration 0043). $1 supplier_id, $2 first day, $3 last day.
SELECT a.activity_date, a.total_requests, a.baseline_median, a.change
FROM generate_series($2::date, $3::date, interval '1 day') AS g(day)
CROSS JOIN LATERAL triage.supplier_volume_assessment($1, g.day::date) a
WHERE a.flagged
ORDER BY a.activity_date

-- name: volumes
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

-- name: rostered
-- Whether the supplier ($1) has rows in the current roster.
SELECT EXISTS (SELECT 1 FROM triage.current_roster WHERE supplier_id = $1)
