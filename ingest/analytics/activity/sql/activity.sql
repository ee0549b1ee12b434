-- The month's practices with appointments or submissions ($1: any day of the month), their
-- figures and the SQL rule's verdict (ingest.analytics.activity.rule decides for the CSV; the
-- two are checked against each other by tests). Reader-safe: a function only.
SELECT a.month, a.practice_code, a.practice_name, a.icb_code, a.icb_name,
       a.registered_patients, a.appointments, a.appointments_attended,
       a.appointments_face_to_face, a.appointments_telephone, a.appointments_video_online,
       a.appointments_home_visit, a.appointments_unknown_mode, a.submissions,
       a.looks_quiet_in_appointments AS sql_looks_quiet
FROM triage.practice_activity($1) a
WHERE $2::text IS NULL OR a.icb_code = $2
ORDER BY a.practice_code
