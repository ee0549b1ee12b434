-- Rejections of the supplier (by supplier_id, or by its topic when undecodable) received since
-- the period's first midnight, by reason. $1 supplier_id, $2 topic, $3 since.
SELECT r.reason, count(*)::integer AS n, min(r.received_at) AS first_at,
       max(r.received_at) AS last_at
FROM triage.rejected_events r
WHERE (r.supplier_id = $1 OR r.source_topic = $2) AND r.received_at >= $3
GROUP BY r.reason
ORDER BY n DESC, r.reason
