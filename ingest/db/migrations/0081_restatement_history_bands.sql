-- Schema v3's time bands are figures: a restatement may change only a band (same total, so
-- total_change 0). The analysts' history of restatements shows each revision's nine bands,
-- appended at the end so that CREATE OR REPLACE keeps the view's grants and its columns.
CREATE OR REPLACE VIEW triage.restatement_history AS
SELECT r.supplier_id,
       r.practice_code,
       r.activity_date,
       r.revision,
       r.total_requests,
       r.clinical_requests,
       r.admin_requests,
       r.other_requests,
       r.total_requests - lag(r.total_requests) OVER w AS total_change,
       r.generated_at,
       r.ingested_at AS arrived_at,
       r.ingested_at - lag(r.ingested_at) OVER w AS after_previous,
       r.revision = max(r.revision) OVER (PARTITION BY r.supplier_id, r.practice_code,
                                                      r.activity_date) AS is_current,
       r.requests_00_06,
       r.requests_06_08,
       r.requests_08_10,
       r.requests_10_12,
       r.requests_12_14,
       r.requests_14_16,
       r.requests_16_18,
       r.requests_18_24,
       r.requests_time_unknown
FROM triage.daily_request_revisions r
WHERE EXISTS (SELECT 1 FROM triage.daily_request_revisions o
              WHERE o.supplier_id = r.supplier_id AND o.practice_code = r.practice_code
                AND o.activity_date = r.activity_date AND o.revision <> r.revision)
WINDOW w AS (PARTITION BY r.supplier_id, r.practice_code, r.activity_date ORDER BY r.revision);
