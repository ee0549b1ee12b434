-- The reference data's queries: the loads of each kind (triage.reference_loads, one current
-- per kind, or per kind and month for appointments) and what the loads hold. Loaded by
-- ingest.db.queries.

-- name: lock_kind_for_transaction
-- Serialise the loads of one kind ($2) until the transaction ends ($1: the lock class).
SELECT pg_advisory_xact_lock($1, hashtext($2))

-- name: lock_kind
-- The same lock held by the session, from a read of the current load to the next load.
SELECT pg_advisory_lock($1, hashtext($2))

-- name: unlock_kind
SELECT pg_advisory_unlock($1, hashtext($2))

-- name: current_load
SELECT load_id, content_sha256 FROM triage.reference_loads
WHERE kind = $1 AND superseded_at IS NULL

-- name: current_month_load
SELECT load_id, content_sha256 FROM triage.reference_loads
WHERE kind = $1 AND month = $2 AND superseded_at IS NULL

-- name: supersede_load
UPDATE triage.reference_loads SET superseded_at = clock_timestamp()
WHERE load_id = $1

-- name: add_load
INSERT INTO triage.reference_loads (kind, source_name, content_sha256, row_count)
VALUES ($1, $2, $3, $4) RETURNING load_id

-- name: add_month_load
INSERT INTO triage.reference_loads (kind, month, source_name, content_sha256, row_count)
VALUES ($1, $2, $3, $4, $5) RETURNING load_id

-- name: link_superseded_load
-- The superseded load ($2) names the load that replaced it ($1).
UPDATE triage.reference_loads SET superseded_by = $1 WHERE load_id = $2

-- name: current_list_sizes
SELECT practice_code, extract_date, registered_patients FROM triage.current_list_sizes

-- name: current_pcns
SELECT practice_code, extract_date, pcn_code, pcn_name, region_code, region_name
FROM triage.current_pcns

-- name: load_history
-- Every load, newest first, of kind $1 (or of every kind, $1 NULL).
SELECT load_id, kind, source_name, content_sha256, row_count, loaded_at, loaded_by,
       superseded_at, is_current
FROM triage.reference_load_history
WHERE $1::text IS NULL OR kind = $1 ORDER BY load_id DESC
