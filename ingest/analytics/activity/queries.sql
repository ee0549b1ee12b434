-- The activity summary's query. Loaded by ingest.db.queries.

-- name: practice_activity
-- The month's practices with appointments or submissions ($1: any day of the month) and their
-- figures, every ICB (the rule ranks each ICB whole: ingest.analytics.activity.rule applies
-- it; the function's own looks_quiet_in_appointments, the same rule in SQL for analysts, is
-- checked against it by tests). Reader-safe: a function only.
SELECT a.month, a.practice_code, a.practice_name, a.icb_code, a.icb_name,
       a.registered_patients, a.appointments, a.appointments_attended,
       a.appointments_face_to_face, a.appointments_telephone, a.appointments_video_online,
       a.appointments_home_visit, a.appointments_unknown_mode, a.submissions
FROM triage.practice_activity($1) a
ORDER BY a.practice_code
