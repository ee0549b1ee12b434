-- Practice codes the supplier sent that are not GP practices of the ODS reference (walk-in
-- centres, hospitals, prisons... or absent). $1 supplier_id.
SELECT practice_code, first_activity_date, last_activity_date, days_reported
FROM triage.unknown_practices
WHERE supplier_id = $1
ORDER BY practice_code
