-- Submission outcomes at bulk cost (contract v1.1 section 6 stays as it is).
--
-- Until now the batch transaction wrote one outbox row per record and the relay deleted it
-- once the broker acknowledged it: an insert (a heap row and three index entries), a delete
-- and its vacuum per event, a fifth of the backends' statement time (docs/benchmarks.md). But
-- most outcomes are already in the database: an accepted or superseded record is a revision
-- row, a rejected one a rejection row, each with its source position. So from this version:
--
-- * the revisions keep the source record's key (source_key, at most 1,024 bytes as an
--   outcome's key, else NULL: the outcome goes unkeyed, as before) and the rejections the
--   summary of a decoded body (event_id, practice_code, activity_date, revision): with them an
--   outcome is read back whole from the row that records it;
-- * triage.outcome_outbox_rows (the former outcome_outbox table, renamed with its rows) holds
--   only what no such row says: duplicates (no row at all) and superseded records (a
--   revision row like an accepted one), plus rows carried over from before this version and
--   parked ones;
-- * triage.outcome_progress holds, per source partition, the offset from which outcomes are
--   still to be sent: the relay reads what lies at and past it (revisions, rejections and
--   outbox rows, in offset order), sends it and moves the mark, one UPDATE per partition and
--   round instead of a DELETE per outcome;
-- * triage.outcome_outbox becomes a view of every outcome not yet sent: the outbox rows (parked
--   ones included, as before) and the outcomes past each partition's mark, so what operators
--   and the metrics read keeps its meaning.
--
-- Upgrade: nullable columns (no rewrite), a rename, a new table, a view, one index. Every
-- partition the consumers stored offsets for starts at the greatest stored offset: what lies
-- below it had its outcome row written already, and any not yet sent is still an outbox row,
-- sent as before.
ALTER TABLE triage.daily_request_revisions ADD COLUMN IF NOT EXISTS source_key bytea;
ALTER TABLE triage.daily_request_revisions
    ADD CONSTRAINT daily_request_revisions_source_key_bounded
    CHECK (octet_length(source_key) <= 1024) NOT VALID;

ALTER TABLE triage.rejected_events
    ADD COLUMN IF NOT EXISTS event_id      text,
    ADD COLUMN IF NOT EXISTS practice_code text,
    ADD COLUMN IF NOT EXISTS activity_date date,
    ADD COLUMN IF NOT EXISTS revision      integer;

-- The relay reads the revisions of a source partition in offset order from its mark.
CREATE INDEX IF NOT EXISTS daily_request_revisions_source_idx
    ON triage.daily_request_revisions (source_topic, source_partition, source_offset);

ALTER TABLE triage.outcome_outbox RENAME TO outcome_outbox_rows;
ALTER TABLE triage.outcome_outbox_rows
    RENAME CONSTRAINT outcome_outbox_pkey TO outcome_outbox_rows_pkey;
ALTER TABLE triage.outcome_outbox_rows
    RENAME CONSTRAINT outcome_outbox_source_topic_source_partition_source_offset_key
    TO outcome_outbox_rows_source_key;
ALTER TABLE triage.outcome_outbox_rows
    RENAME CONSTRAINT outcome_outbox_key_bounded TO outcome_outbox_rows_key_bounded;
ALTER TABLE triage.outcome_outbox_rows
    RENAME CONSTRAINT outcome_outbox_outcome_check TO outcome_outbox_rows_outcome_check;
ALTER TABLE triage.outcome_outbox_rows
    RENAME CONSTRAINT outcome_outbox_parked_reason_check TO outcome_outbox_rows_parked_reason_check;
ALTER INDEX triage.outcome_outbox_waiting RENAME TO outcome_outbox_rows_waiting;
ALTER SEQUENCE triage.outcome_outbox_outbox_id_seq RENAME TO outcome_outbox_rows_outbox_id_seq;

CREATE TABLE triage.outcome_progress (
    source_topic      text    NOT NULL,
    source_partition  integer NOT NULL,
    next_offset       bigint  NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_topic, source_partition)
);

INSERT INTO triage.outcome_progress (source_topic, source_partition, next_offset)
SELECT topic, partition, max(next_offset) FROM triage.consumer_offsets
WHERE next_offset >= 0
GROUP BY topic, partition;

-- Each progress row probes the revisions and rejections of its own partition from its mark
-- (LATERAL ... OFFSET 0 keeps the planner from turning this into a join over every row).
CREATE VIEW triage.outcome_outbox AS
SELECT o.outbox_id, o.supplier_id, o.source_topic, o.source_partition, o.source_offset,
       o.key, o.event_id, o.practice_code, o.activity_date, o.revision, o.outcome, o.reason,
       o.detail, o.processed_at, o.parked_at, o.parked_reason
FROM triage.outcome_outbox_rows o
UNION ALL
SELECT NULL::bigint, r.supplier_id, p.source_topic, p.source_partition, r.source_offset,
       r.source_key, r.event_id::text, r.practice_code, r.activity_date, r.revision,
       'accepted', NULL::text, NULL::text, r.ingested_at, NULL::timestamptz, NULL::text
FROM triage.outcome_progress p
CROSS JOIN LATERAL (
    SELECT r.supplier_id, r.source_offset, r.source_key, r.event_id, r.practice_code,
           r.activity_date, r.revision, r.ingested_at
    FROM triage.daily_request_revisions r
    WHERE r.source_topic = p.source_topic AND r.source_partition = p.source_partition
      AND r.source_offset >= p.next_offset
    OFFSET 0
) r
WHERE (SELECT 1 FROM triage.outcome_outbox_rows o
       WHERE o.source_topic = p.source_topic AND o.source_partition = p.source_partition
         AND o.source_offset = r.source_offset LIMIT 1) IS NULL
UNION ALL
SELECT NULL::bigint, j.supplier_id, p.source_topic, p.source_partition, j.source_offset,
       CASE WHEN octet_length(j.key) <= 1024 THEN j.key END, j.event_id, j.practice_code,
       j.activity_date, j.revision, 'rejected', j.reason, j.detail, j.received_at,
       NULL::timestamptz, NULL::text
FROM triage.outcome_progress p
CROSS JOIN LATERAL (
    SELECT j.supplier_id, j.source_offset, j.key, j.event_id, j.practice_code,
           j.activity_date, j.revision, j.reason, j.detail, j.received_at
    FROM triage.rejected_events j
    WHERE j.source_topic = p.source_topic AND j.source_partition = p.source_partition
      AND j.source_offset >= p.next_offset AND j.supplier_id IS NOT NULL
    OFFSET 0
) j;

COMMENT ON VIEW triage.outcome_outbox IS
    'Submission outcomes not yet acknowledged on the feedback topics: the outbox rows (parked'
    ' ones included) and the outcomes past each source partition''s mark in outcome_progress.';
