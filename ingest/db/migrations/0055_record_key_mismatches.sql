-- Record keys are advisory (the body decides), but a valid record whose
-- key is not its body's <practice_code>:<YYYY-MM-DD> is a supplier bug the quality report
-- shows. Counted per supplier and activity date (of the body) by the consumer in the batch's
-- own transaction, so each stored record counts once. A new table: nothing to upgrade.
CREATE TABLE triage.record_key_mismatches (
    supplier_id text NOT NULL,
    activity_date date NOT NULL,
    mismatches bigint NOT NULL CHECK (mismatches > 0),
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    PRIMARY KEY (supplier_id, activity_date)
);

COMMENT ON TABLE triage.record_key_mismatches IS
    'Valid records whose Kafka key disagreed with the body''s practice_code:activity_date '
    '(stored by their body; keys are advisory), per supplier and activity date.';
