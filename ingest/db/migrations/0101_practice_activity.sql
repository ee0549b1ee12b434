-- Appointments beside online requests, per practice and month (contract v1.2 section 7), for
-- `ingest activity` and for analysts (triage_reader may execute it).
--
-- triage.practice_activity(month): one row per practice with appointments (the month's
-- current GPAD load) or online consultation submissions (the feed, above zero) in the month:
--   * submissions: every supplier's total_requests of the month's days, typed or not (as in
--     the monthly publication's practices.csv); NULL when the feed holds no day of it;
--   * registered_patients: the practice's latest list-size extract dated on or before the
--     month's last day;
--   * icb: the practice's sub-ICB membership on the month's last day (practice_mapping), else
--     the ICB of the sub-ICB location GPAD gives it;
--   * looks_quiet_in_appointments: among the practices of its ICB with registered patients and
--     appointments, among the lowest ceil(0.2 x n) by appointments per 1,000 (ties by practice
--     code), and submissions per 1,000 at or above the median of the ICB's practices that
--     received submissions. Compared exactly: ranks on floor(rate x 10^30) (distinct rates of
--     lists below 10^12 patients never share it, equal ones always do), the median by cross-
--     multiplying whole numbers. ingest.analytics.activity.rule is the same rule in Python.
CREATE OR REPLACE FUNCTION triage.practice_activity(p_month date)
RETURNS TABLE (
    month                        date,
    practice_code                text,
    practice_name                text,
    icb_code                     text,
    icb_name                     text,
    registered_patients          integer,
    appointments                 bigint,
    appointments_attended        bigint,
    appointments_face_to_face    bigint,
    appointments_telephone       bigint,
    appointments_video_online    bigint,
    appointments_home_visit      bigint,
    appointments_unknown_mode    bigint,
    submissions                  bigint,
    appointments_per_1000        numeric,
    submissions_per_1000         numeric,
    looks_quiet_in_appointments  boolean
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH b AS (
    SELECT date_trunc('month', p_month)::date AS first_day,
           (date_trunc('month', p_month) + interval '1 month' - interval '1 day')::date
               AS last_day
), appts AS (
    SELECT a.practice_code,
           sum(a.appointments)::bigint AS appointments,
           (sum(a.appointments) FILTER (WHERE a.appt_status = 'Attended'))::bigint AS attended,
           (sum(a.appointments) FILTER (WHERE a.appt_mode = 'Face-to-Face'))::bigint AS f2f,
           (sum(a.appointments) FILTER (WHERE a.appt_mode = 'Telephone'))::bigint AS phone,
           (sum(a.appointments) FILTER (WHERE a.appt_mode = 'Video Conference/Online'))::bigint
               AS video,
           (sum(a.appointments) FILTER (WHERE a.appt_mode = 'Home Visit'))::bigint AS home,
           (sum(a.appointments) FILTER (WHERE a.appt_mode = 'Unknown'))::bigint AS unknown_mode
    FROM triage.current_appointments a, b
    WHERE a.month = b.first_day
    GROUP BY a.practice_code
), subs AS (
    SELECT s.practice_code, sum(s.total_requests)::bigint AS submissions
    FROM triage.practice_month_summary s, b
    WHERE s.month = b.first_day
    GROUP BY s.practice_code
), codes AS (
    SELECT appts.practice_code FROM appts
    UNION
    SELECT subs.practice_code FROM subs WHERE subs.submissions > 0
), sizes AS (
    SELECT DISTINCT ON (ls.practice_code) ls.practice_code, ls.registered_patients
    FROM triage.current_list_sizes ls, b
    WHERE ls.extract_date <= b.last_day
    ORDER BY ls.practice_code, ls.extract_date DESC
), mapped AS (
    SELECT m.practice_code, m.icb_code, m.icb_name
    FROM b, LATERAL triage.practice_mapping(b.last_day) m
), gpad_icbs AS (
    SELECT DISTINCT ON (cs.sub_icb_code) cs.sub_icb_code, cs.icb_code, cs.icb_name
    FROM triage.current_sub_icbs cs, b
    ORDER BY cs.sub_icb_code,
             (cs.effective_from <= b.last_day
              AND (cs.effective_to IS NULL OR cs.effective_to >= b.last_day)) DESC,
             cs.effective_from DESC
), figures AS (
    SELECT c.practice_code,
           coalesce(cp.name, ap.gp_name) AS practice_name,
           coalesce(m.icb_code, g.icb_code) AS icb_code,
           CASE WHEN m.icb_code IS NOT NULL THEN m.icb_name ELSE g.icb_name END AS icb_name,
           sz.registered_patients,
           a.appointments,
           coalesce(a.attended, 0) AS attended,
           coalesce(a.f2f, 0) AS f2f,
           coalesce(a.phone, 0) AS phone,
           coalesce(a.video, 0) AS video,
           coalesce(a.home, 0) AS home,
           coalesce(a.unknown_mode, 0) AS unknown_mode,
           su.submissions
    FROM codes c
    CROSS JOIN b
    LEFT JOIN appts a ON a.practice_code = c.practice_code
    LEFT JOIN subs su ON su.practice_code = c.practice_code
    LEFT JOIN sizes sz ON sz.practice_code = c.practice_code
    LEFT JOIN mapped m ON m.practice_code = c.practice_code
    LEFT JOIN triage.current_practices cp ON cp.practice_code = c.practice_code
    LEFT JOIN triage.current_appointment_practices ap
           ON ap.practice_code = c.practice_code AND ap.month = b.first_day
    LEFT JOIN gpad_icbs g ON g.sub_icb_code = ap.sub_icb_location_code
), rated AS (
    SELECT f.*,
           CASE WHEN f.registered_patients > 0 AND f.appointments > 0
                THEN div(f.appointments * 10::numeric ^ 30, f.registered_patients) END
               AS appt_key,
           CASE WHEN f.registered_patients > 0 AND f.submissions > 0
                THEN div(f.submissions * 10::numeric ^ 30, f.registered_patients) END
               AS sub_key
    FROM figures f
), eligible AS (
    SELECT r.practice_code,
           row_number() OVER (PARTITION BY r.icb_code ORDER BY r.appt_key, r.practice_code)
               AS rank,
           count(*) OVER (PARTITION BY r.icb_code) AS n
    FROM rated r
    WHERE r.icb_code IS NOT NULL AND r.appt_key IS NOT NULL
), lowest AS (
    SELECT e.practice_code FROM eligible e WHERE e.rank <= ceil(0.2 * e.n)
), receivers AS (
    SELECT r.icb_code, r.submissions, r.registered_patients,
           row_number() OVER (PARTITION BY r.icb_code ORDER BY r.sub_key, r.practice_code) AS k,
           count(*) OVER (PARTITION BY r.icb_code) AS m
    FROM rated r
    WHERE r.icb_code IS NOT NULL AND r.sub_key IS NOT NULL
), medians AS (
    -- The median is (lo + hi) / 2 of the middle one or two receivers' rates.
    SELECT lo.icb_code,
           lo.submissions::numeric AS s1, lo.registered_patients::numeric AS r1,
           hi.submissions::numeric AS s2, hi.registered_patients::numeric AS r2
    FROM receivers lo
    JOIN receivers hi ON hi.icb_code = lo.icb_code AND hi.k = lo.m / 2 + 1
    WHERE lo.k = (lo.m + 1) / 2
)
SELECT b.first_day,
       r.practice_code,
       r.practice_name,
       r.icb_code,
       r.icb_name,
       r.registered_patients,
       r.appointments,
       CASE WHEN r.appointments IS NOT NULL THEN r.attended END,
       CASE WHEN r.appointments IS NOT NULL THEN r.f2f END,
       CASE WHEN r.appointments IS NOT NULL THEN r.phone END,
       CASE WHEN r.appointments IS NOT NULL THEN r.video END,
       CASE WHEN r.appointments IS NOT NULL THEN r.home END,
       CASE WHEN r.appointments IS NOT NULL THEN r.unknown_mode END,
       r.submissions,
       CASE WHEN r.registered_patients > 0
            THEN r.appointments * 1000::numeric / r.registered_patients END,
       CASE WHEN r.registered_patients > 0
            THEN r.submissions * 1000::numeric / r.registered_patients END,
       coalesce(
           r.practice_code IN (SELECT l.practice_code FROM lowest l)
           AND r.submissions > 0
           AND r.registered_patients > 0
           AND 2 * r.submissions::numeric * md.r1 * md.r2
               >= (md.s1 * md.r2 + md.s2 * md.r1) * r.registered_patients,
           false)
FROM rated r
CROSS JOIN b
LEFT JOIN medians md ON md.icb_code = r.icb_code
ORDER BY r.practice_code
$$;

REVOKE ALL ON FUNCTION triage.practice_activity(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION triage.practice_activity(date) TO triage_reader;
