-- What the read-only role triage_reader can answer on its own (docs/analytics.md).
-- Counts, codes, dates and figures only: never raw key/value bytes.

-- A text cell made safe for spreadsheets (CSV formula injection): a value beginning with
-- = + - @, a tab or a carriage return gets a leading apostrophe. Used by the CSV exports on
-- every text column that comes from a reference file or a supplier.
CREATE OR REPLACE FUNCTION triage.csv_text(p_value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN p_value ~ '^[=+@\t\r-]' THEN '''' || p_value ELSE p_value END
$$;

-- Active English GP practices (current practice reference) from which no supplier sent any
-- figures for a day in [p_from, p_to], attributed under p_vintage (default today).
-- "Active": a GP practice (setting gp_practice) in England, status A or D or none, open on
-- some day of the range (open_date <= p_to, close_date empty or >= p_from).
-- last_activity_date: the latest day any supplier ever reported for it (NULL = never).
CREATE OR REPLACE FUNCTION triage.practices_without_data(
    p_from date, p_to date, p_vintage date DEFAULT NULL)
RETURNS TABLE (
    practice_code       text,
    practice_name       text,
    status_code         text,
    sub_icb_code        text,
    sub_icb_name        text,
    icb_code            text,
    icb_name            text,
    mapping_basis       text,
    last_activity_date  date
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT c.practice_code,
       c.name,
       c.status_code,
       map.sub_icb_code,
       map.sub_icb_name,
       map.icb_code,
       map.icb_name,
       coalesce(map.mapping_basis, 'unmapped'),
       (SELECT max(d.activity_date) FROM triage.daily_requests d
        WHERE d.practice_code = c.practice_code)
FROM triage.current_practice_classes c
LEFT JOIN triage.practice_mapping(coalesce(p_vintage, current_date)) map
       ON map.practice_code = c.practice_code
WHERE c.setting = 'gp_practice'
  AND c.country = 'england'
  AND coalesce(c.status_code, 'A') IN ('A', 'D')
  AND (c.open_date IS NULL OR c.open_date <= p_to)
  AND (c.close_date IS NULL OR c.close_date >= p_from)
  AND NOT EXISTS (SELECT 1 FROM triage.daily_requests d
                  WHERE d.practice_code = c.practice_code
                    AND d.activity_date BETWEEN p_from AND p_to)
$$;

-- Every revision of every practice-day that has been restated (more than one revision):
-- its figures, the change from the revision before, and when it arrived. No event ids'
-- payloads, no source offsets, no raw bytes.
CREATE OR REPLACE VIEW triage.restatement_history AS
SELECT r.supplier_id,
       r.practice_code,
       r.activity_date,
       r.revision,
       r.total_requests,
       r.clinical_requests,
       r.admin_requests,
       r.other_requests,
       r.total_requests - lag(r.total_requests) OVER w AS total_change,
       r.generated_at,
       r.ingested_at AS arrived_at,
       r.ingested_at - lag(r.ingested_at) OVER w AS after_previous,
       r.revision = max(r.revision) OVER (PARTITION BY r.supplier_id, r.practice_code,
                                                      r.activity_date) AS is_current
FROM triage.daily_request_revisions r
WHERE EXISTS (SELECT 1 FROM triage.daily_request_revisions o
              WHERE o.supplier_id = r.supplier_id AND o.practice_code = r.practice_code
                AND o.activity_date = r.activity_date AND o.revision <> r.revision)
WINDOW w AS (PARTITION BY r.supplier_id, r.practice_code, r.activity_date ORDER BY r.revision);

-- The counts `ingest status` shows for the last 24 hours, for any role allowed to run them
-- (the tables themselves stay closed to triage_reader).
CREATE OR REPLACE FUNCTION triage.stored_since(p_since timestamptz, p_suppliers text[])
RETURNS TABLE (supplier_id text, n integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT r.supplier_id, count(*)::integer
FROM triage.daily_request_revisions r
WHERE r.ingested_at > p_since AND r.supplier_id = ANY(p_suppliers)
GROUP BY r.supplier_id
$$;

CREATE OR REPLACE FUNCTION triage.rejected_since(p_since timestamptz)
RETURNS TABLE (supplier_id text, reason text, n integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT e.supplier_id, e.reason, count(*)::integer
FROM triage.rejected_events e
WHERE e.received_at > p_since
GROUP BY e.supplier_id, e.reason
$$;

REVOKE ALL ON FUNCTION
    triage.practices_without_data(date, date, date),
    triage.stored_since(timestamptz, text[]),
    triage.rejected_since(timestamptz)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    triage.practices_without_data(date, date, date),
    triage.stored_since(timestamptz, text[]),
    triage.rejected_since(timestamptz)
TO triage_reader;
GRANT SELECT ON triage.restatement_history TO triage_reader;
