-- The read-only analyst role `triage_reader` (docs/analytics.md).
--
-- NOLOGIN: it is a group role. An analyst logs in with a role of their own that is a member,
-- e.g. (as a role with CREATEROLE):
--     CREATE ROLE jo_bloggs LOGIN PASSWORD '...' IN ROLE triage_reader;
-- Roles are cluster-wide while migrations run per database, so the role is created only when
-- missing, and a concurrent creation from another database's migration is tolerated.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'triage_reader') THEN
        BEGIN
            CREATE ROLE triage_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by another session
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA triage TO triage_reader;

-- SELECT on the analytic views only: no table, in particular not triage.rejected_events
-- (raw key/value bytes) nor triage.daily_request_revisions.
GRANT SELECT ON
    triage.current_practices,
    triage.current_memberships,
    triage.current_sub_icbs,
    triage.current_list_sizes,
    triage.reference_load_history,
    triage.unknown_practices,
    triage.requests_by_supplier,
    triage.supplier_daily_totals,
    triage.rejections_daily,
    triage.supplier_freshness
TO triage_reader;

-- The vintage functions: EXECUTE for the reader only (functions default to PUBLIC).
REVOKE ALL ON FUNCTION
    triage.practice_mapping(date),
    triage.practice_daily(date, date, date),
    triage.sub_icb_daily(date, date, date),
    triage.icb_daily(date, date, date),
    triage.national_daily(date, date)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    triage.practice_mapping(date),
    triage.practice_daily(date, date, date),
    triage.sub_icb_daily(date, date, date),
    triage.icb_daily(date, date, date),
    triage.national_daily(date, date)
TO triage_reader;
