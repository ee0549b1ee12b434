-- The practice-month summary's maintenance functions (0064) are for its triggers
-- only. A function is executable by PUBLIC unless revoked, and triage_reader and
-- triage_writer may use the schema: without this, a reader could run the SECURITY DEFINER
-- re-summarising function (a write, with row locks) on any keys.
REVOKE ALL ON FUNCTION
    triage.practice_month_summary_of(jsonb),
    triage.practice_month_summary_resummarise(jsonb)
FROM PUBLIC;
