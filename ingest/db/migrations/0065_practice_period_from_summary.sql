-- triage.practice_period (0031) reads whole months from the practice-month summary
-- (0064) when p_period is 'month'; every figure is the one 0031's definition gives (tested
-- against it: tests/integration/test_practice_month_summary.py). Same signature: grants kept;
-- triage.area_period (0033) reads this function and so gains with it.
--
-- For a practice and a whole month inside the range, from the summary rows of its suppliers:
-- reporting days = the OR of their day masks; the list sizes in force that month each cover a
-- run of days (from the extract date to the practice's next extract), so patient-days = the sum
-- over them of registered_patients x reporting days in the run; registered_patients and the
-- extract are those in force on the last reporting day. When list sizes cover only some of the
-- reporting days (the month of a practice's first extract), that practice-month is computed
-- from its rows, as are the months the range cuts. The periods 'day' and 'week' run 0031's
-- query unchanged. The function is PL/pgSQL so that each of the two queries is planned on its
-- own with the call's values (one SQL query for both planned the day exports badly: a nested
-- loop over the practices, 63 s instead of 3 s for one month at one year of national data).

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
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_period = 'month' THEN
        RETURN QUERY
        WITH whole AS (
            -- The whole months inside the range, [first_month, end_month); empty unless 'month'.
            SELECT CASE WHEN p_period = 'month'
                        THEN (date_trunc('month', p_from - 1) + interval '1 month')::date
                        ELSE p_from END AS first_month,
                   CASE WHEN p_period = 'month'
                        THEN greatest(date_trunc('month', p_to + 1)::date,
                                      (date_trunc('month', p_from - 1) + interval '1 month')::date)
                        ELSE p_from END AS end_month
        ), summarised AS (
            SELECT s.month,
                   s.practice_code,
                   bit_or(s.day_mask)::bigint AS mask,
                   count(*)::integer AS suppliers,
                   sum(s.total_requests)::bigint AS total_requests,
                   CASE WHEN sum(s.clinical_days) = sum(s.days)
                        THEN sum(s.clinical_requests)::bigint END AS clinical_requests,
                   CASE WHEN sum(s.admin_days) = sum(s.days)
                        THEN sum(s.admin_requests)::bigint END AS admin_requests,
                   CASE WHEN sum(s.other_days) = sum(s.days)
                        THEN sum(s.other_requests)::bigint END AS other_requests
            FROM whole w
            JOIN triage.practice_month_summary s
              ON s.month >= w.first_month AND s.month < w.end_month
            WHERE p_period IN ('day', 'week', 'month')
            GROUP BY s.month, s.practice_code
        ), runs AS (
            -- Each list size in force in a summarised month: the reporting days it covers.
            SELECT sm.month, sm.practice_code, ls.registered_patients, ls.extract_date,
                   bit_count((sm.mask & (
                       ((1::bigint << (least(coalesce(ls.next_extract_date,
                                                      (sm.month + interval '1 month')::date),
                                             (sm.month + interval '1 month')::date) - sm.month))
                        - 1)
                       - ((1::bigint << (greatest(ls.extract_date, sm.month) - sm.month)) - 1)
                   ))::bit(64))::integer AS days
            FROM summarised sm
            JOIN triage.current_list_sizes ls
              ON ls.practice_code = sm.practice_code
             AND ls.extract_date < (sm.month + interval '1 month')::date
             AND (ls.next_extract_date IS NULL OR ls.next_extract_date > sm.month)
        ), sized AS (
            SELECT r.month, r.practice_code,
                   sum(r.days)::integer AS days_sized,
                   sum(r.registered_patients * r.days) FILTER (WHERE r.days > 0)::bigint
                       AS patient_days,
                   (array_agg(r.registered_patients ORDER BY r.extract_date DESC)
                        FILTER (WHERE r.days > 0))[1] AS registered_patients,
                   (array_agg(r.extract_date ORDER BY r.extract_date DESC)
                        FILTER (WHERE r.days > 0))[1] AS ls_extract
            FROM runs r
            GROUP BY r.month, r.practice_code
        ), per_summarised AS (
            SELECT sm.month AS p_start,
                   sm.practice_code,
                   sm.suppliers,
                   sm.total_requests,
                   sm.clinical_requests,
                   sm.admin_requests,
                   sm.other_requests,
                   bit_count(sm.mask::bit(64))::integer AS days_reporting,
                   sz.registered_patients,
                   sz.ls_extract,
                   sz.patient_days,
                   CASE WHEN sz.patient_days IS NOT NULL THEN sm.total_requests END
                       AS requests_with_list_size,
                   coalesce(sz.days_sized, 0) AS days_sized
            FROM summarised sm
            LEFT JOIN sized sz ON sz.month = sm.month AND sz.practice_code = sm.practice_code
        ), partly_sized AS (
            -- Practice-months whose reporting days list sizes only partly cover: from the rows.
            SELECT p.p_start, p.practice_code
            FROM per_summarised p
            WHERE p.days_sized > 0 AND p.days_sized < p.days_reporting
        ), rows AS (
            SELECT d.*,
                   CASE p_period WHEN 'day' THEN d.activity_date
                                 ELSE date_trunc(p_period, d.activity_date)::date END AS p_start
            FROM triage.daily_requests d
            WHERE p_period IN ('day', 'week', 'month')
              AND d.activity_date >= p_from
              AND d.activity_date < least(p_to + 1, CASE WHEN p_period = 'month'
                  THEN (date_trunc('month', p_from - 1) + interval '1 month')::date ELSE p_from END)
            UNION ALL
            SELECT d.*,
                   CASE p_period WHEN 'day' THEN d.activity_date
                                 ELSE date_trunc(p_period, d.activity_date)::date END
            FROM triage.daily_requests d
            WHERE p_period IN ('day', 'week', 'month')
              AND d.activity_date <= p_to
              AND d.activity_date >= CASE WHEN p_period = 'month'
                  THEN greatest(p_from, date_trunc('month', p_to + 1)::date,
                                (date_trunc('month', p_from - 1) + interval '1 month')::date)
                  ELSE p_from END
            UNION ALL
            SELECT d.*, ps.p_start
            FROM partly_sized ps
            JOIN triage.daily_requests d
              ON d.practice_code = ps.practice_code
             AND d.activity_date >= ps.p_start
             AND d.activity_date < (ps.p_start + interval '1 month')::date
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
        ), sized_daily AS (
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
        ), per_rows AS (
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
            FROM sized_daily s
            GROUP BY s.p_start, s.practice_code
        ), per AS (
            SELECT pr.p_start, pr.practice_code, sp.n AS suppliers, pr.total_requests,
                   pr.clinical_requests, pr.admin_requests, pr.other_requests, pr.days_reporting,
                   pr.registered_patients, pr.ls_extract, pr.patient_days, pr.requests_with_list_size
            FROM per_rows pr
            JOIN suppliers sp ON sp.p_start = pr.p_start AND sp.practice_code = pr.practice_code
            UNION ALL
            SELECT ps.p_start, ps.practice_code, ps.suppliers, ps.total_requests,
                   ps.clinical_requests, ps.admin_requests, ps.other_requests, ps.days_reporting,
                   ps.registered_patients, ps.ls_extract, ps.patient_days, ps.requests_with_list_size
            FROM per_summarised ps
            WHERE NOT (ps.days_sized > 0 AND ps.days_sized < ps.days_reporting)
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
               b.suppliers,
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
        LEFT JOIN triage.practice_mapping(coalesce(p_vintage, current_date)) map
               ON map.practice_code = b.practice_code
        LEFT JOIN triage.current_practices cp ON cp.practice_code = b.practice_code;
    ELSE
        -- 'day' and 'week' (or anything else: no rows): 0031's query, unchanged.
        RETURN QUERY
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
        LEFT JOIN triage.current_practices cp ON cp.practice_code = b.practice_code;
    END IF;
END
$$;
