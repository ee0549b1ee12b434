-- The monthly publication's reads, all functions granted to triage_reader, run in one
-- read-only repeatable-read transaction (ingest.analytics.publication.publish). Loaded by
-- ingest.db.queries.

-- name: publication_months
-- The months of the window ending with month $1 (its first day), at most $2, that the
-- database holds.
SELECT * FROM triage.publication_months($1, $2)

-- name: publication_practices
-- The month's practices (its first day $1): every open English GP practice with a list size.
SELECT * FROM triage.publication_practices($1)

-- name: publication_base
-- A window month's figures (its first day $1), for the national row only.
SELECT * FROM triage.publication_base($1)

-- name: publication_time_bands
-- Each day's submissions of the month (its first day $1) by submission time band.
SELECT * FROM triage.publication_time_bands($1)

-- name: publication_suppliers
-- The month's suppliers (its first day $1) with what the quality notes need; $2 the time of
-- the edition the folder holds (restatements since), or NULL.
SELECT * FROM triage.publication_suppliers($1, $2)
