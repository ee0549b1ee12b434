-- Contract v1.1 section 6: submission outcomes to suppliers, through a
-- transactional outbox. The batch transaction that stores a record's outcome (a revision, a
-- rejection, or nothing for a duplicate) also inserts one row here, so an outcome exists only
-- once the database holds it and none is lost to a crash. The relay (ingest/consumer/
-- outcome_relay.py) produces each row to triage.feedback.<supplier_id> and deletes it once
-- the broker acknowledged it; a crash between the two re-sends the same row (same
-- source_partition and source_offset).
--
-- Upgrade: a new table only; nothing existing changes.
CREATE TABLE IF NOT EXISTS triage.outcome_outbox (
    outbox_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    supplier_id       text        NOT NULL,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    key               bytea,
    event_id          text,
    practice_code     text,
    activity_date     date,
    revision          integer,
    outcome           text        NOT NULL
        CHECK (outcome IN ('accepted', 'superseded', 'duplicate', 'rejected')),
    reason            text,
    detail            text,
    processed_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_topic, source_partition, source_offset)
);
