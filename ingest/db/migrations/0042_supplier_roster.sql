-- Contract v1.1 section 6: the supplier roster (which practices each supplier serves,
-- from the installation date), a versioned reference load; missing-practice detection uses it.
--
-- triage.supplier_missing_expected is what the service reads for missing practices (the metric
-- triage_supplier_missing_practices, the status page): for a supplier with rows in the current
-- roster, the practices installed on its latest reported day that sent nothing for it
-- ("expected but not reported", basis 'roster'); for any other supplier, the history rule of
-- triage.supplier_missing_practices (basis 'history'). That view (0010, 0061) is left as it is.
--
-- Upgrade: new objects only ('roster' is already an allowed load kind since 0040).

CREATE TABLE IF NOT EXISTS triage.ref_roster (
    load_id        bigint NOT NULL REFERENCES triage.reference_loads (load_id),
    supplier_id    text   NOT NULL,
    practice_code  text   NOT NULL,
    installed_on   date   NOT NULL,
    removed_on     date,
    CHECK (removed_on IS NULL OR removed_on >= installed_on),
    PRIMARY KEY (load_id, supplier_id, practice_code, installed_on)
);

CREATE OR REPLACE VIEW triage.current_roster AS
SELECT r.supplier_id, r.practice_code, r.installed_on, r.removed_on, r.load_id
FROM triage.ref_roster r
JOIN triage.reference_loads l ON l.load_id = r.load_id AND l.superseded_at IS NULL;

-- Per active supplier with a roster, on its latest reported day: practices with its system
-- installed, of those the participating ones (NULL when no participation list is loaded), and
-- of the installed ones those that reported.
CREATE OR REPLACE VIEW triage.supplier_roster_coverage AS
WITH active AS MATERIALIZED (
    SELECT a.supplier_id, a.latest_activity_date
    FROM triage.supplier_activity a
    JOIN triage.suppliers s ON s.supplier_id = a.supplier_id AND s.active
), installed AS MATERIALIZED (
    SELECT a.supplier_id, a.latest_activity_date, r.practice_code
    FROM active a
    JOIN triage.current_roster r
      ON r.supplier_id = a.supplier_id
     AND r.installed_on <= a.latest_activity_date
     AND (r.removed_on IS NULL OR r.removed_on >= a.latest_activity_date)
    GROUP BY a.supplier_id, a.latest_activity_date, r.practice_code
)
SELECT i.supplier_id,
       i.latest_activity_date,
       count(*)::integer AS installed,
       CASE WHEN EXISTS (SELECT 1 FROM triage.current_participation) THEN
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM triage.current_participation p
               WHERE p.practice_code = i.practice_code
                 AND p.participating_from <= i.latest_activity_date
                 AND (p.participating_to IS NULL OR p.participating_to >= i.latest_activity_date)
           ))::integer
       END AS participating,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM triage.daily_requests d
           WHERE d.supplier_id = i.supplier_id AND d.practice_code = i.practice_code
             AND d.activity_date = i.latest_activity_date
       ))::integer AS reporting
FROM installed i
GROUP BY i.supplier_id, i.latest_activity_date;

CREATE OR REPLACE VIEW triage.supplier_missing_expected AS
WITH rostered AS MATERIALIZED (
    SELECT DISTINCT supplier_id FROM triage.current_roster
), installed AS MATERIALIZED (
    SELECT a.supplier_id, a.latest_activity_date, r.practice_code
    FROM triage.supplier_activity a
    JOIN triage.suppliers s ON s.supplier_id = a.supplier_id AND s.active
    JOIN triage.current_roster r
      ON r.supplier_id = a.supplier_id
     AND r.installed_on <= a.latest_activity_date
     AND (r.removed_on IS NULL OR r.removed_on >= a.latest_activity_date)
    GROUP BY a.supplier_id, a.latest_activity_date, r.practice_code
)
SELECT i.supplier_id,
       i.practice_code,
       i.latest_activity_date,
       (SELECT max(d.activity_date) FROM triage.daily_requests d
        WHERE d.supplier_id = i.supplier_id AND d.practice_code = i.practice_code
          AND d.activity_date < i.latest_activity_date) AS last_reported_date,
       'roster'::text AS basis
FROM installed i
WHERE NOT EXISTS (
    SELECT 1 FROM triage.daily_requests d
    WHERE d.supplier_id = i.supplier_id AND d.practice_code = i.practice_code
      AND d.activity_date = i.latest_activity_date)
UNION ALL
SELECT m.supplier_id, m.practice_code, m.latest_activity_date, m.last_reported_date,
       'history'::text AS basis
FROM triage.supplier_missing_practices m
WHERE m.supplier_id NOT IN (SELECT supplier_id FROM rostered);

GRANT SELECT ON triage.current_roster, triage.supplier_roster_coverage,
    triage.supplier_missing_expected TO triage_reader;
