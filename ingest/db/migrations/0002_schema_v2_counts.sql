-- Avro schema v2 adds who submitted the requests; v1 events leave these null.
ALTER TABLE triage.daily_requests
    ADD COLUMN patient_submitted_requests integer,
    ADD COLUMN staff_submitted_requests integer;
ALTER TABLE triage.daily_request_revisions
    ADD COLUMN patient_submitted_requests integer,
    ADD COLUMN staff_submitted_requests integer;
