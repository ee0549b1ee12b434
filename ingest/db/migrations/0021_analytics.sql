-- Boundary-consistent aggregation and analytic views (docs/analytics.md).
--
-- Attribution under a boundary vintage V (a date): each practice is attributed, for its WHOLE
-- series, to the sub-ICB location it belonged to on V, and that sub-ICB to the ICB it belonged
-- to on V. When no membership covers V (the practice closed before V, or opened after it) the
-- nearest one is used: the latest that began on or before V, else the earliest after V; such
-- rows carry mapping_basis 'nearest'. Practices with no membership at all are 'unmapped' and
-- appear under a NULL sub_icb_code / icb_code, so that totals at every level add up to the
-- national total under every vintage: nothing is dropped or counted twice.
--
-- The functions are SECURITY DEFINER with a fixed search_path so that triage_reader needs
-- EXECUTE on them only, never SELECT on the underlying tables. Every name is schema-qualified.

-- Practice -> (sub-ICB, ICB) as at p_vintage.
CREATE OR REPLACE FUNCTION triage.practice_mapping(p_vintage date)
RETURNS TABLE (
    practice_code  text,
    sub_icb_code   text,
    sub_icb_name   text,
    icb_code       text,
    icb_name       text,
    mapping_basis  text
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH m AS (
    SELECT DISTINCT ON (cm.practice_code)
           cm.practice_code,
           cm.commissioner_code,
           (cm.effective_from <= p_vintage
            AND (cm.effective_to IS NULL OR cm.effective_to >= p_vintage)) AS at_vintage
    FROM triage.current_memberships cm
    ORDER BY cm.practice_code,
             (cm.effective_from <= p_vintage) DESC,
             CASE WHEN cm.effective_from <= p_vintage THEN cm.effective_from END DESC,
             cm.effective_from
), s AS (
    SELECT DISTINCT ON (cs.sub_icb_code)
           cs.sub_icb_code,
           cs.sub_icb_name,
           cs.icb_code,
           cs.icb_name,
           (cs.effective_from <= p_vintage
            AND (cs.effective_to IS NULL OR cs.effective_to >= p_vintage)) AS at_vintage
    FROM triage.current_sub_icbs cs
    ORDER BY cs.sub_icb_code,
             (cs.effective_from <= p_vintage) DESC,
             CASE WHEN cs.effective_from <= p_vintage THEN cs.effective_from END DESC,
             cs.effective_from
)
SELECT m.practice_code,
       m.commissioner_code,
       s.sub_icb_name,
       s.icb_code,
       s.icb_name,
       CASE WHEN m.at_vintage AND coalesce(s.at_vintage, false) THEN 'vintage'
            ELSE 'nearest' END
FROM m
LEFT JOIN s ON s.sub_icb_code = m.commissioner_code
$$;

-- One row per practice-day (suppliers summed) in [p_from, p_to], attributed under p_vintage
-- (default: today). A breakdown column is NULL unless every contributing row carries it.
-- registered_patients: the practice's list size from the latest extract on or before the day.
CREATE OR REPLACE FUNCTION triage.practice_daily(
    p_from date, p_to date, p_vintage date DEFAULT NULL)
RETURNS TABLE (
    activity_date        date,
    practice_code        text,
    practice_name        text,
    sub_icb_code         text,
    sub_icb_name         text,
    icb_code             text,
    icb_name             text,
    mapping_basis        text,
    suppliers            integer,
    total_requests       bigint,
    clinical_requests    bigint,
    admin_requests       bigint,
    other_requests       bigint,
    registered_patients  integer,
    requests_per_1000    numeric
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH daily AS (
    SELECT d.activity_date,
           d.practice_code,
           count(*)::integer AS suppliers,
           sum(d.total_requests)::bigint AS total_requests,
           CASE WHEN count(d.clinical_requests) = count(*)
                THEN sum(d.clinical_requests)::bigint END AS clinical_requests,
           CASE WHEN count(d.admin_requests) = count(*)
                THEN sum(d.admin_requests)::bigint END AS admin_requests,
           CASE WHEN count(d.other_requests) = count(*)
                THEN sum(d.other_requests)::bigint END AS other_requests
    FROM triage.daily_requests d
    WHERE d.activity_date BETWEEN p_from AND p_to
    GROUP BY d.activity_date, d.practice_code
)
SELECT daily.activity_date,
       daily.practice_code,
       cp.name,
       map.sub_icb_code,
       map.sub_icb_name,
       map.icb_code,
       map.icb_name,
       coalesce(map.mapping_basis, 'unmapped'),
       daily.suppliers,
       daily.total_requests,
       daily.clinical_requests,
       daily.admin_requests,
       daily.other_requests,
       ls.registered_patients,
       round(daily.total_requests * 1000.0 / nullif(ls.registered_patients, 0), 3)
FROM daily
LEFT JOIN triage.practice_mapping(coalesce(p_vintage, current_date)) map
       ON map.practice_code = daily.practice_code
LEFT JOIN triage.current_practices cp
       ON cp.practice_code = daily.practice_code
LEFT JOIN triage.current_list_sizes ls
       ON ls.practice_code = daily.practice_code
      AND daily.activity_date >= ls.extract_date
      AND (ls.next_extract_date IS NULL OR daily.activity_date < ls.next_extract_date)
$$;

-- Sub-ICB daily totals under p_vintage; the NULL sub_icb_code row holds unmapped practices.
-- requests_per_1000 is computed over the practices with a known list size only.
CREATE OR REPLACE FUNCTION triage.sub_icb_daily(
    p_from date, p_to date, p_vintage date DEFAULT NULL)
RETURNS TABLE (
    activity_date             date,
    sub_icb_code              text,
    sub_icb_name              text,
    icb_code                  text,
    icb_name                  text,
    practices                 integer,
    total_requests            bigint,
    clinical_requests         bigint,
    admin_requests            bigint,
    other_requests            bigint,
    practices_with_list_size  integer,
    registered_patients       bigint,
    requests_per_1000         numeric
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p.activity_date,
       p.sub_icb_code,
       min(p.sub_icb_name),
       p.icb_code,
       min(p.icb_name),
       count(*)::integer,
       sum(p.total_requests)::bigint,
       CASE WHEN count(p.clinical_requests) = count(*) THEN sum(p.clinical_requests)::bigint END,
       CASE WHEN count(p.admin_requests) = count(*) THEN sum(p.admin_requests)::bigint END,
       CASE WHEN count(p.other_requests) = count(*) THEN sum(p.other_requests)::bigint END,
       count(p.registered_patients)::integer,
       sum(p.registered_patients)::bigint,
       round(sum(p.total_requests) FILTER (WHERE p.registered_patients IS NOT NULL) * 1000.0
             / nullif(sum(p.registered_patients), 0), 3)
FROM triage.practice_daily(p_from, p_to, p_vintage) p
GROUP BY p.activity_date, p.sub_icb_code, p.icb_code
$$;

-- ICB daily totals under p_vintage; the NULL icb_code row holds practices with no ICB.
CREATE OR REPLACE FUNCTION triage.icb_daily(
    p_from date, p_to date, p_vintage date DEFAULT NULL)
RETURNS TABLE (
    activity_date             date,
    icb_code                  text,
    icb_name                  text,
    sub_icbs                  integer,
    practices                 integer,
    total_requests            bigint,
    clinical_requests         bigint,
    admin_requests            bigint,
    other_requests            bigint,
    practices_with_list_size  integer,
    registered_patients       bigint,
    requests_per_1000         numeric
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p.activity_date,
       p.icb_code,
       min(p.icb_name),
       count(DISTINCT p.sub_icb_code)::integer,
       count(*)::integer,
       sum(p.total_requests)::bigint,
       CASE WHEN count(p.clinical_requests) = count(*) THEN sum(p.clinical_requests)::bigint END,
       CASE WHEN count(p.admin_requests) = count(*) THEN sum(p.admin_requests)::bigint END,
       CASE WHEN count(p.other_requests) = count(*) THEN sum(p.other_requests)::bigint END,
       count(p.registered_patients)::integer,
       sum(p.registered_patients)::bigint,
       round(sum(p.total_requests) FILTER (WHERE p.registered_patients IS NOT NULL) * 1000.0
             / nullif(sum(p.registered_patients), 0), 3)
FROM triage.practice_daily(p_from, p_to, p_vintage) p
GROUP BY p.activity_date, p.icb_code
$$;

-- National daily totals: independent of any vintage by construction.
CREATE OR REPLACE FUNCTION triage.national_daily(p_from date, p_to date)
RETURNS TABLE (
    activity_date             date,
    practices                 integer,
    total_requests            bigint,
    clinical_requests         bigint,
    admin_requests            bigint,
    other_requests            bigint,
    practices_with_list_size  integer,
    registered_patients       bigint,
    requests_per_1000         numeric
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p.activity_date,
       count(*)::integer,
       sum(p.total_requests)::bigint,
       CASE WHEN count(p.clinical_requests) = count(*) THEN sum(p.clinical_requests)::bigint END,
       CASE WHEN count(p.admin_requests) = count(*) THEN sum(p.admin_requests)::bigint END,
       CASE WHEN count(p.other_requests) = count(*) THEN sum(p.other_requests)::bigint END,
       count(p.registered_patients)::integer,
       sum(p.registered_patients)::bigint,
       round(sum(p.total_requests) FILTER (WHERE p.registered_patients IS NOT NULL) * 1000.0
             / nullif(sum(p.registered_patients), 0), 3)
FROM triage.practice_daily(p_from, p_to, NULL) p
GROUP BY p.activity_date
$$;

-- Practice codes in the feed that are not in the current practice reference (epraccur).
-- Empty while no practice reference has been loaded (nothing to compare with).
CREATE OR REPLACE VIEW triage.unknown_practices AS
SELECT d.supplier_id,
       d.practice_code,
       min(d.activity_date) AS first_activity_date,
       max(d.activity_date) AS last_activity_date,
       count(*)::integer AS days_reported,
       sum(d.total_requests)::bigint AS total_requests
FROM triage.daily_requests d
WHERE EXISTS (SELECT 1 FROM triage.reference_loads l
              WHERE l.kind = 'practices' AND l.superseded_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM triage.current_practices p
                  WHERE p.practice_code = d.practice_code)
GROUP BY d.supplier_id, d.practice_code;

-- Current figures per supplier, practice and day (no event ids, no raw bytes).
CREATE OR REPLACE VIEW triage.requests_by_supplier AS
SELECT d.supplier_id, d.practice_code, d.activity_date, d.revision, d.total_requests,
       d.clinical_requests, d.admin_requests, d.other_requests,
       d.patient_submitted_requests, d.staff_submitted_requests, d.ingested_at
FROM triage.daily_requests d;

-- Per supplier and day: practices reported, volume, restated practice-days (revision > 1).
CREATE OR REPLACE VIEW triage.supplier_daily_totals AS
SELECT d.supplier_id,
       d.activity_date,
       count(*)::integer AS practices,
       sum(d.total_requests)::bigint AS total_requests,
       count(*) FILTER (WHERE d.revision > 1)::integer AS restated_practices
FROM triage.daily_requests d
GROUP BY d.supplier_id, d.activity_date;

-- Rejections per supplier, reason and UTC day received: counts only (no bytes, no detail).
CREATE OR REPLACE VIEW triage.rejections_daily AS
SELECT r.supplier_id,
       r.reason,
       (r.received_at AT TIME ZONE 'UTC')::date AS received_date,
       count(*)::integer AS rejected
FROM triage.rejected_events r
GROUP BY r.supplier_id, r.reason, (r.received_at AT TIME ZONE 'UTC')::date;
