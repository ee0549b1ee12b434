-- The operators' queries: the supplier registry (triage.suppliers), rejected events and their
-- replays (triage.rejected_events, triage.dlq_replays), and the read-only views behind the
-- status page, the metrics and the demo's report. Loaded by ingest.db.queries.

-- name: add_supplier
-- Register a supplier, or re-activate and update it.
INSERT INTO triage.suppliers (supplier_id, name, warn_after, error_after, active)
VALUES ($1, $2, $3, $4, true)
ON CONFLICT (supplier_id) DO UPDATE SET name = EXCLUDED.name,
  warn_after = EXCLUDED.warn_after, error_after = EXCLUDED.error_after,
  active = true, updated_at = now()
RETURNING supplier_id, name, warn_after, error_after, active

-- name: update_supplier
UPDATE triage.suppliers SET name = $2, warn_after = $3, error_after = $4,
  updated_at = now() WHERE supplier_id = $1
RETURNING supplier_id, name, warn_after, error_after, active

-- name: get_supplier
SELECT supplier_id, name, warn_after, error_after, active FROM triage.suppliers
WHERE supplier_id = $1

-- name: remove_supplier
-- Deactivate: the supplier's history stays.
UPDATE triage.suppliers SET active = false, updated_at = now() WHERE supplier_id = $1
RETURNING supplier_id, name, warn_after, error_after, active

-- name: list_suppliers
SELECT supplier_id, name, warn_after, error_after, active FROM triage.suppliers
WHERE active OR $1 ORDER BY supplier_id

-- name: registered_supplier_ids
SELECT supplier_id FROM triage.suppliers

-- name: unknown_practice_counts
SELECT supplier_id, count(*)::integer AS n FROM triage.unknown_practices
GROUP BY supplier_id

-- name: latest_rejections
-- The latest rejected events, of one supplier ($1, known by its id or by its topic, as an
-- unregistered supplier's rejections are) or of all ($1 NULL), at most $2.
SELECT rejected_id, received_at, source_topic, source_partition, source_offset,
       supplier_id, reason, detail
FROM triage.rejected_events
WHERE $1::text IS NULL OR supplier_id = $1 OR source_topic = 'triage.daily.' || $1
ORDER BY rejected_id DESC
LIMIT $2

-- name: rejections_to_replay
-- Rejections still holding their bytes, by reason ($1) and supplier ($2), optionally
-- including ones replayed before ($3), at most $4.
SELECT e.rejected_id, e.source_topic, e.key, e.value, e.reason
FROM triage.rejected_events e
WHERE ($1::text IS NULL OR e.reason = $1)
  AND ($2::text IS NULL OR e.supplier_id = $2 OR e.source_topic = 'triage.daily.' || $2)
  AND e.bytes_purged_at IS NULL
  AND ($3 OR NOT EXISTS (SELECT 1 FROM triage.dlq_replays p WHERE p.rejected_id = e.rejected_id))
ORDER BY e.rejected_id
LIMIT $4

-- name: record_replay
INSERT INTO triage.dlq_replays (rejected_id, target_topic, target_partition, target_offset)
VALUES ($1, $2, $3, $4)

-- name: replay_outcomes
SELECT * FROM triage.dlq_replay_outcomes ORDER BY replay_id DESC LIMIT $1

-- name: purge_rejection_bytes
-- The rejections of reason $1 (or, $2 false, of every other reason) received more than $3 ago
-- lose their key and value.
UPDATE triage.rejected_events
SET key = NULL, value = NULL, bytes_purged_at = clock_timestamp()
WHERE (reason = $1) = $2 AND bytes_purged_at IS NULL
  AND received_at < clock_timestamp() - $3::interval

-- name: freshness_at
SELECT supplier_id, name, last_event_at, latest_activity_date, status, warn_after, error_after
FROM triage.supplier_freshness_at($1)

-- name: missing_practices
-- Missing practices: expected from the supplier roster when one is loaded for the supplier,
-- else guessed from its last week (triage.supplier_missing_expected).
SELECT supplier_id, array_agg(practice_code ORDER BY practice_code) AS practices
FROM triage.supplier_missing_expected
GROUP BY supplier_id

-- name: missing_practice_counts
SELECT supplier_id, count(*)::integer AS n
FROM triage.supplier_missing_expected
GROUP BY supplier_id

-- name: supplier_volume
SELECT supplier_id, activity_date, total_requests, weeks, baseline_median, change, robust_z,
       flagged, direction
FROM triage.supplier_volume_anomalies

-- name: flagged_practice_counts
SELECT supplier_id, count(*)::integer AS n FROM triage.practice_volume_anomalies
GROUP BY supplier_id

-- name: roster_coverage
SELECT supplier_id, latest_activity_date, installed, participating, reporting
FROM triage.supplier_roster_coverage

-- name: stored_since
-- A function rather than the tables, so that triage_reader can run it.
SELECT supplier_id, n FROM triage.stored_since($1, $2::text[])

-- name: rejected_since
SELECT supplier_id, reason, n FROM triage.rejected_since($1)

-- name: coverage
-- Practices per supplier and day, kept by triggers rather than counted.
SELECT c.supplier_id, c.activity_date, c.practices AS n
FROM triage.supplier_day_practices c
WHERE c.supplier_id = ANY($1::text[]) AND c.activity_date BETWEEN $2 AND $3

-- name: outbox_pending
-- Outcomes waiting to be sent (the view: outbox rows and the outcomes past each partition's
-- mark; parked ones wait for an operator, not for the relay).
SELECT count(*) FROM triage.outcome_outbox WHERE parked_at IS NULL

-- name: outbox_parked
-- Parked outcomes per supplier (only outbox rows are ever parked).
SELECT supplier_id, count(*) AS n FROM triage.outcome_outbox_rows
WHERE parked_at IS NOT NULL GROUP BY supplier_id

-- name: consumer_positions
-- The next offset the consumer group $1 will read, per topic and partition.
SELECT topic, partition, next_offset FROM triage.consumer_offsets WHERE group_id = $1

-- name: freshness_status
SELECT status FROM triage.supplier_freshness WHERE supplier_id = $1

-- name: current_rows
SELECT supplier_id, count(*) FROM triage.daily_requests
WHERE supplier_id = ANY($1) GROUP BY 1

-- name: revision_rows
SELECT supplier_id, count(*) FROM triage.daily_request_revisions
WHERE supplier_id = ANY($1) GROUP BY 1

-- name: current_rows_with_breakdown
-- Current rows holding the v2 fields (patient_submitted_requests present).
SELECT supplier_id, count(*) FROM triage.daily_requests
WHERE supplier_id = ANY($1) AND patient_submitted_requests IS NOT NULL GROUP BY 1

-- name: rejections_by_reason_since
-- Rejections received since $1 of the suppliers $2 (or their topics $3), by reason.
SELECT reason, count(*) AS n, min(detail) AS example,
       string_agg(DISTINCT coalesce(supplier_id, 'unknown'), ', ') AS suppliers
FROM triage.rejected_events
WHERE received_at >= $1 AND (supplier_id = ANY($2) OR source_topic = ANY($3))
GROUP BY reason ORDER BY n DESC

-- name: freshness_of
SELECT supplier_id, status, last_event_at, latest_activity_date, warn_after, error_after
FROM triage.supplier_freshness WHERE supplier_id = ANY($1)
ORDER BY supplier_id
