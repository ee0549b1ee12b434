-- Every row of the ODS epraccur file is loaded and classified (country, setting);
-- only GP practices are "known practices", and only English practices are mapped to the
-- English sub-ICB / ICB hierarchy. Rules: ingest/reference/practice_classes.py.
--
-- Upgrade: the new columns are added nullable and the rows of earlier loads are classified
-- here by the same rules (from prescribing_setting and the geography columns), so nothing
-- loaded before is lost or left unclassified.

ALTER TABLE triage.ref_practices
    ADD COLUMN IF NOT EXISTS role_codes text,
    ADD COLUMN IF NOT EXISTS country    text,
    ADD COLUMN IF NOT EXISTS setting    text;

UPDATE triage.ref_practices
SET country = CASE
        WHEN high_level_health_geography = 'YAC' THEN 'isle_of_man'
        WHEN high_level_health_geography = 'YAD' OR left(practice_code, 3) = 'JER' THEN 'jersey'
        WHEN high_level_health_geography = 'YAE' OR left(practice_code, 3) = 'GUE' THEN 'guernsey'
        WHEN high_level_health_geography = 'YAF' OR left(practice_code, 3) = 'ALD' THEN 'alderney'
        WHEN national_grouping = 'W00' OR high_level_health_geography = 'Q99'
             OR commissioner_code LIKE '7A%' THEN 'wales'
        ELSE 'england' END,
    setting = CASE
        WHEN prescribing_setting IS NULL THEN 'unknown'
        WHEN prescribing_setting = 4 THEN 'gp_practice'
        WHEN prescribing_setting IN (1, 2, 3) THEN 'walk_in_or_out_of_hours'
        WHEN prescribing_setting = 10 THEN 'hospital'
        WHEN prescribing_setting IN (8, 9, 11, 13, 14) THEN 'community'
        WHEN prescribing_setting = 12 THEN 'urgent_care'
        WHEN prescribing_setting IN (15, 16, 17, 18, 19, 20, 21, 22, 24, 25) THEN 'justice'
        ELSE 'other' END
WHERE country IS NULL OR setting IS NULL;

-- The classes of the current practice reference (triage.current_practices keeps its 0020
-- columns, so that 0020 stays re-runnable; join on practice_code).
CREATE OR REPLACE VIEW triage.current_practice_classes AS
SELECT p.practice_code, p.name, p.status_code, p.country, p.setting, p.prescribing_setting,
       p.role_codes, p.commissioner_code, p.open_date, p.close_date, p.load_id
FROM triage.ref_practices p
JOIN triage.reference_loads l ON l.load_id = p.load_id AND l.superseded_at IS NULL;

GRANT SELECT ON triage.current_practice_classes TO triage_reader;

-- Practice codes in the feed that are not GP practices of the current practice reference
-- (codes of walk-in centres, hospitals, prisons... count as unknown). Empty while no practice
-- reference has been loaded (nothing to compare with).
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
  AND NOT EXISTS (SELECT 1 FROM triage.current_practice_classes p
                  WHERE p.practice_code = d.practice_code AND p.setting = 'gp_practice')
GROUP BY d.supplier_id, d.practice_code;

-- Practice -> (sub-ICB, ICB) as at p_vintage, as in 0021, except that practices outside the
-- English hierarchy are 'unmapped' (NULL codes): a practice the practice reference places
-- outside England (Wales, the Crown Dependencies), and, once a sub-ICB reference is loaded, a
-- practice whose commissioner is not in it (e.g. a Welsh health board 7A1..7A7).
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
