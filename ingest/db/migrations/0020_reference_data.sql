-- Reference data for the analytics read side (docs/analytics.md).
--
-- Every reference file is loaded as one versioned *load*: a row of triage.reference_loads
-- plus its rows tagged with the load_id. Loading a file of a kind supersedes the previous
-- current load of that kind (superseded_at is set); nothing is deleted, so every earlier
-- version stays queryable. Exactly one load per kind is current (partial unique index).
-- Loading content identical to the current load is a no-op (content_sha256), which makes
-- loaders idempotent.
--
-- Written to be re-runnable: IF NOT EXISTS / OR REPLACE throughout.

CREATE SCHEMA IF NOT EXISTS triage;

CREATE TABLE IF NOT EXISTS triage.reference_loads (
    load_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text        NOT NULL
        CHECK (kind IN ('practices', 'memberships', 'sub_icbs', 'list_sizes')),
    source_name     text        NOT NULL,
    content_sha256  text        NOT NULL,
    row_count       integer     NOT NULL CHECK (row_count >= 0),
    loaded_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    loaded_by       text        NOT NULL DEFAULT current_user,
    superseded_at   timestamptz,
    superseded_by   bigint REFERENCES triage.reference_loads (load_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS reference_loads_one_current
    ON triage.reference_loads (kind) WHERE superseded_at IS NULL;

-- NHS ODS GP practices file "epraccur" (27 columns, no header); see ingest/reference.py.
CREATE TABLE IF NOT EXISTS triage.ref_practices (
    load_id                      bigint NOT NULL REFERENCES triage.reference_loads (load_id),
    practice_code                text   NOT NULL,
    name                         text   NOT NULL,
    national_grouping            text,
    high_level_health_geography  text,
    address_line_1               text,
    address_line_2               text,
    address_line_3               text,
    address_line_4               text,
    address_line_5               text,
    postcode                     text,
    open_date                    date,
    close_date                   date,
    status_code                  text,
    sub_type_code                text,
    commissioner_code            text,
    join_date                    date,
    left_date                    date,
    telephone                    text,
    amended_record_indicator     text,
    provider_purchaser_code      text,
    prescribing_setting          smallint,
    PRIMARY KEY (load_id, practice_code)
);

-- Practice -> commissioner (sub-ICB location) with effective dates, both inclusive;
-- effective_to NULL = still a member. Periods of one practice never overlap (checked by the
-- parser before loading).
CREATE TABLE IF NOT EXISTS triage.ref_memberships (
    load_id            bigint NOT NULL REFERENCES triage.reference_loads (load_id),
    practice_code      text   NOT NULL,
    commissioner_code  text   NOT NULL,
    effective_from     date   NOT NULL,
    effective_to       date,
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    PRIMARY KEY (load_id, practice_code, effective_from)
);

-- Sub-ICB location -> ICB with effective dates (inclusive; NULL = current).
CREATE TABLE IF NOT EXISTS triage.ref_sub_icbs (
    load_id         bigint NOT NULL REFERENCES triage.reference_loads (load_id),
    sub_icb_code    text   NOT NULL,
    sub_icb_name    text,
    icb_code        text   NOT NULL,
    icb_name        text,
    effective_from  date   NOT NULL,
    effective_to    date,
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    PRIMARY KEY (load_id, sub_icb_code, effective_from)
);

-- Registered patients per practice per extract ("Patients Registered at a GP Practice").
CREATE TABLE IF NOT EXISTS triage.ref_list_sizes (
    load_id              bigint  NOT NULL REFERENCES triage.reference_loads (load_id),
    practice_code        text    NOT NULL,
    extract_date         date    NOT NULL,
    registered_patients  integer NOT NULL CHECK (registered_patients >= 0),
    PRIMARY KEY (load_id, practice_code, extract_date)
);

-- The current version of each kind.
CREATE OR REPLACE VIEW triage.current_practices AS
SELECT p.practice_code, p.name, p.national_grouping, p.high_level_health_geography,
       p.address_line_1, p.address_line_2, p.address_line_3, p.address_line_4,
       p.address_line_5, p.postcode, p.open_date, p.close_date, p.status_code,
       p.sub_type_code, p.commissioner_code, p.join_date, p.left_date, p.telephone,
       p.amended_record_indicator, p.provider_purchaser_code, p.prescribing_setting,
       p.load_id
FROM triage.ref_practices p
JOIN triage.reference_loads l ON l.load_id = p.load_id AND l.superseded_at IS NULL;

CREATE OR REPLACE VIEW triage.current_memberships AS
SELECT m.practice_code, m.commissioner_code, m.effective_from, m.effective_to, m.load_id
FROM triage.ref_memberships m
JOIN triage.reference_loads l ON l.load_id = m.load_id AND l.superseded_at IS NULL;

CREATE OR REPLACE VIEW triage.current_sub_icbs AS
SELECT s.sub_icb_code, s.sub_icb_name, s.icb_code, s.icb_name, s.effective_from,
       s.effective_to, s.load_id
FROM triage.ref_sub_icbs s
JOIN triage.reference_loads l ON l.load_id = s.load_id AND l.superseded_at IS NULL;

-- List sizes as validity intervals: an extract applies from its extract_date until the
-- practice's next extract (exclusive); the latest one applies onwards.
CREATE OR REPLACE VIEW triage.current_list_sizes AS
SELECT s.practice_code, s.extract_date, s.registered_patients,
       lead(s.extract_date) OVER (PARTITION BY s.practice_code ORDER BY s.extract_date)
           AS next_extract_date,
       s.load_id
FROM triage.ref_list_sizes s
JOIN triage.reference_loads l ON l.load_id = s.load_id AND l.superseded_at IS NULL;

CREATE OR REPLACE VIEW triage.reference_load_history AS
SELECT load_id, kind, source_name, content_sha256, row_count, loaded_at, loaded_by,
       superseded_at, superseded_by, superseded_at IS NULL AS is_current
FROM triage.reference_loads;
