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
    supplier_id text, reason text, detail text,
    event_id text, practice_code text, activity_date date, revision integer
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

-- name: add_revision_partitions
-- The monthly partitions of triage.daily_request_revisions from $1's month to $2's (made by
-- migration 0122's function; a month that has one already is left as it is).
SELECT triage.add_revision_partitions($1, $2)

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
-- Template: {columns}. The batch's outcomes that no revision or rejection row records
-- (duplicates, superseded). One outcome per source record: a record stored by another
-- consumer group sharing the database keeps the first one (its row, or its revision or
-- rejection row for a duplicate). Scalar subqueries, so each row probes the indexes: the
-- staging table has no statistics, and a join could scan the whole revisions table. The
-- record's activity_date (the same record, the same body) leads the revisions' probe to the
-- one monthly partition that can hold it.
INSERT INTO triage.outcome_outbox_rows ({columns})
SELECT {columns} FROM batch_outcomes b
WHERE b.outcome <> 'duplicate'
   OR ((SELECT 1 FROM triage.daily_request_revisions r
        WHERE r.activity_date = b.activity_date
          AND r.source_topic = b.source_topic AND r.source_partition = b.source_partition
          AND r.source_offset = b.source_offset LIMIT 1) IS NULL
       AND (SELECT 1 FROM triage.rejected_events j
            WHERE j.source_topic = b.source_topic AND j.source_partition = b.source_partition
              AND j.source_offset = b.source_offset LIMIT 1) IS NULL)
ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING

-- name: note_outcome_partitions
-- The outcome mark of each source partition ($1 topics, $2 partitions) that has none: its
-- lowest offset in the batch ($3).
INSERT INTO triage.outcome_progress (source_topic, source_partition, next_offset)
SELECT t, p, o FROM unnest($1::text[], $2::int[], $3::bigint[]) AS u(t, p, o)
ORDER BY t, p
ON CONFLICT DO NOTHING

-- name: outcomes_waiting
-- The suppliers with outbox rows waiting (a loose index scan of outcome_outbox_rows_waiting:
-- one probe per supplier, however many rows each has), leaving out those sitting out ($1).
WITH RECURSIVE waiting(supplier_id) AS (
    (SELECT supplier_id FROM triage.outcome_outbox_rows
     WHERE parked_at IS NULL ORDER BY supplier_id LIMIT 1)
    UNION ALL
    SELECT (SELECT o.supplier_id FROM triage.outcome_outbox_rows o
            WHERE o.parked_at IS NULL AND o.supplier_id > w.supplier_id
            ORDER BY o.supplier_id LIMIT 1)
    FROM waiting w WHERE w.supplier_id IS NOT NULL
)
SELECT supplier_id FROM waiting
WHERE supplier_id IS NOT NULL AND NOT (supplier_id = ANY($1::text[]))

-- name: take_outcomes
-- Template: {key_max_bytes}, {detail_max_chars}. Each supplier's oldest carried outbox rows
-- (those no partition's reading covers: below its mark, or of no partition with a mark), up
-- to its share ($2, in the order of $1); only bounded columns (rows written before the key
-- bound existed lose a longer key here too).
SELECT o.* FROM unnest($1::text[], $2::integer[]) AS s(supplier_id, share)
CROSS JOIN LATERAL (
    SELECT outbox_id, supplier_id, source_topic, source_partition, source_offset,
           CASE WHEN octet_length(key) <= {key_max_bytes} THEN key END AS key,
           left(event_id, 100) AS event_id, left(practice_code, 100) AS practice_code,
           activity_date, revision, outcome, reason, left(detail, {detail_max_chars}) AS detail,
           processed_at
    FROM triage.outcome_outbox_rows r
    WHERE supplier_id = s.supplier_id AND parked_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM triage.outcome_progress p
                      WHERE p.source_topic = r.source_topic
                        AND p.source_partition = r.source_partition
                        AND r.source_offset >= p.next_offset)
    ORDER BY outbox_id
    LIMIT s.share
    FOR UPDATE SKIP LOCKED
) o

-- name: outcome_partitions_behind
-- The source partitions with outcomes waiting: their mark below their fence (the greatest
-- offset a consumer group stored) and an outcome's row between the two (records of no
-- registered supplier have none: their rejections have no feedback topic); topics $1 left out.
-- Each probe is a scalar subquery with LIMIT 1: one index descent per partition, never a
-- join the planner could make a scan of every row.
SELECT p.source_topic, p.source_partition
FROM triage.outcome_progress p
JOIN (SELECT topic, partition, max(next_offset) AS fence FROM triage.consumer_offsets
      GROUP BY topic, partition) f
  ON f.topic = p.source_topic AND f.partition = p.source_partition
