-- Appointments in General Practice (NHS England's GPAD practice-level crosstab) beside the
-- online consultation feed (contract v1.2 section 7): why a practice that looks idle in
-- appointments is not.
--
-- A crosstab month is a reference load of kind 'appointments' with its month: one load per
-- month is current, a second load of a month supersedes it (recorded in
-- triage.reference_loads like every other load). The crosstab's millions of rows a month are
-- stored folded per practice, mode and status (ingest.reference.appointments). The
-- month is also in the load's source_name, so triage.reference_load_history shows it.
--
-- Upgrade: existing loads keep month NULL and stay current one per kind; the unique index of
-- current loads becomes one per (kind, month).

ALTER TABLE triage.reference_loads ADD COLUMN IF NOT EXISTS month date;

ALTER TABLE triage.reference_loads
    DROP CONSTRAINT IF EXISTS reference_loads_kind_check,
    ADD CONSTRAINT reference_loads_kind_check CHECK (kind IN (
        'practices', 'memberships', 'sub_icbs', 'list_sizes', 'participation', 'roster',
        'pcns', 'appointments')),  -- 'pcns': 0090 (PCNs by extract), applied before this
    DROP CONSTRAINT IF EXISTS reference_loads_month_check,
    ADD CONSTRAINT reference_loads_month_check CHECK (
        (kind = 'appointments') = (month IS NOT NULL)
        AND (month IS NULL OR month = date_trunc('month', month)::date));

DROP INDEX IF EXISTS triage.reference_loads_one_current;
CREATE UNIQUE INDEX IF NOT EXISTS reference_loads_one_current
    ON triage.reference_loads (kind, coalesce(month, DATE '0001-01-01'))
    WHERE superseded_at IS NULL;

-- Appointments of a practice in a month by mode and status (all HCP types, national
-- categories and booking lead times summed). Mode and status as published.
CREATE TABLE IF NOT EXISTS triage.ref_appointments (
    load_id        bigint NOT NULL REFERENCES triage.reference_loads (load_id),
    practice_code  text   NOT NULL,
    appt_mode      text   NOT NULL CHECK (appt_mode IN (
        'Face-to-Face', 'Telephone', 'Video Conference/Online', 'Home Visit', 'Unknown')),
    appt_status    text   NOT NULL CHECK (appt_status IN ('Attended', 'DNA', 'Unknown')),
    appointments   bigint NOT NULL CHECK (appointments >= 0),
    PRIMARY KEY (load_id, practice_code, appt_mode, appt_status)
);

-- The practice as the crosstab names it that month (name, PCN, sub-ICB location).
CREATE TABLE IF NOT EXISTS triage.ref_appointment_practices (
    load_id                bigint NOT NULL REFERENCES triage.reference_loads (load_id),
    practice_code          text   NOT NULL,
    gp_name                text   NOT NULL,
    pcn_code               text,
    sub_icb_location_code  text,
    PRIMARY KEY (load_id, practice_code)
);

CREATE OR REPLACE VIEW triage.current_appointments AS
SELECT l.month, a.practice_code, a.appt_mode, a.appt_status, a.appointments, a.load_id
FROM triage.ref_appointments a
JOIN triage.reference_loads l ON l.load_id = a.load_id AND l.superseded_at IS NULL;

CREATE OR REPLACE VIEW triage.current_appointment_practices AS
SELECT l.month, p.practice_code, p.gp_name, p.pcn_code, p.sub_icb_location_code, p.load_id
FROM triage.ref_appointment_practices p
JOIN triage.reference_loads l ON l.load_id = p.load_id AND l.superseded_at IS NULL;

GRANT SELECT ON triage.current_appointments, triage.current_appointment_practices
    TO triage_reader;
