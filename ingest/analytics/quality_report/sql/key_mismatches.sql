-- Valid records of the period whose Kafka key disagreed with their body (keys are advisory:
-- stored by the body), and on how many activity dates. $1 supplier_id, $2 first day, $3 last day.
SELECT coalesce(sum(mismatches), 0)::bigint AS records, count(*)::integer AS days
FROM triage.record_key_mismatches
WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3
