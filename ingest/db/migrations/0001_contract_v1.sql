-- CONTRACT section 4: the public tables and view of schema `triage`.
CREATE SCHEMA IF NOT EXISTS triage;

CREATE TABLE triage.suppliers (
    supplier_id  text PRIMARY KEY CHECK (supplier_id ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
    name         text        NOT NULL,
    warn_after   interval    NOT NULL DEFAULT interval '26 hours',
    error_after  interval    NOT NULL DEFAULT interval '50 hours',
    active       boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (error_after >= warn_after)
);

CREATE TABLE triage.daily_requests (
    supplier_id        text        NOT NULL,
    practice_code      text        NOT NULL,
    activity_date      date        NOT NULL,
    revision           integer     NOT NULL,
    total_requests     integer     NOT NULL,
    clinical_requests  integer,
    admin_requests     integer,
    other_requests     integer,
    event_id           uuid        NOT NULL,
    generated_at       timestamptz NOT NULL,
    ingested_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (supplier_id, practice_code, activity_date)
);

CREATE TABLE triage.daily_request_revisions (
    supplier_id        text        NOT NULL,
    practice_code      text        NOT NULL,
    activity_date      date        NOT NULL,
    revision           integer     NOT NULL,
    total_requests     integer     NOT NULL,
    clinical_requests  integer,
    admin_requests     integer,
    other_requests     integer,
    event_id           uuid        NOT NULL,
    generated_at       timestamptz NOT NULL,
    ingested_at        timestamptz NOT NULL DEFAULT now(),
    source_topic       text        NOT NULL,
    source_partition   integer     NOT NULL,
    source_offset      bigint      NOT NULL,
    UNIQUE (supplier_id, practice_code, activity_date, revision)
);
CREATE INDEX daily_request_revisions_ingested_idx
    ON triage.daily_request_revisions (supplier_id, ingested_at);

CREATE TABLE triage.rejected_events (
    rejected_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at       timestamptz NOT NULL DEFAULT now(),
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    key               bytea,
    value             bytea,
    supplier_id       text,
    reason            text        NOT NULL CHECK (reason IN (
        'undecodable', 'unknown_schema', 'unknown_supplier', 'supplier_mismatch',
        'invalid_practice_code', 'activity_date_out_of_range', 'negative_count',
        'inconsistent_breakdown', 'implausible_count', 'invalid_revision',
        'conflicting_revision')),
    detail            text        NOT NULL,
    UNIQUE (source_topic, source_partition, source_offset)
);
CREATE INDEX rejected_events_supplier_idx ON triage.rejected_events (supplier_id, received_at);
CREATE INDEX rejected_events_reason_idx ON triage.rejected_events (reason, received_at);

-- Exactly-once effect: the next offset to read per partition, written in the same
-- transaction as the rows of the batch that reached it.
CREATE TABLE triage.consumer_offsets (
    group_id     text    NOT NULL,
    topic        text    NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint  NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- Per supplier: when its latest valid event was ingested and its latest reported day.
-- Maintained by the consumer in the batch transaction so the view stays cheap.
CREATE TABLE triage.supplier_activity (
    supplier_id           text PRIMARY KEY REFERENCES triage.suppliers (supplier_id),
    last_event_at         timestamptz NOT NULL,
    latest_activity_date  date        NOT NULL
);

CREATE VIEW triage.supplier_freshness AS
SELECT s.supplier_id,
       a.last_event_at,
       a.latest_activity_date,
       CASE
           WHEN a.last_event_at IS NULL THEN 'never_reported'
           WHEN now() - a.last_event_at <= s.warn_after THEN 'ok'
           WHEN now() - a.last_event_at <= s.error_after THEN 'late'
           ELSE 'silent'
       END AS status,
       s.name,
       s.warn_after,
       s.error_after
FROM triage.suppliers s
LEFT JOIN triage.supplier_activity a USING (supplier_id)
WHERE s.active;
