-- The schema the migrations in ingest/db/migrations/ build in an empty database
-- (pg_dump --schema-only --no-owner, normalised). Generated: do not edit; after adding a
-- migration, regenerate with `.venv/bin/python -m tests.support.schema_snapshot` and commit.

--
-- Name: triage; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA triage;

--
-- Name: add_revision_partitions(date, date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.add_revision_partitions(first_day date, last_day date) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET lock_timeout TO '5s'
    AS $$
-- Makes the monthly partitions of triage.daily_request_revisions for every month from
-- first_day's to last_day's that has none; returns how many it made. Rows of such a month
-- already in the default partition move into the new partition (its statement triggers do
-- not fire: the rows are moved, not stored again). A month inside the range of an existing
-- partition (the pre-partitioning one of an upgraded database) is left as it is.
DECLARE
    month date := date_trunc('month', first_day)::date;
    last_month date := date_trunc('month', last_day)::date;
    next_month date;
    name text;
    made integer := 0;
BEGIN
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN
        RAISE EXCEPTION 'add_revision_partitions: a range of days, first <= last (got % to %)',
            first_day, last_day USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF last_month > month + interval '600 months' THEN
        RAISE EXCEPTION 'add_revision_partitions: at most 600 months at once (got % to %)',
            first_day, last_day USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One maker at a time (two consumers meeting a new month together).
    PERFORM pg_advisory_xact_lock(7626400612836978544);
    WHILE month <= last_month LOOP
        next_month := (month + interval '1 month')::date;
        name := 'daily_request_revisions_' || to_char(month, 'YYYY_MM');
        IF to_regclass(format('triage.%I', name)) IS NULL THEN
            BEGIN
                IF EXISTS (
                    SELECT 1 FROM triage.daily_request_revisions_default
                    WHERE activity_date >= month AND activity_date < next_month
                ) THEN
                    EXECUTE format(
                        'CREATE TABLE triage.%I (LIKE triage.daily_request_revisions'
                        ' INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
                    EXECUTE format(
                        'WITH moved AS (DELETE FROM triage.daily_request_revisions_default'
                        ' WHERE activity_date >= %L AND activity_date < %L RETURNING *)'
                        ' INSERT INTO triage.%I SELECT * FROM moved', month, next_month, name);
                    EXECUTE format(
                        'ALTER TABLE triage.daily_request_revisions ATTACH PARTITION triage.%I'
                        ' FOR VALUES FROM (%L) TO (%L)', name, month, next_month);
                ELSE
                    EXECUTE format(
                        'CREATE TABLE triage.%I PARTITION OF triage.daily_request_revisions'
                        ' FOR VALUES FROM (%L) TO (%L)', name, month, next_month);
                END IF;
                made := made + 1;
            EXCEPTION WHEN invalid_object_definition THEN
                -- "would overlap partition": an existing partition covers the month already
                NULL;
            END;
        END IF;
        month := next_month;
    END LOOP;
    RETURN made;
END
$$;

--
-- Name: area_period(date, date, text, text, date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.area_period(p_from date, p_to date, p_period text, p_unit text, p_vintage date DEFAULT NULL::date) RETURNS TABLE(period_start date, period_end date, sub_icb_code text, sub_icb_name text, icb_code text, icb_name text, sub_icbs integer, practices integer, total_requests bigint, clinical_requests bigint, admin_requests bigint, other_requests bigint, practices_with_list_size integer, registered_patients bigint, requests_per_1000 numeric, days_in_period integer, practices_reporting integer, practices_expected integer, practice_days_reporting integer, practice_days_expected integer, expected_basis text, list_size_extract_from date, list_size_extract_to date, patient_days bigint, requests_per_1000_per_day numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

--
-- Name: csv_text(text); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.csv_text(p_value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
SELECT CASE WHEN p_value ~ '^[=+@\t\r-]' THEN '''' || p_value ELSE p_value END
$$;

--
-- Name: freshness_status(timestamp with time zone, interval, interval, timestamp with time zone); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.freshness_status(last_event_at timestamp with time zone, warn_after interval, error_after interval, ts timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
SELECT CASE
           WHEN last_event_at IS NULL THEN 'never_reported'
           WHEN ts - last_event_at <= warn_after THEN 'ok'
           WHEN ts - last_event_at <= error_after THEN 'late'
           ELSE 'silent'
       END
$$;

--
-- Name: icb_daily(date, date, date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.icb_daily(p_from date, p_to date, p_vintage date DEFAULT NULL::date) RETURNS TABLE(activity_date date, icb_code text, icb_name text, sub_icbs integer, practices integer, total_requests bigint, clinical_requests bigint, admin_requests bigint, other_requests bigint, practices_with_list_size integer, registered_patients bigint, requests_per_1000 numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

--
-- Name: national_daily(date, date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.national_daily(p_from date, p_to date) RETURNS TABLE(activity_date date, practices integer, total_requests bigint, clinical_requests bigint, admin_requests bigint, other_requests bigint, practices_with_list_size integer, registered_patients bigint, requests_per_1000 numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

--
-- Name: practice_activity(date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_activity(p_month date) RETURNS TABLE(month date, practice_code text, practice_name text, icb_code text, icb_name text, registered_patients integer, appointments bigint, appointments_attended bigint, appointments_face_to_face bigint, appointments_telephone bigint, appointments_video_online bigint, appointments_home_visit bigint, appointments_unknown_mode bigint, submissions bigint, appointments_per_1000 numeric, submissions_per_1000 numeric, looks_quiet_in_appointments boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

--
-- Name: practice_codes_reported_deleted(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_codes_reported_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    DELETE FROM triage.practice_codes_reported r
    USING (SELECT DISTINCT supplier_id, practice_code FROM old_rows) o
    WHERE r.supplier_id = o.supplier_id AND r.practice_code = o.practice_code
      AND NOT EXISTS (SELECT 1 FROM triage.daily_requests d
                      WHERE d.supplier_id = o.supplier_id AND d.practice_code = o.practice_code);
    RETURN NULL;
END
$$;

--
-- Name: practice_codes_reported_inserted(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_codes_reported_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    INSERT INTO triage.practice_codes_reported (supplier_id, practice_code)
    SELECT DISTINCT n.supplier_id, n.practice_code
    FROM inserted_rows n
    WHERE NOT EXISTS (SELECT 1 FROM triage.practice_codes_reported r
                      WHERE r.supplier_id = n.supplier_id AND r.practice_code = n.practice_code)
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

--
-- Name: practice_codes_reported_truncated(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_codes_reported_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    DELETE FROM triage.practice_codes_reported;
    RETURN NULL;
END
$$;

--
-- Name: practice_daily(date, date, date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_daily(p_from date, p_to date, p_vintage date DEFAULT NULL::date) RETURNS TABLE(activity_date date, practice_code text, practice_name text, sub_icb_code text, sub_icb_name text, icb_code text, icb_name text, mapping_basis text, suppliers integer, total_requests bigint, clinical_requests bigint, admin_requests bigint, other_requests bigint, registered_patients integer, requests_per_1000 numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

--
-- Name: practice_mapping(date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_mapping(p_vintage date) RETURNS TABLE(practice_code text, sub_icb_code text, sub_icb_name text, icb_code text, icb_name text, mapping_basis text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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
), sub_icbs_loaded AS (
    SELECT EXISTS (SELECT 1 FROM triage.reference_loads l
                   WHERE l.kind = 'sub_icbs' AND l.superseded_at IS NULL) AS loaded
), classified AS (
    SELECT m.practice_code,
           m.commissioner_code,
           s.sub_icb_name,
           s.icb_code,
           s.icb_name,
           m.at_vintage AND coalesce(s.at_vintage, false) AS at_vintage,
           coalesce(cp.country, 'england') <> 'england'
               OR (sl.loaded AND s.sub_icb_code IS NULL) AS outside_england
    FROM m
    CROSS JOIN sub_icbs_loaded sl
    LEFT JOIN s ON s.sub_icb_code = m.commissioner_code
    LEFT JOIN triage.current_practice_classes cp ON cp.practice_code = m.practice_code
)
SELECT c.practice_code,
       CASE WHEN c.outside_england THEN NULL ELSE c.commissioner_code END,
       CASE WHEN c.outside_england THEN NULL ELSE c.sub_icb_name END,
       CASE WHEN c.outside_england THEN NULL ELSE c.icb_code END,
       CASE WHEN c.outside_england THEN NULL ELSE c.icb_name END,
       CASE WHEN c.outside_england THEN 'unmapped'
            WHEN c.at_vintage THEN 'vintage'
            ELSE 'nearest' END
FROM classified c
$$;

--
-- Name: practice_month_summary_deleted(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_month_summary_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM triage.practice_month_summary_resummarise(
        (SELECT jsonb_agg(DISTINCT jsonb_build_object(
                    'month', date_trunc('month', o.activity_date)::date,
                    'practice_code', o.practice_code, 'supplier_id', o.supplier_id))
         FROM old_rows o));
    RETURN NULL;
END
$$;

--
-- Name: practice_month_summary_inserted(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_month_summary_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    INSERT INTO triage.practice_month_summary AS s
    SELECT date_trunc('month', n.activity_date)::date, n.practice_code, n.supplier_id,
           bit_or(1 << (extract(day FROM n.activity_date)::integer - 1)),
           count(*),
           sum(n.total_requests),
           coalesce(sum(n.clinical_requests), 0), count(n.clinical_requests),
           coalesce(sum(n.admin_requests), 0), count(n.admin_requests),
           coalesce(sum(n.other_requests), 0), count(n.other_requests)
    FROM inserted_rows n
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (month, practice_code, supplier_id) DO UPDATE SET
        day_mask = s.day_mask | EXCLUDED.day_mask,
        days = s.days + EXCLUDED.days,
        total_requests = s.total_requests + EXCLUDED.total_requests,
        clinical_requests = s.clinical_requests + EXCLUDED.clinical_requests,
        clinical_days = s.clinical_days + EXCLUDED.clinical_days,
        admin_requests = s.admin_requests + EXCLUDED.admin_requests,
        admin_days = s.admin_days + EXCLUDED.admin_days,
        other_requests = s.other_requests + EXCLUDED.other_requests,
        other_days = s.other_days + EXCLUDED.other_days;
    RETURN NULL;
END
$$;

--
-- Name: practice_month_summary; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.practice_month_summary (
    month date NOT NULL,
    practice_code text NOT NULL,
    supplier_id text NOT NULL,
    day_mask integer NOT NULL,
    days integer NOT NULL,
    total_requests bigint NOT NULL,
    clinical_requests bigint NOT NULL,
    clinical_days integer NOT NULL,
    admin_requests bigint NOT NULL,
    admin_days integer NOT NULL,
    other_requests bigint NOT NULL,
    other_days integer NOT NULL,
    CONSTRAINT practice_month_summary_days_check CHECK ((days > 0)),
    CONSTRAINT practice_month_summary_month_check CHECK ((month = (date_trunc('month'::text, (month)::timestamp with time zone))::date))
);

--
-- Name: practice_month_summary_of(jsonb); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_month_summary_of(p_keys jsonb) RETURNS SETOF triage.practice_month_summary
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
SELECT k.month, d.practice_code, d.supplier_id,
       bit_or(1 << (extract(day FROM d.activity_date)::integer - 1)),
       count(*)::integer,
       sum(d.total_requests)::bigint,
       coalesce(sum(d.clinical_requests), 0)::bigint, count(d.clinical_requests)::integer,
       coalesce(sum(d.admin_requests), 0)::bigint, count(d.admin_requests)::integer,
       coalesce(sum(d.other_requests), 0)::bigint, count(d.other_requests)::integer
FROM jsonb_to_recordset(p_keys) AS k(month date, practice_code text, supplier_id text)
JOIN triage.daily_requests d
  ON d.supplier_id = k.supplier_id AND d.practice_code = k.practice_code
 AND d.activity_date >= k.month AND d.activity_date < (k.month + interval '1 month')::date
GROUP BY k.month, d.practice_code, d.supplier_id
$$;

--
-- Name: practice_month_summary_resummarise(jsonb); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_month_summary_resummarise(p_keys jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM 1 FROM triage.practice_month_summary s
    JOIN jsonb_to_recordset(p_keys) AS k(month date, practice_code text, supplier_id text)
      ON s.month = k.month AND s.practice_code = k.practice_code
     AND s.supplier_id = k.supplier_id
    ORDER BY s.month, s.practice_code, s.supplier_id
    FOR UPDATE OF s;
    DELETE FROM triage.practice_month_summary s
    USING jsonb_to_recordset(p_keys) AS k(month date, practice_code text, supplier_id text)
    WHERE s.month = k.month AND s.practice_code = k.practice_code
      AND s.supplier_id = k.supplier_id;
    INSERT INTO triage.practice_month_summary
    SELECT * FROM triage.practice_month_summary_of(p_keys)
    ORDER BY 1, 2, 3;
END
$$;

--
-- Name: practice_month_summary_truncated(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_month_summary_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    DELETE FROM triage.practice_month_summary;
    RETURN NULL;
END
$$;

--
-- Name: practice_month_summary_updated(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_month_summary_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o
               WHERE NOT EXISTS (SELECT 1 FROM new_rows n
                                 WHERE n.supplier_id = o.supplier_id
                                   AND n.practice_code = o.practice_code
                                   AND n.activity_date = o.activity_date)) THEN
        PERFORM triage.practice_month_summary_resummarise(
            (SELECT jsonb_agg(DISTINCT jsonb_build_object(
                        'month', date_trunc('month', r.activity_date)::date,
                        'practice_code', r.practice_code, 'supplier_id', r.supplier_id))
             FROM (SELECT supplier_id, practice_code, activity_date FROM old_rows
                   UNION SELECT supplier_id, practice_code, activity_date FROM new_rows) r));
        RETURN NULL;
    END IF;
    UPDATE triage.practice_month_summary s SET
        total_requests = s.total_requests + c.total,
        clinical_requests = s.clinical_requests + c.clinical,
        clinical_days = s.clinical_days + c.clinical_n,
        admin_requests = s.admin_requests + c.admin,
        admin_days = s.admin_days + c.admin_n,
        other_requests = s.other_requests + c.other,
        other_days = s.other_days + c.other_n
    FROM (SELECT t.month, t.practice_code, t.supplier_id,
                 sum(t.total) AS total,
                 sum(t.clinical) AS clinical, sum(t.clinical_n) AS clinical_n,
                 sum(t.admin) AS admin, sum(t.admin_n) AS admin_n,
                 sum(t.other) AS other, sum(t.other_n) AS other_n
          FROM (SELECT date_trunc('month', activity_date)::date AS month, practice_code,
                       supplier_id, total_requests::bigint AS total,
                       coalesce(clinical_requests, 0)::bigint AS clinical,
                       (clinical_requests IS NOT NULL)::integer AS clinical_n,
                       coalesce(admin_requests, 0)::bigint AS admin,
                       (admin_requests IS NOT NULL)::integer AS admin_n,
                       coalesce(other_requests, 0)::bigint AS other,
                       (other_requests IS NOT NULL)::integer AS other_n
                FROM new_rows
                UNION ALL
                SELECT date_trunc('month', activity_date)::date, practice_code, supplier_id,
                       -total_requests::bigint,
                       -coalesce(clinical_requests, 0)::bigint,
                       -(clinical_requests IS NOT NULL)::integer,
                       -coalesce(admin_requests, 0)::bigint,
                       -(admin_requests IS NOT NULL)::integer,
                       -coalesce(other_requests, 0)::bigint,
                       -(other_requests IS NOT NULL)::integer
                FROM old_rows) t
          GROUP BY t.month, t.practice_code, t.supplier_id
          ORDER BY t.month, t.practice_code, t.supplier_id) c
    WHERE s.month = c.month AND s.practice_code = c.practice_code
      AND s.supplier_id = c.supplier_id
      AND (c.total, c.clinical, c.clinical_n, c.admin, c.admin_n, c.other, c.other_n)
          IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0);
    RETURN NULL;
END
$$;

--
-- Name: practice_period(date, date, text, date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_period(p_from date, p_to date, p_period text, p_vintage date DEFAULT NULL::date) RETURNS TABLE(period_start date, period_end date, practice_code text, practice_name text, sub_icb_code text, sub_icb_name text, icb_code text, icb_name text, mapping_basis text, suppliers integer, total_requests bigint, clinical_requests bigint, admin_requests bigint, other_requests bigint, days_in_period integer, days_reporting integer, registered_patients integer, list_size_extract_date date, patient_days bigint, requests_with_list_size bigint, requests_per_1000_per_day numeric, requests_per_1000 numeric)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

--
-- Name: practice_volume_assessment(text, date, integer, integer, numeric, numeric, numeric); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practice_volume_assessment(p_supplier text, p_day date, p_weeks integer DEFAULT 6, p_min_weeks integer DEFAULT 4, p_z numeric DEFAULT 3.5, p_min_change numeric DEFAULT 0.5, p_min_abs numeric DEFAULT 10) RETURNS TABLE(supplier_id text, practice_code text, activity_date date, total_requests integer, weeks integer, baseline_median numeric, baseline_mad numeric, change numeric, robust_z numeric, flagged boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
SELECT p_supplier, d.practice_code, p_day, d.total_requests, v.*
FROM triage.daily_requests d
CROSS JOIN LATERAL triage.volume_verdict(
    d.total_requests,
    ARRAY(SELECT h.total_requests FROM triage.daily_requests h
          WHERE h.supplier_id = p_supplier AND h.practice_code = d.practice_code
            AND h.activity_date IN (SELECT p_day - 7 * w FROM generate_series(1, p_weeks) w)),
    p_min_weeks, p_z, p_min_change, p_min_abs) AS v
WHERE d.supplier_id = p_supplier AND d.activity_date = p_day
$$;

--
-- Name: practices_without_data(date, date, date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.practices_without_data(p_from date, p_to date, p_vintage date DEFAULT NULL::date) RETURNS TABLE(practice_code text, practice_name text, status_code text, sub_icb_code text, sub_icb_name text, icb_code text, icb_name text, mapping_basis text, last_activity_date date)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
WITH reported AS MATERIALIZED (
    SELECT DISTINCT s.practice_code
    FROM triage.practice_month_summary s
    WHERE s.month >= date_trunc('month', p_from)::date
      AND s.month <= p_to
      AND (s.day_mask::bigint
           & ((1::bigint << (least(p_to, (s.month + interval '1 month')::date - 1) - s.month + 1))
              - (1::bigint << (greatest(p_from, s.month) - s.month)))) <> 0
), latest AS MATERIALIZED (
    SELECT DISTINCT ON (s.practice_code)
           s.practice_code,
           s.month + (32 - strpos(bit_or(s.day_mask)::bit(32)::text, '1')) AS last_day
    FROM triage.practice_month_summary s
    GROUP BY s.practice_code, s.month
    ORDER BY s.practice_code, s.month DESC
)
SELECT c.practice_code,
       c.name,
       c.status_code,
       map.sub_icb_code,
       map.sub_icb_name,
       map.icb_code,
       map.icb_name,
       coalesce(map.mapping_basis, 'unmapped'),
       l.last_day
FROM triage.current_practice_classes c
LEFT JOIN triage.practice_mapping(coalesce(p_vintage, current_date)) map
       ON map.practice_code = c.practice_code
LEFT JOIN latest l ON l.practice_code = c.practice_code
WHERE c.setting = 'gp_practice'
  AND c.country = 'england'
  AND coalesce(c.status_code, 'A') IN ('A', 'D')
  AND (c.open_date IS NULL OR c.open_date <= p_to)
  AND (c.close_date IS NULL OR c.close_date >= p_from)
  AND c.practice_code NOT IN (SELECT r.practice_code FROM reported r)
$$;

--
-- Name: publication_base(date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.publication_base(p_month date) RETURNS TABLE(practice_code text, practice_name text, national_grouping text, registered_patients integer, list_size_extract_date date, participating boolean, suppliers text, submissions bigint, clinical_submissions bigint, admin_submissions bigint, days_reporting integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
WITH bounds AS (
    SELECT p_month AS first_day, (p_month + interval '1 month' - interval '1 day')::date AS last_day
), loads AS MATERIALIZED (
    SELECT l.kind, l.load_id FROM triage.reference_loads l WHERE l.superseded_at IS NULL
), open_practices AS MATERIALIZED (
    SELECT r.practice_code, r.name, r.national_grouping
    FROM triage.ref_practices r
    JOIN loads l ON l.kind = 'practices' AND l.load_id = r.load_id
    CROSS JOIN bounds b
    WHERE r.setting = 'gp_practice' AND r.country = 'england'
      AND r.status_code IS DISTINCT FROM 'P'
      AND NOT (coalesce(r.status_code, '') = 'C' AND r.close_date IS NULL)
      AND (r.open_date IS NULL OR r.open_date <= b.last_day)
      AND (r.close_date IS NULL OR r.close_date >= b.first_day)
), sizes AS MATERIALIZED (
    -- The latest extract on or before the month's end: one primary-key probe per practice.
    SELECT o.practice_code, sz.registered_patients, sz.extract_date
    FROM open_practices o
    CROSS JOIN bounds b
    JOIN LATERAL (
        SELECT s.registered_patients, s.extract_date
        FROM triage.ref_list_sizes s
        WHERE s.load_id = (SELECT load_id FROM loads WHERE kind = 'list_sizes')
          AND s.practice_code = o.practice_code
          AND s.extract_date <= b.last_day
        ORDER BY s.extract_date DESC
        LIMIT 1
    ) sz ON true
), participation_loaded AS (
    SELECT EXISTS (SELECT 1 FROM loads WHERE kind = 'participation') AS loaded
), participating AS MATERIALIZED (
    SELECT DISTINCT p.practice_code
    FROM triage.ref_participation p
    JOIN loads l ON l.kind = 'participation' AND l.load_id = p.load_id
    CROSS JOIN bounds b
    WHERE p.participating_from <= b.last_day
      AND (p.participating_to IS NULL OR p.participating_to >= b.first_day)
), figures AS MATERIALIZED (
    SELECT s.practice_code,
           string_agg(coalesce(sp.name, s.supplier_id), ', '
                      ORDER BY coalesce(sp.name, s.supplier_id)) AS suppliers,
           sum(s.total_requests)::bigint AS submissions,
           sum(s.clinical_requests)::bigint AS clinical,
           sum(s.admin_requests)::bigint AS admin,
           bit_count(bit_or(s.day_mask)::bit(32))::integer AS days_reporting
    FROM triage.practice_month_summary s
    LEFT JOIN triage.suppliers sp ON sp.supplier_id = s.supplier_id
    WHERE s.month = p_month
    GROUP BY s.practice_code
)
SELECT o.practice_code, o.name, o.national_grouping, sz.registered_patients, sz.extract_date,
       (NOT pl.loaded OR pt.practice_code IS NOT NULL),
       f.suppliers, f.submissions, f.clinical, f.admin, f.days_reporting
FROM open_practices o
JOIN sizes sz ON sz.practice_code = o.practice_code AND sz.registered_patients > 0
CROSS JOIN participation_loaded pl
LEFT JOIN participating pt ON pt.practice_code = o.practice_code
LEFT JOIN figures f ON f.practice_code = o.practice_code
$$;

--
-- Name: publication_months(date, integer); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.publication_months(p_month date, p_months integer) RETURNS SETOF date
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
SELECT m::date
FROM generate_series(p_month - make_interval(months => p_months - 1), p_month,
                     interval '1 month') AS m
WHERE m::date = p_month
   OR EXISTS (SELECT 1 FROM triage.practice_month_summary s WHERE s.month = m::date)
ORDER BY m
$$;

--
-- Name: publication_practices(date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.publication_practices(p_month date) RETURNS TABLE(practice_code text, practice_name text, region_code text, region_name text, pcn_code text, pcn_name text, sub_icb_code text, sub_icb_name text, icb_code text, icb_name text, mapping_basis text, registered_patients integer, list_size_extract_date date, participating boolean, suppliers text, submissions bigint, clinical_submissions bigint, admin_submissions bigint, days_reporting integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
WITH last AS (
    SELECT (p_month + interval '1 month' - interval '1 day')::date AS last_day,
           (SELECT l.load_id FROM triage.reference_loads l
            WHERE l.kind = 'pcns' AND l.superseded_at IS NULL) AS pcn_load
), base AS MATERIALIZED (
    SELECT * FROM triage.publication_base(p_month)
), mapping AS MATERIALIZED (
    SELECT * FROM triage.practice_mapping((SELECT last_day FROM last))
)
SELECT b.practice_code, b.practice_name, coalesce(pc.region_code, b.national_grouping),
       pc.region_name, pc.pcn_code, pc.pcn_name, m.sub_icb_code, m.sub_icb_name, m.icb_code,
       m.icb_name, coalesce(m.mapping_basis, 'unmapped'), b.registered_patients,
       b.list_size_extract_date, b.participating, b.suppliers, b.submissions,
       b.clinical_submissions, b.admin_submissions, b.days_reporting
FROM base b
CROSS JOIN last t
LEFT JOIN LATERAL (
    SELECT p.pcn_code, p.pcn_name, p.region_code, p.region_name
    FROM triage.ref_pcns p
    WHERE p.load_id = t.pcn_load AND p.practice_code = b.practice_code
    ORDER BY (p.extract_date <= t.last_day) DESC,
             CASE WHEN p.extract_date <= t.last_day THEN p.extract_date END DESC,
             p.extract_date
    LIMIT 1
) pc ON true
LEFT JOIN mapping m ON m.practice_code = b.practice_code
$$;

--
-- Name: publication_suppliers(date, timestamp with time zone); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.publication_suppliers(p_month date, p_since timestamp with time zone) RETURNS TABLE(supplier_id text, supplier_name text, practices_reporting integer, days_with_data integer, practice_days integer, first_month date, rostered_practices integer, rostered_reporting integer, restated_practice_days integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
WITH bounds AS (
    SELECT p_month AS first_day, (p_month + interval '1 month' - interval '1 day')::date AS last_day
), month_rows AS (
    SELECT s.supplier_id, s.practice_code, s.day_mask, s.days
    FROM triage.practice_month_summary s WHERE s.month = p_month
), rostered AS (
    SELECT r.supplier_id, r.practice_code
    FROM triage.current_roster r CROSS JOIN bounds b
    WHERE r.installed_on <= b.last_day AND (r.removed_on IS NULL OR r.removed_on >= b.first_day)
    GROUP BY r.supplier_id, r.practice_code
), known AS (
    SELECT sp.supplier_id FROM triage.suppliers sp WHERE sp.active
    UNION SELECT mr.supplier_id FROM month_rows mr
    UNION SELECT ro.supplier_id FROM rostered ro
)
SELECT k.supplier_id,
       coalesce(sp.name, k.supplier_id),
       (SELECT count(*) FROM month_rows mr WHERE mr.supplier_id = k.supplier_id)::integer,
       (SELECT bit_count(bit_or(mr.day_mask)::bit(32)) FROM month_rows mr
        WHERE mr.supplier_id = k.supplier_id)::integer,
       (SELECT coalesce(sum(mr.days), 0) FROM month_rows mr
        WHERE mr.supplier_id = k.supplier_id)::integer,
       (SELECT min(s.month) FROM triage.practice_month_summary s
        WHERE s.supplier_id = k.supplier_id),
       (SELECT count(*) FROM rostered ro WHERE ro.supplier_id = k.supplier_id)::integer,
       (SELECT count(*) FROM rostered ro JOIN month_rows mr
          ON mr.supplier_id = ro.supplier_id AND mr.practice_code = ro.practice_code
        WHERE ro.supplier_id = k.supplier_id)::integer,
       CASE WHEN p_since IS NOT NULL THEN
           (SELECT count(DISTINCT (v.practice_code, v.activity_date))
            FROM triage.daily_request_revisions v CROSS JOIN bounds b
            WHERE v.supplier_id = k.supplier_id AND v.revision > 1
              AND v.ingested_at > p_since
              AND v.activity_date BETWEEN b.first_day AND b.last_day)::integer
       END
FROM known k
LEFT JOIN triage.suppliers sp ON sp.supplier_id = k.supplier_id
$$;

--
-- Name: publication_time_bands(date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.publication_time_bands(p_month date) RETURNS TABLE(activity_date date, requests_00_06 bigint, requests_06_08 bigint, requests_08_10 bigint, requests_10_12 bigint, requests_12_14 bigint, requests_14_16 bigint, requests_16_18 bigint, requests_18_24 bigint, requests_time_unknown bigint, without_times bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
WITH included AS MATERIALIZED (
    SELECT p.practice_code FROM triage.publication_base(p_month) p WHERE p.participating
)
SELECT d.activity_date,
       coalesce(sum(d.requests_00_06), 0)::bigint, coalesce(sum(d.requests_06_08), 0)::bigint,
       coalesce(sum(d.requests_08_10), 0)::bigint, coalesce(sum(d.requests_10_12), 0)::bigint,
       coalesce(sum(d.requests_12_14), 0)::bigint, coalesce(sum(d.requests_14_16), 0)::bigint,
       coalesce(sum(d.requests_16_18), 0)::bigint, coalesce(sum(d.requests_18_24), 0)::bigint,
       coalesce(sum(d.requests_time_unknown), 0)::bigint,
       coalesce(sum(d.total_requests) FILTER (WHERE d.requests_00_06 IS NULL), 0)::bigint
FROM triage.daily_requests d
JOIN included i ON i.practice_code = d.practice_code
WHERE d.activity_date >= p_month
  AND d.activity_date < (p_month + interval '1 month')::date
GROUP BY d.activity_date
$$;

--
-- Name: rejected_since(timestamp with time zone); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.rejected_since(p_since timestamp with time zone) RETURNS TABLE(supplier_id text, reason text, n integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
SELECT e.supplier_id, e.reason, count(*)::integer
FROM triage.rejected_events e
WHERE e.received_at > p_since
GROUP BY e.supplier_id, e.reason
$$;

--
-- Name: stored_since(timestamp with time zone, text[]); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.stored_since(p_since timestamp with time zone, p_suppliers text[]) RETURNS TABLE(supplier_id text, n integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
WITH bound AS (
    SELECT date_trunc('hour', p_since, 'UTC') + interval '1 hour' AS next_hour
), counted AS (
    SELECT h.supplier_id, h.revisions::bigint AS n
    FROM triage.supplier_hourly_stored h, bound
    WHERE h.supplier_id = ANY(p_suppliers) AND h.hour >= bound.next_hour
    UNION ALL
    SELECT r.supplier_id, 1
    FROM triage.daily_request_revisions r, bound
    WHERE r.supplier_id = ANY(p_suppliers)
      AND r.ingested_at > p_since AND r.ingested_at < bound.next_hour
)
SELECT c.supplier_id, sum(c.n)::integer FROM counted c GROUP BY c.supplier_id
$$;

--
-- Name: sub_icb_daily(date, date, date); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.sub_icb_daily(p_from date, p_to date, p_vintage date DEFAULT NULL::date) RETURNS TABLE(activity_date date, sub_icb_code text, sub_icb_name text, icb_code text, icb_name text, practices integer, total_requests bigint, clinical_requests bigint, admin_requests bigint, other_requests bigint, practices_with_list_size integer, registered_patients bigint, requests_per_1000 numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

--
-- Name: supplier_day_practices_deleted(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.supplier_day_practices_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT o.supplier_id, o.activity_date, count(*)::integer AS n
        FROM day_rows o
        GROUP BY o.supplier_id, o.activity_date
        ORDER BY o.supplier_id, o.activity_date
    LOOP
        UPDATE triage.supplier_day_practices s SET practices = s.practices - g.n
        WHERE s.supplier_id = g.supplier_id AND s.activity_date = g.activity_date
          AND s.practices > g.n;
        IF NOT FOUND THEN
            DELETE FROM triage.supplier_day_practices s
            WHERE s.supplier_id = g.supplier_id AND s.activity_date = g.activity_date;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

--
-- Name: supplier_day_practices_inserted(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.supplier_day_practices_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    INSERT INTO triage.supplier_day_practices AS s (supplier_id, activity_date, practices)
    SELECT n.supplier_id, n.activity_date, count(*)
    FROM day_rows n
    GROUP BY n.supplier_id, n.activity_date
    ORDER BY n.supplier_id, n.activity_date
    ON CONFLICT (supplier_id, activity_date) DO UPDATE
        SET practices = s.practices + EXCLUDED.practices;
    RETURN NULL;
END
$$;

--
-- Name: supplier_day_practices_truncated(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.supplier_day_practices_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    DELETE FROM triage.supplier_day_practices;
    RETURN NULL;
END
$$;

--
-- Name: supplier_freshness_at(timestamp with time zone); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.supplier_freshness_at(ts timestamp with time zone) RETURNS TABLE(supplier_id text, last_event_at timestamp with time zone, latest_activity_date date, status text, name text, warn_after interval, error_after interval)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
SELECT s.supplier_id,
       a.last_event_at,
       a.latest_activity_date,
       triage.freshness_status(a.last_event_at, s.warn_after, s.error_after, ts),
       s.name,
       s.warn_after,
       s.error_after
FROM triage.suppliers s
LEFT JOIN triage.supplier_activity a ON a.supplier_id = s.supplier_id
WHERE s.active
ORDER BY s.supplier_id
$$;

--
-- Name: supplier_hourly_stored_deleted(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.supplier_hourly_stored_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT o.supplier_id, date_trunc('hour', o.ingested_at, 'UTC') AS hour,
               count(*)::integer AS n
        FROM revision_rows o
        GROUP BY 1, 2
        ORDER BY 1, 2
    LOOP
        UPDATE triage.supplier_hourly_stored s SET revisions = s.revisions - g.n
        WHERE s.supplier_id = g.supplier_id AND s.hour = g.hour AND s.revisions > g.n;
        IF NOT FOUND THEN
            DELETE FROM triage.supplier_hourly_stored s
            WHERE s.supplier_id = g.supplier_id AND s.hour = g.hour;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

--
-- Name: supplier_hourly_stored_inserted(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.supplier_hourly_stored_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    INSERT INTO triage.supplier_hourly_stored AS s (supplier_id, hour, revisions)
    SELECT n.supplier_id, date_trunc('hour', n.ingested_at, 'UTC'), count(*)
    FROM revision_rows n
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (supplier_id, hour) DO UPDATE SET revisions = s.revisions + EXCLUDED.revisions;
    RETURN NULL;
END
$$;

--
-- Name: supplier_hourly_stored_truncated(); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.supplier_hourly_stored_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    DELETE FROM triage.supplier_hourly_stored;
    RETURN NULL;
END
$$;

--
-- Name: supplier_volume_assessment(text, date, integer, integer, numeric, numeric); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.supplier_volume_assessment(p_supplier text, p_day date, p_weeks integer DEFAULT 6, p_min_weeks integer DEFAULT 4, p_z numeric DEFAULT 3.5, p_min_change numeric DEFAULT 0.05) RETURNS TABLE(supplier_id text, activity_date date, total_requests bigint, weeks integer, baseline_median numeric, baseline_mad numeric, change numeric, robust_z numeric, flagged boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
WITH totals AS (
    SELECT w, (SELECT sum(d.total_requests) FROM triage.daily_requests d
               WHERE d.supplier_id = p_supplier AND d.activity_date = p_day - 7 * w) AS total
    FROM generate_series(0, p_weeks) AS w
)
SELECT p_supplier, p_day, coalesce((SELECT total FROM totals WHERE w = 0), 0)::bigint, v.*
FROM triage.volume_verdict(
    coalesce((SELECT total FROM totals WHERE w = 0), 0),
    ARRAY(SELECT total FROM totals WHERE w > 0 AND total IS NOT NULL),
    p_min_weeks, p_z, p_min_change, 0) AS v
$$;

--
-- Name: volume_verdict(numeric, numeric[], integer, numeric, numeric, numeric); Type: FUNCTION; Schema: triage; Owner: -
--

CREATE FUNCTION triage.volume_verdict(p_total numeric, p_history numeric[], p_min_weeks integer, p_z numeric, p_min_change numeric, p_min_abs numeric) RETURNS TABLE(weeks integer, baseline_median numeric, baseline_mad numeric, change numeric, robust_z numeric, flagged boolean)
    LANGUAGE sql IMMUTABLE
    AS $$
WITH h AS (SELECT unnest(p_history) AS v),
     s AS (SELECT count(*)::integer AS n,
                  (percentile_cont(0.5) WITHIN GROUP (ORDER BY v))::numeric AS med FROM h),
     m AS (SELECT (percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(h.v - s.med)))::numeric AS mad
           FROM h, s),
     n AS (SELECT greatest(1.4826 * m.mad, sqrt(greatest(s.med, 0))) AS noise FROM s, m)
SELECT s.n,
       s.med,
       m.mad,
       CASE WHEN s.med > 0 THEN round((p_total - s.med) / s.med, 4) END,
       CASE WHEN n.noise > 0 THEN round((p_total - s.med) / n.noise, 2) END,
       coalesce(s.n >= p_min_weeks
                AND abs(p_total - s.med) > greatest(p_z * n.noise, p_min_change * s.med,
                                                    p_min_abs), false)
FROM s, m, n
$$;

--
-- Name: consumer_offsets; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.consumer_offsets (
    group_id text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: ref_appointment_practices; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_appointment_practices (
    load_id bigint NOT NULL,
    practice_code text NOT NULL,
    gp_name text NOT NULL,
    pcn_code text,
    sub_icb_location_code text
);

--
-- Name: reference_loads; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.reference_loads (
    load_id bigint NOT NULL,
    kind text NOT NULL,
    source_name text NOT NULL,
    content_sha256 text NOT NULL,
    row_count integer NOT NULL,
    loaded_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    loaded_by text DEFAULT CURRENT_USER NOT NULL,
    superseded_at timestamp with time zone,
    superseded_by bigint,
    month date,
    CONSTRAINT reference_loads_kind_check CHECK ((kind = ANY (ARRAY['practices'::text, 'memberships'::text, 'sub_icbs'::text, 'list_sizes'::text, 'participation'::text, 'roster'::text, 'pcns'::text, 'appointments'::text]))),
    CONSTRAINT reference_loads_month_check CHECK ((((kind = 'appointments'::text) = (month IS NOT NULL)) AND ((month IS NULL) OR (month = (date_trunc('month'::text, (month)::timestamp with time zone))::date)))),
    CONSTRAINT reference_loads_row_count_check CHECK ((row_count >= 0))
);

--
-- Name: current_appointment_practices; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_appointment_practices AS
 SELECT l.month,
    p.practice_code,
    p.gp_name,
    p.pcn_code,
    p.sub_icb_location_code,
    p.load_id
   FROM (triage.ref_appointment_practices p
     JOIN triage.reference_loads l ON (((l.load_id = p.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: ref_appointments; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_appointments (
    load_id bigint NOT NULL,
    practice_code text NOT NULL,
    appt_mode text NOT NULL,
    appt_status text NOT NULL,
    appointments bigint NOT NULL,
    CONSTRAINT ref_appointments_appointments_check CHECK ((appointments >= 0)),
    CONSTRAINT ref_appointments_appt_mode_check CHECK ((appt_mode = ANY (ARRAY['Face-to-Face'::text, 'Telephone'::text, 'Video Conference/Online'::text, 'Home Visit'::text, 'Unknown'::text]))),
    CONSTRAINT ref_appointments_appt_status_check CHECK ((appt_status = ANY (ARRAY['Attended'::text, 'DNA'::text, 'Unknown'::text])))
);

--
-- Name: current_appointments; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_appointments AS
 SELECT l.month,
    a.practice_code,
    a.appt_mode,
    a.appt_status,
    a.appointments,
    a.load_id
   FROM (triage.ref_appointments a
     JOIN triage.reference_loads l ON (((l.load_id = a.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: ref_list_sizes; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_list_sizes (
    load_id bigint NOT NULL,
    practice_code text NOT NULL,
    extract_date date NOT NULL,
    registered_patients integer NOT NULL,
    CONSTRAINT ref_list_sizes_registered_patients_check CHECK ((registered_patients >= 0))
);

--
-- Name: current_list_sizes; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_list_sizes AS
 SELECT s.practice_code,
    s.extract_date,
    s.registered_patients,
    lead(s.extract_date) OVER (PARTITION BY s.practice_code ORDER BY s.extract_date) AS next_extract_date,
    s.load_id
   FROM (triage.ref_list_sizes s
     JOIN triage.reference_loads l ON (((l.load_id = s.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: ref_memberships; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_memberships (
    load_id bigint NOT NULL,
    practice_code text NOT NULL,
    commissioner_code text NOT NULL,
    effective_from date NOT NULL,
    effective_to date,
    CONSTRAINT ref_memberships_check CHECK (((effective_to IS NULL) OR (effective_to >= effective_from)))
);

--
-- Name: current_memberships; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_memberships AS
 SELECT m.practice_code,
    m.commissioner_code,
    m.effective_from,
    m.effective_to,
    m.load_id
   FROM (triage.ref_memberships m
     JOIN triage.reference_loads l ON (((l.load_id = m.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: ref_participation; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_participation (
    load_id bigint NOT NULL,
    practice_code text NOT NULL,
    participating_from date NOT NULL,
    participating_to date,
    CONSTRAINT ref_participation_check CHECK (((participating_to IS NULL) OR (participating_to >= participating_from)))
);

--
-- Name: current_participation; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_participation AS
 SELECT p.practice_code,
    p.participating_from,
    p.participating_to,
    p.load_id
   FROM (triage.ref_participation p
     JOIN triage.reference_loads l ON (((l.load_id = p.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: ref_pcns; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_pcns (
    load_id bigint NOT NULL,
    practice_code text NOT NULL,
    extract_date date NOT NULL,
    pcn_code text,
    pcn_name text,
    region_code text,
    region_name text
);

--
-- Name: current_pcns; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_pcns AS
 SELECT p.practice_code,
    p.extract_date,
    p.pcn_code,
    p.pcn_name,
    p.region_code,
    p.region_name,
    p.load_id
   FROM (triage.ref_pcns p
     JOIN triage.reference_loads l ON (((l.load_id = p.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: ref_practices; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_practices (
    load_id bigint NOT NULL,
    practice_code text NOT NULL,
    name text NOT NULL,
    national_grouping text,
    high_level_health_geography text,
    address_line_1 text,
    address_line_2 text,
    address_line_3 text,
    address_line_4 text,
    address_line_5 text,
    postcode text,
    open_date date,
    close_date date,
    status_code text,
    sub_type_code text,
    commissioner_code text,
    join_date date,
    left_date date,
    telephone text,
    amended_record_indicator text,
    provider_purchaser_code text,
    prescribing_setting smallint,
    role_codes text,
    country text,
    setting text
);

--
-- Name: current_practice_classes; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_practice_classes AS
 SELECT p.practice_code,
    p.name,
    p.status_code,
    p.country,
    p.setting,
    p.prescribing_setting,
    p.role_codes,
    p.commissioner_code,
    p.open_date,
    p.close_date,
    p.load_id
   FROM (triage.ref_practices p
     JOIN triage.reference_loads l ON (((l.load_id = p.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: current_practices; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_practices AS
 SELECT p.practice_code,
    p.name,
    p.national_grouping,
    p.high_level_health_geography,
    p.address_line_1,
    p.address_line_2,
    p.address_line_3,
    p.address_line_4,
    p.address_line_5,
    p.postcode,
    p.open_date,
    p.close_date,
    p.status_code,
    p.sub_type_code,
    p.commissioner_code,
    p.join_date,
    p.left_date,
    p.telephone,
    p.amended_record_indicator,
    p.provider_purchaser_code,
    p.prescribing_setting,
    p.load_id
   FROM (triage.ref_practices p
     JOIN triage.reference_loads l ON (((l.load_id = p.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: ref_roster; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_roster (
    load_id bigint NOT NULL,
    supplier_id text NOT NULL,
    practice_code text NOT NULL,
    installed_on date NOT NULL,
    removed_on date,
    CONSTRAINT ref_roster_check CHECK (((removed_on IS NULL) OR (removed_on >= installed_on)))
);

--
-- Name: current_roster; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_roster AS
 SELECT r.supplier_id,
    r.practice_code,
    r.installed_on,
    r.removed_on,
    r.load_id
   FROM (triage.ref_roster r
     JOIN triage.reference_loads l ON (((l.load_id = r.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: ref_sub_icbs; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.ref_sub_icbs (
    load_id bigint NOT NULL,
    sub_icb_code text NOT NULL,
    sub_icb_name text,
    icb_code text NOT NULL,
    icb_name text,
    effective_from date NOT NULL,
    effective_to date,
    CONSTRAINT ref_sub_icbs_check CHECK (((effective_to IS NULL) OR (effective_to >= effective_from)))
);

--
-- Name: current_sub_icbs; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.current_sub_icbs AS
 SELECT s.sub_icb_code,
    s.sub_icb_name,
    s.icb_code,
    s.icb_name,
    s.effective_from,
    s.effective_to,
    s.load_id
   FROM (triage.ref_sub_icbs s
     JOIN triage.reference_loads l ON (((l.load_id = s.load_id) AND (l.superseded_at IS NULL))));

--
-- Name: daily_request_revisions; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.daily_request_revisions (
    supplier_id text NOT NULL,
    practice_code text NOT NULL,
    activity_date date NOT NULL,
    revision integer NOT NULL,
    total_requests integer NOT NULL,
    clinical_requests integer,
    admin_requests integer,
    other_requests integer,
    event_id uuid NOT NULL,
    generated_at timestamp with time zone NOT NULL,
    ingested_at timestamp with time zone DEFAULT now() NOT NULL,
    source_topic text NOT NULL,
    source_partition integer NOT NULL,
    source_offset bigint NOT NULL,
    patient_submitted_requests integer,
    staff_submitted_requests integer,
    requests_00_06 integer,
    requests_06_08 integer,
    requests_08_10 integer,
    requests_10_12 integer,
    requests_12_14 integer,
    requests_14_16 integer,
    requests_16_18 integer,
    requests_18_24 integer,
    requests_time_unknown integer,
    source_key bytea,
    CONSTRAINT daily_request_revisions_practice_code_check CHECK ((practice_code ~ '^[A-Z][0-9]{5}$'::text))
)
PARTITION BY RANGE (activity_date);

--
-- Name: daily_request_revisions_default; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.daily_request_revisions_default (
    supplier_id text CONSTRAINT daily_request_revisions_supplier_id_not_null NOT NULL,
    practice_code text CONSTRAINT daily_request_revisions_practice_code_not_null NOT NULL,
    activity_date date CONSTRAINT daily_request_revisions_activity_date_not_null NOT NULL,
    revision integer CONSTRAINT daily_request_revisions_revision_not_null NOT NULL,
    total_requests integer CONSTRAINT daily_request_revisions_total_requests_not_null NOT NULL,
    clinical_requests integer,
    admin_requests integer,
    other_requests integer,
    event_id uuid CONSTRAINT daily_request_revisions_event_id_not_null NOT NULL,
    generated_at timestamp with time zone CONSTRAINT daily_request_revisions_generated_at_not_null NOT NULL,
    ingested_at timestamp with time zone DEFAULT now() CONSTRAINT daily_request_revisions_ingested_at_not_null NOT NULL,
    source_topic text CONSTRAINT daily_request_revisions_source_topic_not_null NOT NULL,
    source_partition integer CONSTRAINT daily_request_revisions_source_partition_not_null NOT NULL,
    source_offset bigint CONSTRAINT daily_request_revisions_source_offset_not_null NOT NULL,
    patient_submitted_requests integer,
    staff_submitted_requests integer,
    requests_00_06 integer,
    requests_06_08 integer,
    requests_08_10 integer,
    requests_10_12 integer,
    requests_12_14 integer,
    requests_14_16 integer,
    requests_16_18 integer,
    requests_18_24 integer,
    requests_time_unknown integer,
    source_key bytea,
    CONSTRAINT daily_request_revisions_practice_code_check CHECK ((practice_code ~ '^[A-Z][0-9]{5}$'::text)),
    CONSTRAINT daily_request_revisions_source_key_bounded CHECK ((octet_length(source_key) <= 1024))
);

--
-- Name: daily_requests; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.daily_requests (
    supplier_id text NOT NULL,
    practice_code text NOT NULL,
    activity_date date NOT NULL,
    revision integer NOT NULL,
    total_requests integer NOT NULL,
    clinical_requests integer,
    admin_requests integer,
    other_requests integer,
    event_id uuid NOT NULL,
    generated_at timestamp with time zone NOT NULL,
    ingested_at timestamp with time zone DEFAULT now() NOT NULL,
    patient_submitted_requests integer,
    staff_submitted_requests integer,
    requests_00_06 integer,
    requests_06_08 integer,
    requests_08_10 integer,
    requests_10_12 integer,
    requests_12_14 integer,
    requests_14_16 integer,
    requests_16_18 integer,
    requests_18_24 integer,
    requests_time_unknown integer,
    CONSTRAINT daily_requests_practice_code_check CHECK ((practice_code ~ '^[A-Z][0-9]{5}$'::text))
);

--
-- Name: dlq_replays; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.dlq_replays (
    replay_id bigint NOT NULL,
    rejected_id bigint NOT NULL,
    replayed_at timestamp with time zone DEFAULT now() NOT NULL,
    target_topic text NOT NULL,
    target_partition integer NOT NULL,
    target_offset bigint NOT NULL
);

--
-- Name: rejected_events; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.rejected_events (
    rejected_id bigint NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    source_topic text NOT NULL,
    source_partition integer NOT NULL,
    source_offset bigint NOT NULL,
    key bytea,
    value bytea,
    supplier_id text,
    reason text NOT NULL,
    detail text NOT NULL,
    bytes_purged_at timestamp with time zone,
    event_id text,
    practice_code text,
    activity_date date,
    revision integer,
    CONSTRAINT rejected_events_reason_check CHECK ((reason = ANY (ARRAY['undecodable'::text, 'unknown_schema'::text, 'unknown_supplier'::text, 'supplier_mismatch'::text, 'invalid_event_id'::text, 'invalid_practice_code'::text, 'practice_not_participating'::text, 'activity_date_out_of_range'::text, 'negative_count'::text, 'inconsistent_breakdown'::text, 'implausible_count'::text, 'invalid_revision'::text, 'conflicting_revision'::text])))
);

--
-- Name: dlq_replay_outcomes; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.dlq_replay_outcomes AS
 SELECT p.replay_id,
    p.rejected_id,
    e.reason AS original_reason,
    e.supplier_id,
    p.replayed_at,
    p.target_topic,
    p.target_partition,
    p.target_offset,
        CASE
            WHEN (v.source_offset IS NOT NULL) THEN 'stored'::text
            WHEN (again.rejected_id IS NOT NULL) THEN 'rejected'::text
            ELSE 'pending_or_duplicate'::text
        END AS outcome,
    again.reason AS new_reason,
    again.detail AS new_detail
   FROM (((triage.dlq_replays p
     JOIN triage.rejected_events e USING (rejected_id))
     LEFT JOIN triage.daily_request_revisions v ON (((v.source_topic = p.target_topic) AND (v.source_partition = p.target_partition) AND (v.source_offset = p.target_offset))))
     LEFT JOIN triage.rejected_events again ON (((again.source_topic = p.target_topic) AND (again.source_partition = p.target_partition) AND (again.source_offset = p.target_offset))));

--
-- Name: dlq_replays_replay_id_seq; Type: SEQUENCE; Schema: triage; Owner: -
--

ALTER TABLE triage.dlq_replays ALTER COLUMN replay_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME triage.dlq_replays_replay_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: outcome_outbox_rows; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.outcome_outbox_rows (
    outbox_id bigint CONSTRAINT outcome_outbox_outbox_id_not_null NOT NULL,
    supplier_id text CONSTRAINT outcome_outbox_supplier_id_not_null NOT NULL,
    source_topic text CONSTRAINT outcome_outbox_source_topic_not_null NOT NULL,
    source_partition integer CONSTRAINT outcome_outbox_source_partition_not_null NOT NULL,
    source_offset bigint CONSTRAINT outcome_outbox_source_offset_not_null NOT NULL,
    key bytea,
    event_id text,
    practice_code text,
    activity_date date,
    revision integer,
    outcome text CONSTRAINT outcome_outbox_outcome_not_null NOT NULL,
    reason text,
    detail text,
    processed_at timestamp with time zone DEFAULT now() CONSTRAINT outcome_outbox_processed_at_not_null NOT NULL,
    parked_at timestamp with time zone,
    parked_reason text,
    CONSTRAINT outcome_outbox_rows_key_bounded CHECK ((octet_length(key) <= 1024)),
    CONSTRAINT outcome_outbox_rows_outcome_check CHECK ((outcome = ANY (ARRAY['accepted'::text, 'superseded'::text, 'duplicate'::text, 'rejected'::text]))),
    CONSTRAINT outcome_outbox_rows_parked_reason_check CHECK ((parked_reason = ANY (ARRAY['too_large'::text, 'stuck'::text])))
);

--
-- Name: outcome_progress; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.outcome_progress (
    source_topic text NOT NULL,
    source_partition integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: outcome_outbox; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.outcome_outbox AS
 SELECT o.outbox_id,
    o.supplier_id,
    o.source_topic,
    o.source_partition,
    o.source_offset,
    o.key,
    o.event_id,
    o.practice_code,
    o.activity_date,
    o.revision,
    o.outcome,
    o.reason,
    o.detail,
    o.processed_at,
    o.parked_at,
    o.parked_reason
   FROM triage.outcome_outbox_rows o
UNION ALL
 SELECT NULL::bigint AS outbox_id,
    r.supplier_id,
    p.source_topic,
    p.source_partition,
    r.source_offset,
    r.source_key AS key,
    (r.event_id)::text AS event_id,
    r.practice_code,
    r.activity_date,
    r.revision,
    'accepted'::text AS outcome,
    NULL::text AS reason,
    NULL::text AS detail,
    r.ingested_at AS processed_at,
    NULL::timestamp with time zone AS parked_at,
    NULL::text AS parked_reason
   FROM (triage.outcome_progress p
     CROSS JOIN LATERAL ( SELECT r_1.supplier_id,
            r_1.source_offset,
            r_1.source_key,
            r_1.event_id,
            r_1.practice_code,
            r_1.activity_date,
            r_1.revision,
            r_1.ingested_at
           FROM triage.daily_request_revisions r_1
          WHERE ((r_1.source_topic = p.source_topic) AND (r_1.source_partition = p.source_partition) AND (r_1.source_offset >= p.next_offset))
         OFFSET 0) r)
  WHERE (( SELECT 1
           FROM triage.outcome_outbox_rows o
          WHERE ((o.source_topic = p.source_topic) AND (o.source_partition = p.source_partition) AND (o.source_offset = r.source_offset))
         LIMIT 1) IS NULL)
UNION ALL
 SELECT NULL::bigint AS outbox_id,
    j.supplier_id,
    p.source_topic,
    p.source_partition,
    j.source_offset,
        CASE
            WHEN (octet_length(j.key) <= 1024) THEN j.key
            ELSE NULL::bytea
        END AS key,
    j.event_id,
    j.practice_code,
    j.activity_date,
    j.revision,
    'rejected'::text AS outcome,
    j.reason,
    j.detail,
    j.received_at AS processed_at,
    NULL::timestamp with time zone AS parked_at,
    NULL::text AS parked_reason
   FROM (triage.outcome_progress p
     CROSS JOIN LATERAL ( SELECT j_1.supplier_id,
            j_1.source_offset,
            j_1.key,
            j_1.event_id,
            j_1.practice_code,
            j_1.activity_date,
            j_1.revision,
            j_1.reason,
            j_1.detail,
            j_1.received_at
           FROM triage.rejected_events j_1
          WHERE ((j_1.source_topic = p.source_topic) AND (j_1.source_partition = p.source_partition) AND (j_1.source_offset >= p.next_offset) AND (j_1.supplier_id IS NOT NULL))
         OFFSET 0) j);

--
-- Name: VIEW outcome_outbox; Type: COMMENT; Schema: triage; Owner: -
--

COMMENT ON VIEW triage.outcome_outbox IS 'Submission outcomes not yet acknowledged on the feedback topics: the outbox rows (parked ones included) and the outcomes past each source partition''s mark in outcome_progress.';

--
-- Name: outcome_outbox_rows_outbox_id_seq; Type: SEQUENCE; Schema: triage; Owner: -
--

ALTER TABLE triage.outcome_outbox_rows ALTER COLUMN outbox_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME triage.outcome_outbox_rows_outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: practice_codes_reported; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.practice_codes_reported (
    supplier_id text NOT NULL,
    practice_code text NOT NULL
);

--
-- Name: supplier_activity; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.supplier_activity (
    supplier_id text NOT NULL,
    last_event_at timestamp with time zone NOT NULL,
    latest_activity_date date NOT NULL
);

--
-- Name: suppliers; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.suppliers (
    supplier_id text NOT NULL,
    name text NOT NULL,
    warn_after interval DEFAULT '26:00:00'::interval NOT NULL,
    error_after interval DEFAULT '50:00:00'::interval NOT NULL,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT suppliers_check CHECK ((error_after >= warn_after)),
    CONSTRAINT suppliers_supplier_id_check CHECK ((supplier_id ~ '^[a-z0-9][a-z0-9-]{1,39}$'::text))
);

--
-- Name: practice_volume_anomalies; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.practice_volume_anomalies AS
 SELECT v.supplier_id,
    v.practice_code,
    v.activity_date,
    v.total_requests,
    v.weeks,
    v.baseline_median,
    v.baseline_mad,
    v.change,
    v.robust_z,
    v.flagged,
        CASE
            WHEN ((v.total_requests)::numeric < v.baseline_median) THEN 'drop'::text
            ELSE 'spike'::text
        END AS direction
   FROM ((triage.supplier_activity a
     JOIN triage.suppliers s ON (((s.supplier_id = a.supplier_id) AND s.active)))
     CROSS JOIN LATERAL triage.practice_volume_assessment(a.supplier_id, a.latest_activity_date) v(supplier_id, practice_code, activity_date, total_requests, weeks, baseline_median, baseline_mad, change, robust_z, flagged))
  WHERE v.flagged;

--
-- Name: record_key_mismatches; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.record_key_mismatches (
    supplier_id text NOT NULL,
    activity_date date NOT NULL,
    mismatches bigint NOT NULL,
    first_seen_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone NOT NULL,
    CONSTRAINT record_key_mismatches_mismatches_check CHECK ((mismatches > 0))
);

--
-- Name: TABLE record_key_mismatches; Type: COMMENT; Schema: triage; Owner: -
--

COMMENT ON TABLE triage.record_key_mismatches IS 'Valid records whose Kafka key disagreed with the body''s practice_code:activity_date (stored by their body; keys are advisory), per supplier and activity date.';

--
-- Name: reference_load_history; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.reference_load_history AS
 SELECT load_id,
    kind,
    source_name,
    content_sha256,
    row_count,
    loaded_at,
    loaded_by,
    superseded_at,
    superseded_by,
    (superseded_at IS NULL) AS is_current
   FROM triage.reference_loads;

--
-- Name: reference_loads_load_id_seq; Type: SEQUENCE; Schema: triage; Owner: -
--

ALTER TABLE triage.reference_loads ALTER COLUMN load_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME triage.reference_loads_load_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: rejected_events_rejected_id_seq; Type: SEQUENCE; Schema: triage; Owner: -
--

ALTER TABLE triage.rejected_events ALTER COLUMN rejected_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME triage.rejected_events_rejected_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: rejections_daily; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.rejections_daily AS
 SELECT supplier_id,
    reason,
    ((received_at AT TIME ZONE 'UTC'::text))::date AS received_date,
    (count(*))::integer AS rejected
   FROM triage.rejected_events r
  GROUP BY supplier_id, reason, (((received_at AT TIME ZONE 'UTC'::text))::date);

--
-- Name: requests_by_supplier; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.requests_by_supplier AS
 SELECT supplier_id,
    practice_code,
    activity_date,
    revision,
    total_requests,
    clinical_requests,
    admin_requests,
    other_requests,
    patient_submitted_requests,
    staff_submitted_requests,
    ingested_at,
    requests_00_06,
    requests_06_08,
    requests_08_10,
    requests_10_12,
    requests_12_14,
    requests_14_16,
    requests_16_18,
    requests_18_24,
    requests_time_unknown
   FROM triage.daily_requests d;

--
-- Name: restatement_history; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.restatement_history AS
 SELECT supplier_id,
    practice_code,
    activity_date,
    revision,
    total_requests,
    clinical_requests,
    admin_requests,
    other_requests,
    (total_requests - lag(total_requests) OVER w) AS total_change,
    generated_at,
    ingested_at AS arrived_at,
    (ingested_at - lag(ingested_at) OVER w) AS after_previous,
    (revision = max(revision) OVER (PARTITION BY supplier_id, practice_code, activity_date)) AS is_current,
    requests_00_06,
    requests_06_08,
    requests_08_10,
    requests_10_12,
    requests_12_14,
    requests_14_16,
    requests_16_18,
    requests_18_24,
    requests_time_unknown
   FROM triage.daily_request_revisions r
  WHERE (EXISTS ( SELECT 1
           FROM triage.daily_request_revisions o
          WHERE ((o.supplier_id = r.supplier_id) AND (o.practice_code = r.practice_code) AND (o.activity_date = r.activity_date) AND (o.revision <> r.revision))))
  WINDOW w AS (PARTITION BY supplier_id, practice_code, activity_date ORDER BY revision);

--
-- Name: schema_migrations; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: supplier_daily_totals; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.supplier_daily_totals AS
 SELECT supplier_id,
    activity_date,
    (count(*))::integer AS practices,
    sum(total_requests) AS total_requests,
    (count(*) FILTER (WHERE (revision > 1)))::integer AS restated_practices
   FROM triage.daily_requests d
  GROUP BY supplier_id, activity_date;

--
-- Name: supplier_day_practices; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.supplier_day_practices (
    supplier_id text NOT NULL,
    activity_date date NOT NULL,
    practices integer NOT NULL,
    CONSTRAINT supplier_day_practices_practices_check CHECK ((practices > 0))
);

--
-- Name: supplier_freshness; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.supplier_freshness AS
 SELECT supplier_id,
    last_event_at,
    latest_activity_date,
    status,
    name,
    warn_after,
    error_after
   FROM triage.supplier_freshness_at(now()) f(supplier_id, last_event_at, latest_activity_date, status, name, warn_after, error_after);

--
-- Name: supplier_hourly_stored; Type: TABLE; Schema: triage; Owner: -
--

CREATE TABLE triage.supplier_hourly_stored (
    supplier_id text NOT NULL,
    hour timestamp with time zone NOT NULL,
    revisions integer NOT NULL,
    CONSTRAINT supplier_hourly_stored_revisions_check CHECK ((revisions > 0))
);

--
-- Name: supplier_missing_practices; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.supplier_missing_practices AS
 WITH active AS MATERIALIZED (
         SELECT a.supplier_id,
            a.latest_activity_date
           FROM (triage.supplier_activity a
             JOIN triage.suppliers s ON (((s.supplier_id = a.supplier_id) AND s.active)))
        ), week AS MATERIALIZED (
         SELECT a.supplier_id,
            d.practice_code,
            a.latest_activity_date,
            max(d.activity_date) AS last_reported_date
           FROM (active a
             CROSS JOIN LATERAL ( SELECT d_1.practice_code,
                    d_1.activity_date
                   FROM triage.daily_requests d_1
                  WHERE ((d_1.supplier_id = a.supplier_id) AND (d_1.activity_date >= (a.latest_activity_date - 7)) AND (d_1.activity_date < a.latest_activity_date))
                 OFFSET 0) d)
          GROUP BY a.supplier_id, d.practice_code, a.latest_activity_date
        ), latest AS MATERIALIZED (
         SELECT a.supplier_id,
            d.practice_code
           FROM (active a
             CROSS JOIN LATERAL ( SELECT d_1.practice_code
                   FROM triage.daily_requests d_1
                  WHERE ((d_1.supplier_id = a.supplier_id) AND (d_1.activity_date = a.latest_activity_date))
                 OFFSET 0) d)
        )
 SELECT supplier_id,
    practice_code,
    latest_activity_date,
    last_reported_date
   FROM week w
  WHERE (NOT (EXISTS ( SELECT 1
           FROM latest l
          WHERE ((l.supplier_id = w.supplier_id) AND (l.practice_code = w.practice_code)))));

--
-- Name: supplier_missing_expected; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.supplier_missing_expected AS
 WITH rostered AS MATERIALIZED (
         SELECT DISTINCT current_roster.supplier_id
           FROM triage.current_roster
        ), installed AS MATERIALIZED (
         SELECT a.supplier_id,
            a.latest_activity_date,
            r.practice_code
           FROM ((triage.supplier_activity a
             JOIN triage.suppliers s ON (((s.supplier_id = a.supplier_id) AND s.active)))
             JOIN triage.current_roster r ON (((r.supplier_id = a.supplier_id) AND (r.installed_on <= a.latest_activity_date) AND ((r.removed_on IS NULL) OR (r.removed_on >= a.latest_activity_date)))))
          GROUP BY a.supplier_id, a.latest_activity_date, r.practice_code
        )
 SELECT i.supplier_id,
    i.practice_code,
    i.latest_activity_date,
    ( SELECT max(d.activity_date) AS max
           FROM triage.daily_requests d
          WHERE ((d.supplier_id = i.supplier_id) AND (d.practice_code = i.practice_code) AND (d.activity_date < i.latest_activity_date))) AS last_reported_date,
    'roster'::text AS basis
   FROM installed i
  WHERE (NOT (EXISTS ( SELECT 1
           FROM triage.daily_requests d
          WHERE ((d.supplier_id = i.supplier_id) AND (d.practice_code = i.practice_code) AND (d.activity_date = i.latest_activity_date)))))
UNION ALL
 SELECT m.supplier_id,
    m.practice_code,
    m.latest_activity_date,
    m.last_reported_date,
    'history'::text AS basis
   FROM triage.supplier_missing_practices m
  WHERE (NOT (m.supplier_id IN ( SELECT rostered.supplier_id
           FROM rostered)));

--
-- Name: supplier_roster_coverage; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.supplier_roster_coverage AS
 WITH active AS MATERIALIZED (
         SELECT a.supplier_id,
            a.latest_activity_date
           FROM (triage.supplier_activity a
             JOIN triage.suppliers s ON (((s.supplier_id = a.supplier_id) AND s.active)))
        ), installed AS MATERIALIZED (
         SELECT a.supplier_id,
            a.latest_activity_date,
            r.practice_code
           FROM (active a
             JOIN triage.current_roster r ON (((r.supplier_id = a.supplier_id) AND (r.installed_on <= a.latest_activity_date) AND ((r.removed_on IS NULL) OR (r.removed_on >= a.latest_activity_date)))))
          GROUP BY a.supplier_id, a.latest_activity_date, r.practice_code
        )
 SELECT supplier_id,
    latest_activity_date,
    (count(*))::integer AS installed,
        CASE
            WHEN (EXISTS ( SELECT 1
               FROM triage.current_participation)) THEN (count(*) FILTER (WHERE (EXISTS ( SELECT 1
               FROM triage.current_participation p
              WHERE ((p.practice_code = i.practice_code) AND (p.participating_from <= i.latest_activity_date) AND ((p.participating_to IS NULL) OR (p.participating_to >= i.latest_activity_date)))))))::integer
            ELSE NULL::integer
        END AS participating,
    (count(*) FILTER (WHERE (EXISTS ( SELECT 1
           FROM triage.daily_requests d
          WHERE ((d.supplier_id = i.supplier_id) AND (d.practice_code = i.practice_code) AND (d.activity_date = i.latest_activity_date))))))::integer AS reporting
   FROM installed i
  GROUP BY supplier_id, latest_activity_date;

--
-- Name: supplier_volume_anomalies; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.supplier_volume_anomalies AS
 SELECT v.supplier_id,
    v.activity_date,
    v.total_requests,
    v.weeks,
    v.baseline_median,
    v.baseline_mad,
    v.change,
    v.robust_z,
    v.flagged,
        CASE
            WHEN (v.flagged AND ((v.total_requests)::numeric < v.baseline_median)) THEN 'drop'::text
            WHEN v.flagged THEN 'spike'::text
            ELSE NULL::text
        END AS direction
   FROM ((triage.supplier_activity a
     JOIN triage.suppliers s ON (((s.supplier_id = a.supplier_id) AND s.active)))
     CROSS JOIN LATERAL triage.supplier_volume_assessment(a.supplier_id, a.latest_activity_date) v(supplier_id, activity_date, total_requests, weeks, baseline_median, baseline_mad, change, robust_z, flagged));

--
-- Name: unknown_practices; Type: VIEW; Schema: triage; Owner: -
--

CREATE VIEW triage.unknown_practices AS
 SELECT c.supplier_id,
    c.practice_code,
    f.first_activity_date,
    f.last_activity_date,
    f.days_reported,
    f.total_requests
   FROM (triage.practice_codes_reported c
     CROSS JOIN LATERAL ( SELECT min(d.activity_date) AS first_activity_date,
            max(d.activity_date) AS last_activity_date,
            (count(*))::integer AS days_reported,
            sum(d.total_requests) AS total_requests
           FROM triage.daily_requests d
          WHERE ((d.supplier_id = c.supplier_id) AND (d.practice_code = c.practice_code))) f)
  WHERE ((EXISTS ( SELECT 1
           FROM triage.reference_loads l
          WHERE ((l.kind = 'practices'::text) AND (l.superseded_at IS NULL)))) AND (NOT (EXISTS ( SELECT 1
           FROM triage.current_practice_classes p
          WHERE ((p.practice_code = c.practice_code) AND (p.setting = 'gp_practice'::text))))));

--
-- Name: daily_request_revisions_default; Type: TABLE ATTACH; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.daily_request_revisions ATTACH PARTITION triage.daily_request_revisions_default DEFAULT;

--
-- Name: consumer_offsets consumer_offsets_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.consumer_offsets
    ADD CONSTRAINT consumer_offsets_pkey PRIMARY KEY (group_id, topic, partition);

--
-- Name: daily_request_revisions daily_request_revisions_supplier_id_practice_code_activity__key; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.daily_request_revisions
    ADD CONSTRAINT daily_request_revisions_supplier_id_practice_code_activity__key UNIQUE (supplier_id, practice_code, activity_date, revision);

--
-- Name: daily_request_revisions_default daily_request_revisions_defau_supplier_id_practice_code_act_key; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.daily_request_revisions_default
    ADD CONSTRAINT daily_request_revisions_defau_supplier_id_practice_code_act_key UNIQUE (supplier_id, practice_code, activity_date, revision);

--
-- Name: daily_request_revisions daily_request_revisions_source_key_bounded; Type: CHECK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE triage.daily_request_revisions
    ADD CONSTRAINT daily_request_revisions_source_key_bounded CHECK ((octet_length(source_key) <= 1024)) NOT VALID;

--
-- Name: daily_requests daily_requests_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.daily_requests
    ADD CONSTRAINT daily_requests_pkey PRIMARY KEY (supplier_id, practice_code, activity_date);

--
-- Name: dlq_replays dlq_replays_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.dlq_replays
    ADD CONSTRAINT dlq_replays_pkey PRIMARY KEY (replay_id);

--
-- Name: outcome_outbox_rows outcome_outbox_rows_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.outcome_outbox_rows
    ADD CONSTRAINT outcome_outbox_rows_pkey PRIMARY KEY (outbox_id);

--
-- Name: outcome_outbox_rows outcome_outbox_rows_source_key; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.outcome_outbox_rows
    ADD CONSTRAINT outcome_outbox_rows_source_key UNIQUE (source_topic, source_partition, source_offset);

--
-- Name: outcome_progress outcome_progress_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.outcome_progress
    ADD CONSTRAINT outcome_progress_pkey PRIMARY KEY (source_topic, source_partition);

--
-- Name: practice_codes_reported practice_codes_reported_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.practice_codes_reported
    ADD CONSTRAINT practice_codes_reported_pkey PRIMARY KEY (supplier_id, practice_code);

--
-- Name: practice_month_summary practice_month_summary_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.practice_month_summary
    ADD CONSTRAINT practice_month_summary_pkey PRIMARY KEY (month, practice_code, supplier_id);

--
-- Name: record_key_mismatches record_key_mismatches_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.record_key_mismatches
    ADD CONSTRAINT record_key_mismatches_pkey PRIMARY KEY (supplier_id, activity_date);

--
-- Name: ref_appointment_practices ref_appointment_practices_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_appointment_practices
    ADD CONSTRAINT ref_appointment_practices_pkey PRIMARY KEY (load_id, practice_code);

--
-- Name: ref_appointments ref_appointments_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_appointments
    ADD CONSTRAINT ref_appointments_pkey PRIMARY KEY (load_id, practice_code, appt_mode, appt_status);

--
-- Name: ref_list_sizes ref_list_sizes_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_list_sizes
    ADD CONSTRAINT ref_list_sizes_pkey PRIMARY KEY (load_id, practice_code, extract_date);

--
-- Name: ref_memberships ref_memberships_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_memberships
    ADD CONSTRAINT ref_memberships_pkey PRIMARY KEY (load_id, practice_code, effective_from);

--
-- Name: ref_participation ref_participation_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_participation
    ADD CONSTRAINT ref_participation_pkey PRIMARY KEY (load_id, practice_code, participating_from);

--
-- Name: ref_pcns ref_pcns_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_pcns
    ADD CONSTRAINT ref_pcns_pkey PRIMARY KEY (load_id, practice_code, extract_date);

--
-- Name: ref_practices ref_practices_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_practices
    ADD CONSTRAINT ref_practices_pkey PRIMARY KEY (load_id, practice_code);

--
-- Name: ref_roster ref_roster_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_roster
    ADD CONSTRAINT ref_roster_pkey PRIMARY KEY (load_id, supplier_id, practice_code, installed_on);

--
-- Name: ref_sub_icbs ref_sub_icbs_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_sub_icbs
    ADD CONSTRAINT ref_sub_icbs_pkey PRIMARY KEY (load_id, sub_icb_code, effective_from);

--
-- Name: reference_loads reference_loads_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.reference_loads
    ADD CONSTRAINT reference_loads_pkey PRIMARY KEY (load_id);

--
-- Name: rejected_events rejected_events_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.rejected_events
    ADD CONSTRAINT rejected_events_pkey PRIMARY KEY (rejected_id);

--
-- Name: rejected_events rejected_events_source_topic_source_partition_source_offset_key; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.rejected_events
    ADD CONSTRAINT rejected_events_source_topic_source_partition_source_offset_key UNIQUE (source_topic, source_partition, source_offset);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: supplier_activity supplier_activity_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.supplier_activity
    ADD CONSTRAINT supplier_activity_pkey PRIMARY KEY (supplier_id);

--
-- Name: supplier_day_practices supplier_day_practices_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.supplier_day_practices
    ADD CONSTRAINT supplier_day_practices_pkey PRIMARY KEY (supplier_id, activity_date);

--
-- Name: supplier_hourly_stored supplier_hourly_stored_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.supplier_hourly_stored
    ADD CONSTRAINT supplier_hourly_stored_pkey PRIMARY KEY (supplier_id, hour);

--
-- Name: suppliers suppliers_pkey; Type: CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.suppliers
    ADD CONSTRAINT suppliers_pkey PRIMARY KEY (supplier_id);

--
-- Name: daily_request_revisions_source_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX daily_request_revisions_source_idx ON ONLY triage.daily_request_revisions USING btree (source_topic, source_partition, source_offset);

--
-- Name: daily_request_revisions_defau_source_topic_source_partition_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX daily_request_revisions_defau_source_topic_source_partition_idx ON triage.daily_request_revisions_default USING btree (source_topic, source_partition, source_offset);

--
-- Name: daily_request_revisions_ingested_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX daily_request_revisions_ingested_idx ON ONLY triage.daily_request_revisions USING btree (supplier_id, ingested_at);

--
-- Name: daily_request_revisions_default_supplier_id_ingested_at_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX daily_request_revisions_default_supplier_id_ingested_at_idx ON triage.daily_request_revisions_default USING btree (supplier_id, ingested_at);

--
-- Name: daily_requests_activity_date_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX daily_requests_activity_date_idx ON triage.daily_requests USING btree (activity_date);

--
-- Name: daily_requests_supplier_day_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX daily_requests_supplier_day_idx ON triage.daily_requests USING btree (supplier_id, activity_date) INCLUDE (practice_code);

--
-- Name: dlq_replays_rejected_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX dlq_replays_rejected_idx ON triage.dlq_replays USING btree (rejected_id);

--
-- Name: outcome_outbox_rows_waiting; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX outcome_outbox_rows_waiting ON triage.outcome_outbox_rows USING btree (supplier_id, outbox_id) WHERE (parked_at IS NULL);

--
-- Name: reference_loads_one_current; Type: INDEX; Schema: triage; Owner: -
--

CREATE UNIQUE INDEX reference_loads_one_current ON triage.reference_loads USING btree (kind, COALESCE(month, '0001-01-01'::date)) WHERE (superseded_at IS NULL);

--
-- Name: rejected_events_reason_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX rejected_events_reason_idx ON triage.rejected_events USING btree (reason, received_at);

--
-- Name: rejected_events_supplier_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX rejected_events_supplier_idx ON triage.rejected_events USING btree (supplier_id, received_at);

--
-- Name: rejected_events_unpurged_idx; Type: INDEX; Schema: triage; Owner: -
--

CREATE INDEX rejected_events_unpurged_idx ON triage.rejected_events USING btree (reason, received_at) WHERE (bytes_purged_at IS NULL);

--
-- Name: daily_request_revisions_defau_source_topic_source_partition_idx; Type: INDEX ATTACH; Schema: triage; Owner: -
--

ALTER INDEX triage.daily_request_revisions_source_idx ATTACH PARTITION triage.daily_request_revisions_defau_source_topic_source_partition_idx;

--
-- Name: daily_request_revisions_defau_supplier_id_practice_code_act_key; Type: INDEX ATTACH; Schema: triage; Owner: -
--

ALTER INDEX triage.daily_request_revisions_supplier_id_practice_code_activity__key ATTACH PARTITION triage.daily_request_revisions_defau_supplier_id_practice_code_act_key;

--
-- Name: daily_request_revisions_default_supplier_id_ingested_at_idx; Type: INDEX ATTACH; Schema: triage; Owner: -
--

ALTER INDEX triage.daily_request_revisions_ingested_idx ATTACH PARTITION triage.daily_request_revisions_default_supplier_id_ingested_at_idx;

--
-- Name: daily_requests practice_codes_reported_delete; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER practice_codes_reported_delete AFTER DELETE ON triage.daily_requests REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_codes_reported_deleted();

--
-- Name: daily_requests practice_codes_reported_insert; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER practice_codes_reported_insert AFTER INSERT ON triage.daily_requests REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_codes_reported_inserted();

--
-- Name: daily_requests practice_codes_reported_truncate; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER practice_codes_reported_truncate AFTER TRUNCATE ON triage.daily_requests FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_codes_reported_truncated();

--
-- Name: daily_requests practice_month_summary_delete; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER practice_month_summary_delete AFTER DELETE ON triage.daily_requests REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_month_summary_deleted();

--
-- Name: daily_requests practice_month_summary_insert; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER practice_month_summary_insert AFTER INSERT ON triage.daily_requests REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_month_summary_inserted();

--
-- Name: daily_requests practice_month_summary_truncate; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER practice_month_summary_truncate AFTER TRUNCATE ON triage.daily_requests FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_month_summary_truncated();

--
-- Name: daily_requests practice_month_summary_update; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER practice_month_summary_update AFTER UPDATE ON triage.daily_requests REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_month_summary_updated();

--
-- Name: daily_requests supplier_day_practices_delete; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER supplier_day_practices_delete AFTER DELETE ON triage.daily_requests REFERENCING OLD TABLE AS day_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_day_practices_deleted();

--
-- Name: daily_requests supplier_day_practices_insert; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER supplier_day_practices_insert AFTER INSERT ON triage.daily_requests REFERENCING NEW TABLE AS day_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_day_practices_inserted();

--
-- Name: daily_requests supplier_day_practices_truncate; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER supplier_day_practices_truncate AFTER TRUNCATE ON triage.daily_requests FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_day_practices_truncated();

--
-- Name: daily_request_revisions supplier_hourly_stored_delete; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER supplier_hourly_stored_delete AFTER DELETE ON triage.daily_request_revisions REFERENCING OLD TABLE AS revision_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_hourly_stored_deleted();

--
-- Name: daily_request_revisions supplier_hourly_stored_insert; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER supplier_hourly_stored_insert AFTER INSERT ON triage.daily_request_revisions REFERENCING NEW TABLE AS revision_rows FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_hourly_stored_inserted();

--
-- Name: daily_request_revisions supplier_hourly_stored_truncate; Type: TRIGGER; Schema: triage; Owner: -
--

CREATE TRIGGER supplier_hourly_stored_truncate AFTER TRUNCATE ON triage.daily_request_revisions FOR EACH STATEMENT EXECUTE FUNCTION triage.supplier_hourly_stored_truncated();

--
-- Name: dlq_replays dlq_replays_rejected_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.dlq_replays
    ADD CONSTRAINT dlq_replays_rejected_id_fkey FOREIGN KEY (rejected_id) REFERENCES triage.rejected_events(rejected_id);

--
-- Name: ref_appointment_practices ref_appointment_practices_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_appointment_practices
    ADD CONSTRAINT ref_appointment_practices_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: ref_appointments ref_appointments_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_appointments
    ADD CONSTRAINT ref_appointments_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: ref_list_sizes ref_list_sizes_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_list_sizes
    ADD CONSTRAINT ref_list_sizes_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: ref_memberships ref_memberships_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_memberships
    ADD CONSTRAINT ref_memberships_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: ref_participation ref_participation_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_participation
    ADD CONSTRAINT ref_participation_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: ref_pcns ref_pcns_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_pcns
    ADD CONSTRAINT ref_pcns_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: ref_practices ref_practices_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_practices
    ADD CONSTRAINT ref_practices_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: ref_roster ref_roster_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_roster
    ADD CONSTRAINT ref_roster_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: ref_sub_icbs ref_sub_icbs_load_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.ref_sub_icbs
    ADD CONSTRAINT ref_sub_icbs_load_id_fkey FOREIGN KEY (load_id) REFERENCES triage.reference_loads(load_id);

--
-- Name: reference_loads reference_loads_superseded_by_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.reference_loads
    ADD CONSTRAINT reference_loads_superseded_by_fkey FOREIGN KEY (superseded_by) REFERENCES triage.reference_loads(load_id);

--
-- Name: supplier_activity supplier_activity_supplier_id_fkey; Type: FK CONSTRAINT; Schema: triage; Owner: -
--

ALTER TABLE ONLY triage.supplier_activity
    ADD CONSTRAINT supplier_activity_supplier_id_fkey FOREIGN KEY (supplier_id) REFERENCES triage.suppliers(supplier_id);

--
-- Name: SCHEMA triage; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA triage TO triage_reader;
GRANT USAGE ON SCHEMA triage TO triage_writer;

--
-- Name: FUNCTION add_revision_partitions(first_day date, last_day date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.add_revision_partitions(first_day date, last_day date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.add_revision_partitions(first_day date, last_day date) TO triage_writer;

--
-- Name: FUNCTION area_period(p_from date, p_to date, p_period text, p_unit text, p_vintage date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.area_period(p_from date, p_to date, p_period text, p_unit text, p_vintage date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.area_period(p_from date, p_to date, p_period text, p_unit text, p_vintage date) TO triage_reader;
GRANT ALL ON FUNCTION triage.area_period(p_from date, p_to date, p_period text, p_unit text, p_vintage date) TO triage_writer;

--
-- Name: FUNCTION csv_text(p_value text); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.csv_text(p_value text) TO triage_writer;

--
-- Name: FUNCTION freshness_status(last_event_at timestamp with time zone, warn_after interval, error_after interval, ts timestamp with time zone); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.freshness_status(last_event_at timestamp with time zone, warn_after interval, error_after interval, ts timestamp with time zone) TO triage_writer;

--
-- Name: FUNCTION icb_daily(p_from date, p_to date, p_vintage date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.icb_daily(p_from date, p_to date, p_vintage date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.icb_daily(p_from date, p_to date, p_vintage date) TO triage_reader;
GRANT ALL ON FUNCTION triage.icb_daily(p_from date, p_to date, p_vintage date) TO triage_writer;

--
-- Name: FUNCTION national_daily(p_from date, p_to date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.national_daily(p_from date, p_to date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.national_daily(p_from date, p_to date) TO triage_reader;
GRANT ALL ON FUNCTION triage.national_daily(p_from date, p_to date) TO triage_writer;

--
-- Name: FUNCTION practice_activity(p_month date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.practice_activity(p_month date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.practice_activity(p_month date) TO triage_writer;
GRANT ALL ON FUNCTION triage.practice_activity(p_month date) TO triage_reader;

--
-- Name: FUNCTION practice_codes_reported_deleted(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.practice_codes_reported_deleted() TO triage_writer;

--
-- Name: FUNCTION practice_codes_reported_inserted(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.practice_codes_reported_inserted() TO triage_writer;

--
-- Name: FUNCTION practice_codes_reported_truncated(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.practice_codes_reported_truncated() TO triage_writer;

--
-- Name: FUNCTION practice_daily(p_from date, p_to date, p_vintage date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.practice_daily(p_from date, p_to date, p_vintage date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.practice_daily(p_from date, p_to date, p_vintage date) TO triage_reader;
GRANT ALL ON FUNCTION triage.practice_daily(p_from date, p_to date, p_vintage date) TO triage_writer;

--
-- Name: FUNCTION practice_mapping(p_vintage date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.practice_mapping(p_vintage date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.practice_mapping(p_vintage date) TO triage_reader;
GRANT ALL ON FUNCTION triage.practice_mapping(p_vintage date) TO triage_writer;

--
-- Name: FUNCTION practice_month_summary_deleted(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.practice_month_summary_deleted() TO triage_writer;

--
-- Name: FUNCTION practice_month_summary_inserted(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.practice_month_summary_inserted() TO triage_writer;

--
-- Name: TABLE practice_month_summary; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.practice_month_summary TO triage_writer;

--
-- Name: FUNCTION practice_month_summary_of(p_keys jsonb); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.practice_month_summary_of(p_keys jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.practice_month_summary_of(p_keys jsonb) TO triage_writer;

--
-- Name: FUNCTION practice_month_summary_resummarise(p_keys jsonb); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.practice_month_summary_resummarise(p_keys jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.practice_month_summary_resummarise(p_keys jsonb) TO triage_writer;

--
-- Name: FUNCTION practice_month_summary_truncated(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.practice_month_summary_truncated() TO triage_writer;

--
-- Name: FUNCTION practice_month_summary_updated(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.practice_month_summary_updated() TO triage_writer;

--
-- Name: FUNCTION practice_period(p_from date, p_to date, p_period text, p_vintage date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.practice_period(p_from date, p_to date, p_period text, p_vintage date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.practice_period(p_from date, p_to date, p_period text, p_vintage date) TO triage_reader;
GRANT ALL ON FUNCTION triage.practice_period(p_from date, p_to date, p_period text, p_vintage date) TO triage_writer;

--
-- Name: FUNCTION practice_volume_assessment(p_supplier text, p_day date, p_weeks integer, p_min_weeks integer, p_z numeric, p_min_change numeric, p_min_abs numeric); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.practice_volume_assessment(p_supplier text, p_day date, p_weeks integer, p_min_weeks integer, p_z numeric, p_min_change numeric, p_min_abs numeric) TO triage_writer;

--
-- Name: FUNCTION practices_without_data(p_from date, p_to date, p_vintage date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.practices_without_data(p_from date, p_to date, p_vintage date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.practices_without_data(p_from date, p_to date, p_vintage date) TO triage_reader;
GRANT ALL ON FUNCTION triage.practices_without_data(p_from date, p_to date, p_vintage date) TO triage_writer;

--
-- Name: FUNCTION publication_base(p_month date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.publication_base(p_month date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.publication_base(p_month date) TO triage_writer;
GRANT ALL ON FUNCTION triage.publication_base(p_month date) TO triage_reader;

--
-- Name: FUNCTION publication_months(p_month date, p_months integer); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.publication_months(p_month date, p_months integer) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.publication_months(p_month date, p_months integer) TO triage_writer;
GRANT ALL ON FUNCTION triage.publication_months(p_month date, p_months integer) TO triage_reader;

--
-- Name: FUNCTION publication_practices(p_month date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.publication_practices(p_month date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.publication_practices(p_month date) TO triage_writer;
GRANT ALL ON FUNCTION triage.publication_practices(p_month date) TO triage_reader;

--
-- Name: FUNCTION publication_suppliers(p_month date, p_since timestamp with time zone); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.publication_suppliers(p_month date, p_since timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.publication_suppliers(p_month date, p_since timestamp with time zone) TO triage_writer;
GRANT ALL ON FUNCTION triage.publication_suppliers(p_month date, p_since timestamp with time zone) TO triage_reader;

--
-- Name: FUNCTION publication_time_bands(p_month date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.publication_time_bands(p_month date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.publication_time_bands(p_month date) TO triage_writer;
GRANT ALL ON FUNCTION triage.publication_time_bands(p_month date) TO triage_reader;

--
-- Name: FUNCTION rejected_since(p_since timestamp with time zone); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.rejected_since(p_since timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.rejected_since(p_since timestamp with time zone) TO triage_reader;
GRANT ALL ON FUNCTION triage.rejected_since(p_since timestamp with time zone) TO triage_writer;

--
-- Name: FUNCTION stored_since(p_since timestamp with time zone, p_suppliers text[]); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.stored_since(p_since timestamp with time zone, p_suppliers text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.stored_since(p_since timestamp with time zone, p_suppliers text[]) TO triage_reader;
GRANT ALL ON FUNCTION triage.stored_since(p_since timestamp with time zone, p_suppliers text[]) TO triage_writer;

--
-- Name: FUNCTION sub_icb_daily(p_from date, p_to date, p_vintage date); Type: ACL; Schema: triage; Owner: -
--

REVOKE ALL ON FUNCTION triage.sub_icb_daily(p_from date, p_to date, p_vintage date) FROM PUBLIC;
GRANT ALL ON FUNCTION triage.sub_icb_daily(p_from date, p_to date, p_vintage date) TO triage_reader;
GRANT ALL ON FUNCTION triage.sub_icb_daily(p_from date, p_to date, p_vintage date) TO triage_writer;

--
-- Name: FUNCTION supplier_day_practices_deleted(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.supplier_day_practices_deleted() TO triage_writer;

--
-- Name: FUNCTION supplier_day_practices_inserted(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.supplier_day_practices_inserted() TO triage_writer;

--
-- Name: FUNCTION supplier_day_practices_truncated(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.supplier_day_practices_truncated() TO triage_writer;

--
-- Name: FUNCTION supplier_freshness_at(ts timestamp with time zone); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.supplier_freshness_at(ts timestamp with time zone) TO triage_writer;

--
-- Name: FUNCTION supplier_hourly_stored_deleted(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.supplier_hourly_stored_deleted() TO triage_writer;

--
-- Name: FUNCTION supplier_hourly_stored_inserted(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.supplier_hourly_stored_inserted() TO triage_writer;

--
-- Name: FUNCTION supplier_hourly_stored_truncated(); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.supplier_hourly_stored_truncated() TO triage_writer;

--
-- Name: FUNCTION supplier_volume_assessment(p_supplier text, p_day date, p_weeks integer, p_min_weeks integer, p_z numeric, p_min_change numeric); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.supplier_volume_assessment(p_supplier text, p_day date, p_weeks integer, p_min_weeks integer, p_z numeric, p_min_change numeric) TO triage_writer;

--
-- Name: FUNCTION volume_verdict(p_total numeric, p_history numeric[], p_min_weeks integer, p_z numeric, p_min_change numeric, p_min_abs numeric); Type: ACL; Schema: triage; Owner: -
--

GRANT ALL ON FUNCTION triage.volume_verdict(p_total numeric, p_history numeric[], p_min_weeks integer, p_z numeric, p_min_change numeric, p_min_abs numeric) TO triage_writer;

--
-- Name: TABLE consumer_offsets; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.consumer_offsets TO triage_writer;

--
-- Name: TABLE ref_appointment_practices; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_appointment_practices TO triage_writer;

--
-- Name: TABLE reference_loads; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.reference_loads TO triage_writer;

--
-- Name: TABLE current_appointment_practices; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_appointment_practices TO triage_writer;
GRANT SELECT ON TABLE triage.current_appointment_practices TO triage_reader;

--
-- Name: TABLE ref_appointments; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_appointments TO triage_writer;

--
-- Name: TABLE current_appointments; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_appointments TO triage_writer;
GRANT SELECT ON TABLE triage.current_appointments TO triage_reader;

--
-- Name: TABLE ref_list_sizes; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_list_sizes TO triage_writer;

--
-- Name: TABLE current_list_sizes; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.current_list_sizes TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_list_sizes TO triage_writer;

--
-- Name: TABLE ref_memberships; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_memberships TO triage_writer;

--
-- Name: TABLE current_memberships; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.current_memberships TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_memberships TO triage_writer;

--
-- Name: TABLE ref_participation; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_participation TO triage_writer;

--
-- Name: TABLE current_participation; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.current_participation TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_participation TO triage_writer;

--
-- Name: TABLE ref_pcns; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_pcns TO triage_writer;

--
-- Name: TABLE current_pcns; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_pcns TO triage_writer;
GRANT SELECT ON TABLE triage.current_pcns TO triage_reader;

--
-- Name: TABLE ref_practices; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_practices TO triage_writer;

--
-- Name: TABLE current_practice_classes; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.current_practice_classes TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_practice_classes TO triage_writer;

--
-- Name: TABLE current_practices; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.current_practices TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_practices TO triage_writer;

--
-- Name: TABLE ref_roster; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_roster TO triage_writer;

--
-- Name: TABLE current_roster; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.current_roster TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_roster TO triage_writer;

--
-- Name: TABLE ref_sub_icbs; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.ref_sub_icbs TO triage_writer;

--
-- Name: TABLE current_sub_icbs; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.current_sub_icbs TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.current_sub_icbs TO triage_writer;

--
-- Name: TABLE daily_request_revisions; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.daily_request_revisions TO triage_writer;

--
-- Name: TABLE daily_request_revisions_default; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.daily_request_revisions_default TO triage_writer;

--
-- Name: TABLE daily_requests; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.daily_requests TO triage_writer;

--
-- Name: TABLE dlq_replays; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.dlq_replays TO triage_writer;

--
-- Name: TABLE rejected_events; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.rejected_events TO triage_writer;

--
-- Name: TABLE dlq_replay_outcomes; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.dlq_replay_outcomes TO triage_writer;

--
-- Name: SEQUENCE dlq_replays_replay_id_seq; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE triage.dlq_replays_replay_id_seq TO triage_writer;

--
-- Name: TABLE outcome_outbox_rows; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.outcome_outbox_rows TO triage_writer;

--
-- Name: TABLE outcome_progress; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.outcome_progress TO triage_writer;

--
-- Name: TABLE outcome_outbox; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.outcome_outbox TO triage_writer;

--
-- Name: SEQUENCE outcome_outbox_rows_outbox_id_seq; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE triage.outcome_outbox_rows_outbox_id_seq TO triage_writer;

--
-- Name: TABLE practice_codes_reported; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.practice_codes_reported TO triage_writer;

--
-- Name: TABLE supplier_activity; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_activity TO triage_writer;

--
-- Name: TABLE suppliers; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.suppliers TO triage_writer;

--
-- Name: TABLE practice_volume_anomalies; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.practice_volume_anomalies TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.practice_volume_anomalies TO triage_writer;

--
-- Name: TABLE record_key_mismatches; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.record_key_mismatches TO triage_writer;

--
-- Name: TABLE reference_load_history; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.reference_load_history TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.reference_load_history TO triage_writer;

--
-- Name: SEQUENCE reference_loads_load_id_seq; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE triage.reference_loads_load_id_seq TO triage_writer;

--
-- Name: SEQUENCE rejected_events_rejected_id_seq; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,USAGE ON SEQUENCE triage.rejected_events_rejected_id_seq TO triage_writer;

--
-- Name: TABLE rejections_daily; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.rejections_daily TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.rejections_daily TO triage_writer;

--
-- Name: TABLE requests_by_supplier; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.requests_by_supplier TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.requests_by_supplier TO triage_writer;

--
-- Name: TABLE restatement_history; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.restatement_history TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.restatement_history TO triage_writer;

--
-- Name: TABLE schema_migrations; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.schema_migrations TO triage_writer;

--
-- Name: TABLE supplier_daily_totals; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.supplier_daily_totals TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_daily_totals TO triage_writer;

--
-- Name: TABLE supplier_day_practices; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_day_practices TO triage_writer;

--
-- Name: TABLE supplier_freshness; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.supplier_freshness TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_freshness TO triage_writer;

--
-- Name: TABLE supplier_hourly_stored; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_hourly_stored TO triage_writer;

--
-- Name: TABLE supplier_missing_practices; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.supplier_missing_practices TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_missing_practices TO triage_writer;

--
-- Name: TABLE supplier_missing_expected; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.supplier_missing_expected TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_missing_expected TO triage_writer;

--
-- Name: TABLE supplier_roster_coverage; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.supplier_roster_coverage TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_roster_coverage TO triage_writer;

--
-- Name: TABLE supplier_volume_anomalies; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.supplier_volume_anomalies TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.supplier_volume_anomalies TO triage_writer;

--
-- Name: TABLE unknown_practices; Type: ACL; Schema: triage; Owner: -
--

GRANT SELECT ON TABLE triage.unknown_practices TO triage_reader;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE triage.unknown_practices TO triage_writer;

--
-- Name: DEFAULT PRIVILEGES FOR SEQUENCES; Type: DEFAULT ACL; Schema: triage; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE <migrator> IN SCHEMA triage GRANT SELECT,USAGE ON SEQUENCES TO triage_writer;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: triage; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE <migrator> IN SCHEMA triage GRANT ALL ON FUNCTIONS TO triage_writer;

--
-- Name: DEFAULT PRIVILEGES FOR TABLES; Type: DEFAULT ACL; Schema: triage; Owner: -
--

ALTER DEFAULT PRIVILEGES FOR ROLE <migrator> IN SCHEMA triage GRANT SELECT,INSERT,DELETE,UPDATE ON TABLES TO triage_writer;
