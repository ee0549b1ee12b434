-- Avro schema v3 adds when patients submitted: nine time bands (UK local time) that are either
-- all null (the supplier does not know times; every v1 and v2 event) or sum to total_requests.
-- ADD COLUMN of a nullable column without a default changes only the catalogue: the tables,
-- years of rows on a live database, are not rewritten, and the lock is held for milliseconds.
ALTER TABLE triage.daily_requests
    ADD COLUMN requests_00_06 integer,
    ADD COLUMN requests_06_08 integer,
    ADD COLUMN requests_08_10 integer,
    ADD COLUMN requests_10_12 integer,
    ADD COLUMN requests_12_14 integer,
    ADD COLUMN requests_14_16 integer,
    ADD COLUMN requests_16_18 integer,
    ADD COLUMN requests_18_24 integer,
    ADD COLUMN requests_time_unknown integer;
ALTER TABLE triage.daily_request_revisions
    ADD COLUMN requests_00_06 integer,
    ADD COLUMN requests_06_08 integer,
    ADD COLUMN requests_08_10 integer,
    ADD COLUMN requests_10_12 integer,
    ADD COLUMN requests_12_14 integer,
    ADD COLUMN requests_14_16 integer,
    ADD COLUMN requests_16_18 integer,
    ADD COLUMN requests_18_24 integer,
    ADD COLUMN requests_time_unknown integer;

-- Analysts read current figures through this view (triage_reader): it gains the bands, at the
-- end so that CREATE OR REPLACE keeps its grants and the columns readers already select.
CREATE OR REPLACE VIEW triage.requests_by_supplier AS
SELECT d.supplier_id, d.practice_code, d.activity_date, d.revision, d.total_requests,
       d.clinical_requests, d.admin_requests, d.other_requests,
       d.patient_submitted_requests, d.staff_submitted_requests, d.ingested_at,
       d.requests_00_06, d.requests_06_08, d.requests_08_10, d.requests_10_12,
       d.requests_12_14, d.requests_14_16, d.requests_16_18, d.requests_18_24,
       d.requests_time_unknown
FROM triage.daily_requests d;
