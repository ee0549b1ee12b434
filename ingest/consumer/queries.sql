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

-- name: outbox_tables
-- The session's staging table of a batch's outcomes, emptied at each commit.
CREATE TEMP TABLE IF NOT EXISTS batch_outcomes (
    supplier_id text, source_topic text, source_partition integer, source_offset bigint,
    key bytea, event_id text, practice_code text, activity_date date, revision integer,
    outcome text, reason text, detail text
) ON COMMIT DELETE ROWS;

-- name: insert_outcomes
-- Template: {columns}. One outcome per source record (a record stored by another consumer
-- group sharing the database keeps the first one).
INSERT INTO triage.outcome_outbox ({columns})
SELECT {columns} FROM batch_outcomes
ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING

-- name: outcomes_waiting
-- The suppliers with outcomes waiting (a loose index scan of outcome_outbox_waiting: one probe
-- per supplier, however many rows each has), leaving out those sitting out ($1).
WITH RECURSIVE waiting(supplier_id) AS (
    (SELECT supplier_id FROM triage.outcome_outbox
     WHERE parked_at IS NULL ORDER BY supplier_id LIMIT 1)
    UNION ALL
    SELECT (SELECT o.supplier_id FROM triage.outcome_outbox o
            WHERE o.parked_at IS NULL AND o.supplier_id > w.supplier_id
            ORDER BY o.supplier_id LIMIT 1)
    FROM waiting w WHERE w.supplier_id IS NOT NULL
)
SELECT supplier_id FROM waiting
WHERE supplier_id IS NOT NULL AND NOT (supplier_id = ANY($1::text[]))

-- name: take_outcomes
-- Template: {key_max_bytes}, {detail_max_chars}. Each supplier's oldest waiting rows, up to its
-- share ($2, in the order of $1); only bounded columns (rows written before the key bound
-- existed lose a longer key here too).
SELECT o.* FROM unnest($1::text[], $2::integer[]) AS s(supplier_id, share)
CROSS JOIN LATERAL (
    SELECT outbox_id, supplier_id, source_partition, source_offset,
           CASE WHEN octet_length(key) <= {key_max_bytes} THEN key END AS key,
           left(event_id, 100) AS event_id, left(practice_code, 100) AS practice_code,
           activity_date, revision, outcome, reason, left(detail, {detail_max_chars}) AS detail,
           processed_at
    FROM triage.outcome_outbox
    WHERE supplier_id = s.supplier_id AND parked_at IS NULL
    ORDER BY outbox_id
    LIMIT s.share
    FOR UPDATE SKIP LOCKED
) o

-- name: park_outcomes
-- Park these outbox rows ($1) for a reason ($2): the relay sends them no more.
UPDATE triage.outcome_outbox SET parked_at = now(), parked_reason = $2
WHERE outbox_id = ANY($1::bigint[])

-- name: park_stuck_outcomes
-- Park the rows of these suppliers ($2) waiting longer than $1 seconds.
UPDATE triage.outcome_outbox SET parked_at = now(), parked_reason = 'stuck'
WHERE parked_at IS NULL AND processed_at < now() - make_interval(secs => $1)
  AND supplier_id = ANY($2::text[])
RETURNING supplier_id

-- name: delete_outcomes
-- The sent rows ($1), in the relay round's transaction.
DELETE FROM triage.outcome_outbox WHERE outbox_id = ANY($1::bigint[])