WHERE f.fence > p.next_offset AND NOT (p.source_topic = ANY($1::text[]))
  AND ((SELECT 1 FROM triage.daily_request_revisions r
        WHERE r.source_topic = p.source_topic AND r.source_partition = p.source_partition
          AND r.source_offset >= p.next_offset AND r.source_offset < f.fence
        LIMIT 1) IS NOT NULL
       OR (SELECT 1 FROM triage.rejected_events j
           WHERE j.source_topic = p.source_topic AND j.source_partition = p.source_partition
             AND j.source_offset >= p.next_offset AND j.source_offset < f.fence
             AND j.supplier_id IS NOT NULL
           LIMIT 1) IS NOT NULL
       OR (SELECT 1 FROM triage.outcome_outbox_rows o
           WHERE o.source_topic = p.source_topic AND o.source_partition = p.source_partition
             AND o.source_offset >= p.next_offset AND o.source_offset < f.fence
           LIMIT 1) IS NOT NULL)

-- name: pass_outcome_partitions
-- The source partitions behind their fence with no outcome to send up to it (records of no
-- registered supplier) get their mark moved to the fence, so they are not probed again.
-- Partitions another relay holds are left alone. Probes as in outcome_partitions_behind.
WITH idle AS (
    SELECT p.source_topic, p.source_partition, f.fence
    FROM triage.outcome_progress p
    JOIN (SELECT topic, partition, max(next_offset) AS fence FROM triage.consumer_offsets
          GROUP BY topic, partition) f
      ON f.topic = p.source_topic AND f.partition = p.source_partition
    WHERE f.fence > p.next_offset
      AND (SELECT 1 FROM triage.daily_request_revisions r
           WHERE r.source_topic = p.source_topic AND r.source_partition = p.source_partition
             AND r.source_offset >= p.next_offset AND r.source_offset < f.fence
           LIMIT 1) IS NULL
      AND (SELECT 1 FROM triage.rejected_events j
           WHERE j.source_topic = p.source_topic AND j.source_partition = p.source_partition
             AND j.source_offset >= p.next_offset AND j.source_offset < f.fence
             AND j.supplier_id IS NOT NULL
           LIMIT 1) IS NULL
      AND (SELECT 1 FROM triage.outcome_outbox_rows o
           WHERE o.source_topic = p.source_topic AND o.source_partition = p.source_partition
             AND o.source_offset >= p.next_offset AND o.source_offset < f.fence
           LIMIT 1) IS NULL
    FOR UPDATE OF p SKIP LOCKED
)
UPDATE triage.outcome_progress p SET next_offset = GREATEST(p.next_offset, idle.fence),
    updated_at = now()
FROM idle
WHERE p.source_topic = idle.source_topic AND p.source_partition = idle.source_partition

-- name: take_outcome_partitions
-- The same for the topics $1 only, in order, locked for the round (another relay's are
-- skipped), with their mark and fence.
SELECT p.source_topic, p.source_partition, p.next_offset, f.fence
FROM triage.outcome_progress p
JOIN (SELECT topic, partition, max(next_offset) AS fence FROM triage.consumer_offsets
      GROUP BY topic, partition) f
  ON f.topic = p.source_topic AND f.partition = p.source_partition
WHERE f.fence > p.next_offset AND p.source_topic = ANY($1::text[])
ORDER BY p.source_topic, p.source_partition
FOR UPDATE OF p SKIP LOCKED

