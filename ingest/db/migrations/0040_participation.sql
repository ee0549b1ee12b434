-- Contract v1.1 section 6: the practice participation list (practices that accepted
-- the data provision notice) as a versioned reference load, and the purge of the bytes of
-- practice_not_participating rejections after their retention period.
--
-- Upgrade: existing loads and rejections are untouched; the kind check gains the new kinds
-- ('participation', and 'roster' for the supplier roster).

ALTER TABLE triage.reference_loads
    DROP CONSTRAINT IF EXISTS reference_loads_kind_check,
    ADD CONSTRAINT reference_loads_kind_check CHECK (kind IN (
        'practices', 'memberships', 'sub_icbs', 'list_sizes', 'participation', 'roster'));

-- A practice participates from participating_from to participating_to, both inclusive;
-- participating_to NULL = still participating. Periods of one practice never overlap
-- (checked by the parser before loading).
CREATE TABLE IF NOT EXISTS triage.ref_participation (
    load_id             bigint NOT NULL REFERENCES triage.reference_loads (load_id),
    practice_code       text   NOT NULL,
    participating_from  date   NOT NULL,
    participating_to    date,
    CHECK (participating_to IS NULL OR participating_to >= participating_from),
    PRIMARY KEY (load_id, practice_code, participating_from)
);

CREATE OR REPLACE VIEW triage.current_participation AS
SELECT p.practice_code, p.participating_from, p.participating_to, p.load_id
FROM triage.ref_participation p
JOIN triage.reference_loads l ON l.load_id = p.load_id AND l.superseded_at IS NULL;

GRANT SELECT ON triage.current_participation TO triage_reader;

-- When the key and value of a rejection were purged (NULL: still held). The row, its reason
-- and detail stay; a purged rejection cannot be replayed.
ALTER TABLE triage.rejected_events ADD COLUMN IF NOT EXISTS bytes_purged_at timestamptz;
CREATE INDEX IF NOT EXISTS rejected_events_unpurged_idx
    ON triage.rejected_events (reason, received_at) WHERE bytes_purged_at IS NULL;
