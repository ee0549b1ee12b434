-- Contract v1.1 section 6: once a supplier roster is loaded (migration 0042), the
-- practices and practice-days an export row *expects* come from it ("a practice is expected
-- from a supplier on each day between those dates"); expected_basis says 'roster'. Without a
-- roster the basis stays 'reported in range' (0031). Same signature as 0031: grants kept.
--
-- The roster's objects come in 0042, after this file on a fresh database: the body is checked
-- when the function runs, not now (as pg_dump restores do). Each migration runs in its own
-- transaction, so SET LOCAL ends with it.
SET LOCAL check_function_bodies = off;

-- Aggregates of practice_period by a unit (sub-ICB, ICB or the nation): p_unit chooses.
-- As in 0031, except for what is *expected* once a supplier roster is loaded (0042): the
-- unit's practices installed (by any supplier) on at least one day of the period inside the
-- range, and their installed days (a practice served by two suppliers counts once a day);
-- expected_basis 'roster'. Without a roster: 'reported in range', as before.
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
), roster AS (
    SELECT EXISTS (SELECT 1 FROM triage.current_roster) AS loaded
), days AS (
    SELECT g::date AS day,
           CASE p_period WHEN 'day' THEN g::date
                         ELSE date_trunc(p_period, g)::date END AS p_start
    FROM roster, generate_series(p_from, p_to, interval '1 day') g
    WHERE roster.loaded AND p_unit IN ('sub_icb', 'icb', 'national')
), installed AS (
    SELECT DISTINCT d.p_start, d.day, r.practice_code
    FROM days d
    JOIN triage.current_roster r
      ON r.installed_on <= d.day AND (r.removed_on IS NULL OR r.removed_on >= d.day)
), installed_by_unit AS (
    SELECT i.p_start,
           CASE p_unit WHEN 'sub_icb' THEN m.sub_icb_code WHEN 'icb' THEN m.icb_code END AS unit,
           count(DISTINCT i.practice_code)::integer AS practices,
           count(*)::integer AS practice_days
    FROM installed i
    LEFT JOIN triage.practice_mapping(coalesce(p_vintage, current_date)) m
           ON m.practice_code = i.practice_code
    GROUP BY 1, 2
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
       CASE WHEN min(ro.loaded::int) = 1 THEN coalesce(min(ib.practices), 0) ELSE min(e.n) END,
       sum(pp.days_reporting)::integer,
       CASE WHEN min(ro.loaded::int) = 1 THEN coalesce(min(ib.practice_days), 0)
            ELSE (min(e.n) * min(pp.days_in_period))::integer END,
       CASE WHEN min(ro.loaded::int) = 1 THEN 'roster' ELSE 'reported in range' END,
       min(pp.list_size_extract_date),
       max(pp.list_size_extract_date),
       sum(pp.patient_days)::bigint,
       round(sum(pp.requests_with_list_size) * 1000.0 / nullif(sum(pp.patient_days), 0), 3)
FROM pp
JOIN expected e ON e.unit IS NOT DISTINCT FROM pp.unit
CROSS JOIN roster ro
LEFT JOIN installed_by_unit ib
       ON ib.p_start = pp.period_start AND ib.unit IS NOT DISTINCT FROM pp.unit
GROUP BY pp.period_start, pp.unit
$$;