-- name: outcomes_from_mark
-- Template: {key_max_bytes}, {detail_max_chars}. The outcomes of source partition ($1, $2)
-- from its mark ($3) up to its fence ($4, left out), in offset order, at most $5: an outbox
-- row where there is one (a duplicate; a superseded record, whose revision row is passed
-- over), else the revision row (accepted) or the rejection row of a registered supplier
-- (rejected). Only bounded columns.
SELECT DISTINCT ON (source_offset) * FROM (
    (SELECT 0 AS kind, o.outbox_id, o.source_offset,
            CASE WHEN octet_length(o.key) <= {key_max_bytes} THEN o.key END AS key,
            left(o.event_id, 100) AS event_id, left(o.practice_code, 100) AS practice_code,
            o.activity_date, o.revision, o.outcome, o.reason,
            left(o.detail, {detail_max_chars}) AS detail, o.processed_at, o.parked_at
     FROM triage.outcome_outbox_rows o
     WHERE o.source_topic = $1 AND o.source_partition = $2
       AND o.source_offset >= $3 AND o.source_offset < $4
     ORDER BY o.source_offset LIMIT $5)
    UNION ALL
    (SELECT 1, NULL::bigint, r.source_offset,
            CASE WHEN octet_length(r.source_key) <= {key_max_bytes} THEN r.source_key END,
            r.event_id::text, left(r.practice_code, 100), r.activity_date, r.revision,
            'accepted', NULL::text, NULL::text, r.ingested_at, NULL::timestamptz
     FROM triage.daily_request_revisions r
     WHERE r.source_topic = $1 AND r.source_partition = $2
       AND r.source_offset >= $3 AND r.source_offset < $4
     ORDER BY r.source_offset LIMIT $5)
    UNION ALL
    (SELECT 2, NULL::bigint, j.source_offset,
            CASE WHEN octet_length(j.key) <= {key_max_bytes} THEN j.key END,
            left(j.event_id, 100), left(j.practice_code, 100), j.activity_date, j.revision,
            'rejected', j.reason, left(j.detail, {detail_max_chars}), j.received_at,
            NULL::timestamptz
     FROM triage.rejected_events j
     WHERE j.source_topic = $1 AND j.source_partition = $2
       AND j.source_offset >= $3 AND j.source_offset < $4 AND j.supplier_id IS NOT NULL
     ORDER BY j.source_offset LIMIT $5)
) u
ORDER BY source_offset, kind
LIMIT $5

-- name: move_outcome_marks
-- Each partition's mark ($1 topics, $2 partitions) to $3, never backwards.
UPDATE triage.outcome_progress p SET next_offset = GREATEST(p.next_offset, u.n), updated_at = now()
FROM unnest($1::text[], $2::int[], $3::bigint[]) AS u(t, part, n)
WHERE p.source_topic = u.t AND p.source_partition = u.part

-- name: park_outcomes
-- Park these outbox rows ($1) for a reason ($2): the relay sends them no more.
UPDATE triage.outcome_outbox_rows SET parked_at = now(), parked_reason = $2
WHERE outbox_id = ANY($1::bigint[])

-- name: park_read_outcomes
-- An outcome read from a revision or rejection row, refused as too large: an outbox row of it,
-- parked (the partition's mark then moves past it).
INSERT INTO triage.outcome_outbox_rows
    (supplier_id, source_topic, source_partition, source_offset, key, event_id, practice_code,
     activity_date, revision, outcome, reason, detail, processed_at, parked_at, parked_reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now(), 'too_large')
ON CONFLICT (source_topic, source_partition, source_offset)
DO UPDATE SET parked_at = now(), parked_reason = 'too_large'

-- name: park_stuck_outcomes
-- Park the carried outbox rows of these suppliers ($2) waiting longer than $1 seconds (outcomes
-- past a partition's mark are read from the rows that record them and wait at no cost).
UPDATE triage.outcome_outbox_rows r SET parked_at = now(), parked_reason = 'stuck'
WHERE parked_at IS NULL AND processed_at < now() - make_interval(secs => $1)
  AND supplier_id = ANY($2::text[])
  AND NOT EXISTS (SELECT 1 FROM triage.outcome_progress p
                  WHERE p.source_topic = r.source_topic
                    AND p.source_partition = r.source_partition
                    AND r.source_offset >= p.next_offset)
RETURNING supplier_id

-- name: delete_outcomes
-- The sent outbox rows ($1), in the relay round's transaction.
DELETE FROM triage.outcome_outbox_rows WHERE outbox_id = ANY($1::bigint[])
