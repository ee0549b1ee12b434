-- Contract v1.1 (section 6): the reason codes added (invalid_event_id, practice_not_participating)
-- may be stored. The check lists every reason code of v1.1, in the contract's order; existing
-- rows keep their (v1) codes, all of which stay in the list.
ALTER TABLE triage.rejected_events
    DROP CONSTRAINT IF EXISTS rejected_events_reason_check,
    ADD CONSTRAINT rejected_events_reason_check CHECK (reason IN (
        'undecodable', 'unknown_schema', 'unknown_supplier', 'supplier_mismatch',
        'invalid_event_id', 'invalid_practice_code', 'practice_not_participating',
        'activity_date_out_of_range', 'negative_count', 'inconsistent_breakdown',
        'implausible_count', 'invalid_revision', 'conflicting_revision'));
