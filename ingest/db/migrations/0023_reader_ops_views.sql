-- The ops view of missing practices (0010) is created before the reader role (0022) on a fresh
-- database, so its grant comes here. It holds codes and dates only, no raw bytes.
GRANT SELECT ON triage.supplier_missing_practices TO triage_reader;
