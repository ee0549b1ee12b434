-- Replays of rejected events (`ingest dlq replay`): what was re-submitted, where it landed,
-- and, once the consumer has processed it, what became of it.
CREATE TABLE triage.dlq_replays (
    replay_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rejected_id       bigint      NOT NULL REFERENCES triage.rejected_events (rejected_id),
    replayed_at       timestamptz NOT NULL DEFAULT now(),
    target_topic      text        NOT NULL,
    target_partition  integer     NOT NULL,
    target_offset     bigint      NOT NULL
);
CREATE INDEX dlq_replays_rejected_idx ON triage.dlq_replays (rejected_id);

CREATE VIEW triage.dlq_replay_outcomes AS
SELECT p.replay_id,
       p.rejected_id,
       e.reason         AS original_reason,
       e.supplier_id,
       p.replayed_at,
       p.target_topic,
       p.target_partition,
       p.target_offset,
       CASE
           WHEN v.source_offset IS NOT NULL THEN 'stored'
           WHEN again.rejected_id IS NOT NULL THEN 'rejected'
           ELSE 'pending_or_duplicate'
       END AS outcome,
       again.reason     AS new_reason,
       again.detail     AS new_detail
FROM triage.dlq_replays p
JOIN triage.rejected_events e USING (rejected_id)
LEFT JOIN triage.daily_request_revisions v
       ON v.source_topic = p.target_topic AND v.source_partition = p.target_partition
      AND v.source_offset = p.target_offset
LEFT JOIN triage.rejected_events again
       ON again.source_topic = p.target_topic AND again.source_partition = p.target_partition
      AND again.source_offset = p.target_offset;
