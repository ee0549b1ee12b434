-- Revisions stored since the period's first midnight. $1 supplier_id, $2 since.
SELECT count(*)::integer FROM triage.daily_request_revisions
WHERE supplier_id = $1 AND ingested_at >= $2
