-- Rejections per day received ($4 time zone). $1 supplier_id, $2 topic, $3 since.
SELECT (r.received_at AT TIME ZONE $4)::date AS day, count(*)::integer AS n
FROM triage.rejected_events r
WHERE (r.supplier_id = $1 OR r.source_topic = $2) AND r.received_at >= $3
GROUP BY 1
ORDER BY 1
