-- Contract v1.1 section 6: exports by day, week or month, each row carrying its
-- completeness, the list-size extract used, and rates per 1,000 that stay honest under
-- partial coverage (docs/analytics.md, "Periods, completeness and rates").
--
-- Periods: 'day'; 'week' (ISO, Monday to Sunday); 'month'. A period is cut to the export's
-- range [p_from, p_to]: days_in_period counts the days of the period inside the range.
-- Attribution under p_vintage exactly as triage.practice_daily (0021, 0030).
--
-- Rates: numerator and denominator come from the same practice-days, those that reported
-- and have a list size in force. requests_per_1000_per_day = 1000 * requests / patient-days;
-- requests_per_1000 = that * days_in_period (the rate a whole period gives at the observed
-- daily rate). A day a practice did not report is not read as a day of zero demand.
--
-- Expected practices (aggregate levels): the practices of the unit that reported on at least
-- one day of the export's range (expected_basis 'reported in range'); practice-days expected
-- = practices expected * days_in_period. A supplier roster, once loaded, is a better basis.

CREATE OR REPLACE FUNCTION triage.practice_period(
    p_from date, p_to date, p_period text, p_vintage date DEFAULT NULL)
RETURNS TABLE (
    period_start             date,
    period_end               date,
    practice_code            text,
    practice_name            text,
    sub_icb_code             text,
    sub_icb_name             text,
    icb_code                 text,
    icb_name                 text,
    mapping_basis            text,
    suppliers                integer,
    total_requests           bigint,
    clinical_requests        bigint,
    admin_requests           bigint,
    other_requests           bigint,
    days_in_period           integer,
    days_reporting           integer,
    registered_patients      integer,
    list_size_extract_date   date,
    patient_days             bigint,
    requests_with_list_size  bigint,
    requests_per_1000_per_day numeric,
    requests_per_1000        numeric
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH rows AS (
    SELECT d.*,
           CASE p_period WHEN 'day' THEN d.activity_date
                         ELSE date_trunc(p_period, d.activity_date)::date END AS p_start
    FROM triage.daily_requests d
    WHERE d.activity_date BETWEEN p_from AND p_to
      AND p_period IN ('day', 'week', 'month')
), daily AS (
    SELECT r.p_start,
           r.activity_date,
           r.practice_code,
           sum(r.total_requests)::bigint AS total_requests,
           CASE WHEN count(r.clinical_requests) = count(*)
                THEN sum(r.clinical_requests)::bigint END AS clinical_requests,
           CASE WHEN count(r.admin_requests) = count(*)
                THEN sum(r.admin_requests)::bigint END AS admin_requests,
           CASE WHEN count(r.other_requests) = count(*)
                THEN sum(r.other_requests)::bigint END AS other_requests
    FROM rows r
    GROUP BY r.p_start, r.activity_date, r.practice_code
), sized AS (
    SELECT daily.*, ls.registered_patients, ls.extract_date AS ls_extract
    FROM daily
    LEFT JOIN triage.current_list_sizes ls
           ON ls.practice_code = daily.practice_code
          AND daily.activity_date >= ls.extract_date
          AND (ls.next_extract_date IS NULL OR daily.activity_date < ls.next_extract_date)
), suppliers AS (
    SELECT r.p_start, r.practice_code, count(DISTINCT r.supplier_id)::integer AS n
    FROM rows r
    GROUP BY r.p_start, r.practice_code
), per AS (
    SELECT s.p_start,
           s.practice_code,
           sum(s.total_requests)::bigint AS total_requests,
           CASE WHEN count(s.clinical_requests) = count(*)
                THEN sum(s.clinical_requests)::bigint END AS clinical_requests,
           CASE WHEN count(s.admin_requests) = count(*)
                THEN sum(s.admin_requests)::bigint END AS admin_requests,
           CASE WHEN count(s.other_requests) = count(*)
                THEN sum(s.other_requests)::bigint END AS other_requests,
           count(*)::integer AS days_reporting,
           (array_agg(s.registered_patients ORDER BY s.activity_date DESC)
                FILTER (WHERE s.registered_patients IS NOT NULL))[1] AS registered_patients,
           (array_agg(s.ls_extract ORDER BY s.activity_date DESC)
                FILTER (WHERE s.registered_patients IS NOT NULL))[1] AS ls_extract,
           sum(s.registered_patients)::bigint AS patient_days,
           sum(s.total_requests) FILTER (WHERE s.registered_patients IS NOT NULL)::bigint
               AS requests_with_list_size
    FROM sized s
    GROUP BY s.p_start, s.practice_code
), bounded AS (
    SELECT per.*,
           (CASE p_period WHEN 'day' THEN per.p_start
                          WHEN 'week' THEN per.p_start + 6
                          ELSE (per.p_start + interval '1 month' - interval '1 day')::date
            END) AS p_end
    FROM per
)
SELECT b.p_start,
       b.p_end,
       b.practice_code,
       cp.name,
       map.sub_icb_code,
       map.sub_icb_name,
       map.icb_code,
       map.icb_name,
       coalesce(map.mapping_basis, 'unmapped'),
       sp.n,
       b.total_requests,
       b.clinical_requests,
       b.admin_requests,
       b.other_requests,
       (least(b.p_end, p_to) - greatest(b.p_start, p_from) + 1)::integer,
       b.days_reporting,
       b.registered_patients,
       b.ls_extract,
       b.patient_days,
       b.requests_with_list_size,
       round(b.requests_with_list_size * 1000.0 / nullif(b.patient_days, 0), 3),
       round(b.requests_with_list_size * 1000.0 / nullif(b.patient_days, 0)
             * (least(b.p_end, p_to) - greatest(b.p_start, p_from) + 1), 3)
FROM bounded b
JOIN suppliers sp ON sp.p_start = b.p_start AND sp.practice_code = b.practice_code
LEFT JOIN triage.practice_mapping(coalesce(p_vintage, current_date)) map
       ON map.practice_code = b.practice_code
LEFT JOIN triage.current_practices cp ON cp.practice_code = b.practice_code
$$;

-- Aggregates of practice_period by a unit (sub-ICB, ICB or the nation): p_unit chooses.
CREATE OR REPLACE FUNCTION triage.area_period(
    p_from date, p_to date, p_period text, p_unit text, p_vintage date DEFAULT NULL)
RETURNS TABLE (
    period_start              date,
    period_end                date,
    sub_icb_code              text,
    sub_icb_name              text,
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
    requests_per_1000         numeric,
    days_in_period            integer,
    practices_reporting       integer,
    practices_expected        integer,
    practice_days_reporting   integer,
    practice_days_expected    integer,
    expected_basis            text,
    list_size_extract_from    date,
    list_size_extract_to      date,
    patient_days              bigint,
    requests_per_1000_per_day numeric
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH pp AS (
    SELECT p.*,
           CASE p_unit WHEN 'sub_icb' THEN p.sub_icb_code WHEN 'icb' THEN p.icb_code END
               AS unit
    FROM triage.practice_period(p_from, p_to, p_period, p_vintage) p
    WHERE p_unit IN ('sub_icb', 'icb', 'national')
), expected AS (
    SELECT u.unit, count(*)::integer AS n
    FROM (SELECT DISTINCT pp.unit, pp.practice_code FROM pp) u
    GROUP BY u.unit
)
SELECT pp.period_start,
       min(pp.period_end),
       CASE WHEN p_unit = 'sub_icb' THEN pp.unit END,
       CASE WHEN p_unit = 'sub_icb' THEN min(pp.sub_icb_name) END,
       CASE WHEN p_unit = 'sub_icb' THEN min(pp.icb_code)
            WHEN p_unit = 'icb' THEN pp.unit END,
       CASE WHEN p_unit IN ('sub_icb', 'icb') THEN min(pp.icb_name) END,
       count(DISTINCT pp.sub_icb_code)::integer,
       count(*)::integer,
       sum(pp.total_requests)::bigint,
       CASE WHEN count(pp.clinical_requests) = count(*) THEN sum(pp.clinical_requests)::bigint END,
       CASE WHEN count(pp.admin_requests) = count(*) THEN sum(pp.admin_requests)::bigint END,
       CASE WHEN count(pp.other_requests) = count(*) THEN sum(pp.other_requests)::bigint END,
       count(pp.registered_patients)::integer,
       sum(pp.registered_patients)::bigint,
       round(sum(pp.requests_with_list_size) * 1000.0 / nullif(sum(pp.patient_days), 0)
             * min(pp.days_in_period), 3),
       min(pp.days_in_period),
       count(*)::integer,
       min(e.n),
       sum(pp.days_reporting)::integer,
       (min(e.n) * min(pp.days_in_period))::integer,
       'reported in range',
       min(pp.list_size_extract_date),
       max(pp.list_size_extract_date),
       sum(pp.patient_days)::bigint,
       round(sum(pp.requests_with_list_size) * 1000.0 / nullif(sum(pp.patient_days), 0), 3)
FROM pp
JOIN expected e ON e.unit IS NOT DISTINCT FROM pp.unit
GROUP BY pp.period_start, pp.unit
$$;

REVOKE ALL ON FUNCTION
    triage.practice_period(date, date, text, date),
    triage.area_period(date, date, text, text, date)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    triage.practice_period(date, date, text, date),
    triage.area_period(date, date, text, text, date)
TO triage_reader;
