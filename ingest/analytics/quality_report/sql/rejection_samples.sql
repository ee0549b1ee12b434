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
