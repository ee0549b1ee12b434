-- Contract v1.2 section 7: the monthly publication as NHS England publishes it.
--
-- 1. PCN membership and region names per practice, dated by extract like the other reference
--    data: a new reference kind 'pcns' (from NHS England's practice mapping file, columns
--    PCN_CODE, PCN_NAME, COMM_REGION_CODE, COMM_REGION_NAME), table triage.ref_pcns and view
--    triage.current_pcns. A month takes each practice's latest extract on or before its last
--    day.
-- 2. triage.publication_practices(month): one row per open English GP practice with a list
--    size in the month (participating or not) with its figures, PCN, region and boundaries;
--    triage.publication_base(month) the same practices and figures without the names of
--    places (what Table 1 needs for each month of the window). They read the reference tables
--    directly, a primary-key probe per practice for its list size and PCN, so a national
--    month with the real ODS file (16.5k rows, every organisation type) takes a fraction of
--    a second.
-- 3. triage.publication_suppliers(month, since): per supplier, what the data quality notes
--    are written from (practices and days reported against its roster, first month of data,
--    restatements arrived since the previous edition).
-- 4. triage.publication_time_bands(month): Table 3's daily input from schema v3's band
--    columns (0080).
-- 5. triage.practices_without_data (0032) answered from the practice-month summary: seconds
--    to milliseconds with the real ODS file.
-- The functions are SECURITY DEFINER and granted to triage_reader, so publish runs as it.
--
-- Upgrade: new objects only; the kind check keeps every kind it allows (whatever migration
-- added them) and gains 'pcns'.

DO $$
DECLARE
    kinds text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO kinds
    FROM pg_constraint c,
         regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
    WHERE c.conname = 'reference_loads_kind_check'
      AND c.conrelid = 'triage.reference_loads'::regclass;
    IF NOT 'pcns' = ANY (kinds) THEN
        kinds := kinds || 'pcns'::text;
        ALTER TABLE triage.reference_loads DROP CONSTRAINT reference_loads_kind_check;
        EXECUTE format(
            'ALTER TABLE triage.reference_loads ADD CONSTRAINT reference_loads_kind_check '
            'CHECK (kind = ANY (%L::text[]))', kinds);
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS triage.ref_pcns (
    load_id        bigint NOT NULL REFERENCES triage.reference_loads (load_id),
    practice_code  text   NOT NULL,
    extract_date   date   NOT NULL,
    pcn_code       text,
    pcn_name       text,
    region_code    text,
    region_name    text,
    PRIMARY KEY (load_id, practice_code, extract_date)
);

CREATE OR REPLACE VIEW triage.current_pcns AS
SELECT p.practice_code, p.extract_date, p.pcn_code, p.pcn_name, p.region_code,
       p.region_name, p.load_id
FROM triage.ref_pcns p
JOIN triage.reference_loads l ON l.load_id = p.load_id AND l.superseded_at IS NULL;

GRANT SELECT ON triage.current_pcns TO triage_reader;

-- The publication's practices of a month and their figures, without names of places: what
-- Table 1 needs for each month of the window (publication_practices adds the rest).
CREATE OR REPLACE FUNCTION triage.publication_base(p_month date)
RETURNS TABLE (
    practice_code text, practice_name text, national_grouping text,
    registered_patients integer, list_size_extract_date date, participating boolean,
    suppliers text, submissions bigint, clinical_submissions bigint,
    admin_submissions bigint, days_reporting integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

-- Table 2: publication_base with each practice's PCN and region (the latest extract on or
-- before the month's end, else the earliest after) and its sub-ICB and ICB under the
-- boundaries of the month's last day.
CREATE OR REPLACE FUNCTION triage.publication_practices(p_month date)
RETURNS TABLE (
    practice_code text, practice_name text, region_code text, region_name text,
    pcn_code text, pcn_name text, sub_icb_code text, sub_icb_name text, icb_code text,
    icb_name text, mapping_basis text, registered_patients integer,
    list_size_extract_date date, participating boolean, suppliers text,
    submissions bigint, clinical_submissions bigint, admin_submissions bigint,
    days_reporting integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

-- The months before p_month (up to p_months of them, p_month included) holding figures.
CREATE OR REPLACE FUNCTION triage.publication_months(p_month date, p_months integer)
RETURNS SETOF date
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT m::date
FROM generate_series(p_month - make_interval(months => p_months - 1), p_month,
                     interval '1 month') AS m
WHERE m::date = p_month
   OR EXISTS (SELECT 1 FROM triage.practice_month_summary s WHERE s.month = m::date)
ORDER BY m
$$;

CREATE OR REPLACE FUNCTION triage.publication_suppliers(p_month date, p_since timestamptz)
RETURNS TABLE (
    supplier_id text, supplier_name text, practices_reporting integer,
    days_with_data integer, practice_days integer, first_month date,
    rostered_practices integer, rostered_reporting integer, restated_practice_days integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

-- Table 3's input: per day of the month, the submissions of the practices included in the
-- publication by time band (schema v3's columns, 0080), and those without times (null bands:
-- every v1/v2 event and suppliers that do not know times).
CREATE OR REPLACE FUNCTION triage.publication_time_bands(p_month date)
RETURNS TABLE (
    activity_date date, requests_00_06 bigint, requests_06_08 bigint, requests_08_10 bigint,
    requests_10_12 bigint, requests_12_14 bigint, requests_14_16 bigint,
    requests_16_18 bigint, requests_18_24 bigint, requests_time_unknown bigint,
    without_times bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

REVOKE ALL ON FUNCTION triage.publication_base(date), triage.publication_practices(date),
    triage.publication_months(date, integer), triage.publication_suppliers(date, timestamptz),
    triage.publication_time_bands(date)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION triage.publication_base(date), triage.publication_practices(date),
    triage.publication_months(date, integer),
    triage.publication_suppliers(date, timestamptz),
    triage.publication_time_bands(date) TO triage_reader;

-- The practices without data (0032) asked daily_requests twice per active practice (no index
-- leads with the practice code): with the real ODS file (16.5k rows, every organisation type)
-- that took over a minute for a month. Same result from the practice-month summary (0064):
-- a practice reported in [p_from, p_to] when a summarised month overlapping the range has a
-- day bit inside it; its last activity date is its latest summarised month's highest day bit.
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
