-- The consumer's queries: what a batch writes (current rows, revisions, rejections, outcomes,
-- key mismatches, activity) and its Kafka positions (triage.consumer_offsets). Statements whose
-- column lists follow the contract's fields are templates: their {fields} are filled once, at
-- import, from the contract's column names, never from input. Loaded by ingest.db.queries.

-- name: ping
SELECT 1

-- name: now
SELECT now()

-- name: batch_tables
-- The session's staging tables, emptied at each commit.
CREATE TEMP TABLE IF NOT EXISTS batch_keys (
    supplier_id text, practice_code text, activity_date date
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS batch_current
    (LIKE triage.daily_requests INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS batch_rejected (
    source_topic text, source_partition integer, source_offset bigint, key bytea, value bytea,
    supplier_id text, reason text, detail text
) ON COMMIT DELETE ROWS;

-- name: insert_rejected
-- Template: {columns}. A record already rejected at that position (e.g. by another consumer
-- group sharing the database) stays as first recorded: rejections are idempotent per Kafka
-- position.
INSERT INTO triage.rejected_events ({columns})
SELECT {columns} FROM batch_rejected
ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING

-- name: upsert_current
-- Template: {columns}, {updates} (each figure column = EXCLUDED's). A higher revision wins.
INSERT INTO triage.daily_requests AS d ({columns})
SELECT {columns} FROM batch_current
ON CONFLICT (supplier_id, practice_code, activity_date) DO UPDATE SET
    {updates},
    ingested_at = EXCLUDED.ingested_at
WHERE d.revision < EXCLUDED.revision

-- name: stored_revisions
-- Template: {figures} (r.-prefixed). The stored revisions of the batch's keys.
SELECT r.supplier_id, r.practice_code, r.activity_date, r.revision,
       {figures}
FROM (SELECT DISTINCT supplier_id, practice_code, activity_date FROM batch_keys
      ORDER BY supplier_id, practice_code, activity_date) k
JOIN triage.daily_request_revisions r USING (supplier_id, practice_code, activity_date)

-- name: record_activity
-- The latest activity date ($2) per registered supplier ($1) seen at $3.
INSERT INTO triage.supplier_activity AS a (supplier_id, last_event_at, latest_activity_date)
SELECT supplier_id, $3, latest FROM unnest($1::text[], $2::date[]) AS t(supplier_id, latest)
WHERE supplier_id IN (SELECT supplier_id FROM triage.suppliers)
ON CONFLICT (supplier_id) DO UPDATE SET
    last_event_at = GREATEST(a.last_event_at, EXCLUDED.last_event_at),
    latest_activity_date = GREATEST(a.latest_activity_date, EXCLUDED.latest_activity_date)

-- name: active_suppliers
SELECT supplier_id FROM triage.suppliers WHERE active

-- name: stored_offsets
-- The next offsets of group $1 for the partitions ($2 topics, $3 partitions) it knows.
SELECT topic, partition, next_offset FROM triage.consumer_offsets
WHERE group_id = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))

-- name: add_offsets
-- Rows (at -1) for the partitions of group $1 the database does not know yet.
INSERT INTO triage.consumer_offsets (group_id, topic, partition, next_offset)
SELECT $1, t, p, -1 FROM unnest($2::text[], $3::int[]) AS u(t, p)
ON CONFLICT DO NOTHING

-- name: lock_offsets
-- The same rows as stored_offsets, locked in key order (concurrent batches lock alike).
SELECT topic, partition, next_offset FROM triage.consumer_offsets
WHERE group_id = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))
ORDER BY topic, partition FOR UPDATE

-- name: advance_offsets
-- Never backwards: each partition's next offset becomes the greater of the stored and $4.
UPDATE triage.consumer_offsets o SET next_offset = GREATEST(o.next_offset, u.n),
    updated_at = now()
FROM unnest($2::text[], $3::int[], $4::bigint[]) AS u(t, p, n)
WHERE o.group_id = $1 AND o.topic = u.t AND o.partition = u.p

-- name: count_key_mismatches
-- Rows in key order, so concurrent batches lock them in the same order.
INSERT INTO triage.record_key_mismatches AS m
    (supplier_id, activity_date, mismatches, first_seen_at, last_seen_at)
SELECT s, d, n, coalesce($4, now()), coalesce($4, now())
FROM unnest($1::text[], $2::date[], $3::bigint[]) AS u(s, d, n)
ORDER BY s, d
ON CONFLICT (supplier_id, activity_date) DO UPDATE SET
    mismatches = m.mismatches + EXCLUDED.mismatches,
    last_seen_at = GREATEST(m.last_seen_at, EXCLUDED.last_seen_at)

-- name: current_participation_load
SELECT load_id FROM triage.reference_loads
WHERE kind = 'participation' AND superseded_at IS NULL

-- name: participation_periods
SELECT practice_code, participating_from, participating_to
FROM triage.ref_participation WHERE load_id = $1
