-- The supplier's roster coverage on its latest reported day (migration 0042), if it has a roster.
SELECT latest_activity_date, installed, participating, reporting
FROM triage.supplier_roster_coverage WHERE supplier_id = $1
