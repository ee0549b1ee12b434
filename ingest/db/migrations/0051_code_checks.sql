-- The practice-code check accepted a trailing newline ("A12345\n"), which
-- was then stored as a second practice and counted twice. The code is checked with fullmatch
-- now, and the tables that hold accepted events refuse anything but a letter and five digits
-- (in PostgreSQL regular expressions "$" matches at the very end only).
--
-- A database that already holds such a row keeps it (nothing is lost): the constraint is added
-- NOT VALID (new and updated rows are checked at once) and validated only when every existing
-- row passes. `SELECT conname FROM pg_constraint WHERE NOT convalidated` lists any left
-- unvalidated; fix those rows, then `ALTER TABLE ... VALIDATE CONSTRAINT ...`.
ALTER TABLE triage.daily_requests
    ADD CONSTRAINT daily_requests_practice_code_check
    CHECK (practice_code ~ '^[A-Z][0-9]{5}$') NOT VALID;
ALTER TABLE triage.daily_request_revisions
    ADD CONSTRAINT daily_request_revisions_practice_code_check
    CHECK (practice_code ~ '^[A-Z][0-9]{5}$') NOT VALID;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM triage.daily_requests WHERE practice_code !~ '^[A-Z][0-9]{5}$'
    ) THEN
        ALTER TABLE triage.daily_requests VALIDATE CONSTRAINT daily_requests_practice_code_check;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM triage.daily_request_revisions WHERE practice_code !~ '^[A-Z][0-9]{5}$'
    ) THEN
        ALTER TABLE triage.daily_request_revisions
            VALIDATE CONSTRAINT daily_request_revisions_practice_code_check;
    END IF;
END
$$;
