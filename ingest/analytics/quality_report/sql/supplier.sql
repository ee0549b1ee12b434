-- The supplier the report is about ($1 supplier_id).
SELECT supplier_id, name, warn_after FROM triage.suppliers WHERE supplier_id = $1
