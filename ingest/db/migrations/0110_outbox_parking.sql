-- Supplier isolation in the outcome outbox (contract v1.1 section 6 stays as it is).
--
-- A rejected record's raw key may be as large as the broker allows (1 MB); copied into its
-- outcome, it made the outcome larger than the supplier's feedback topic accepts, so the row
-- stayed in the outbox for ever and was fetched and re-sent every round, crowding out every
-- other supplier's outcomes. From this version the outbox holds a key only up to 1,024 bytes
-- (a contract key `<practice_code>:<YYYY-MM-DD>` has 17): a longer one is left out and that
-- outcome goes unkeyed (triage.rejected_events keeps the raw key whole).
--
-- Rows the relay cannot deliver (refused as too large, or waiting past
-- INGEST_OUTBOX_PARK_AFTER_SECONDS) are parked: parked_at/parked_reason set, never taken by a
-- round again until an operator clears parked_at (docs/operations.md, "Parked outcomes").
--
-- Upgrade: two nullable columns (no rewrite), keys above the bound already waiting are
-- dropped from their rows (the same bytes stay in triage.rejected_events), one partial index
-- for the per-supplier rounds.
ALTER TABLE triage.outcome_outbox
    ADD COLUMN IF NOT EXISTS parked_at     timestamptz,
    ADD COLUMN IF NOT EXISTS parked_reason text
        CHECK (parked_reason IN ('too_large', 'stuck'));

UPDATE triage.outcome_outbox SET key = NULL WHERE octet_length(key) > 1024;

ALTER TABLE triage.outcome_outbox
    ADD CONSTRAINT outcome_outbox_key_bounded CHECK (octet_length(key) <= 1024);

CREATE INDEX IF NOT EXISTS outcome_outbox_waiting
    ON triage.outcome_outbox (supplier_id, outbox_id) WHERE parked_at IS NULL;
