-- One row per practice with figures from any supplier in the month [$1, $2], attributed
-- under the boundaries of the month's last day. Reader-safe: functions and views only.
SELECT p.practice_code,
       p.practice_name,
       cp.national_grouping AS region_code,
       p.icb_code,
       p.icb_name,
       p.sub_icb_code,
       p.sub_icb_name,
       p.mapping_basis,
       (SELECT string_agg(DISTINCT r.supplier_id, ';' ORDER BY r.supplier_id)
        FROM triage.requests_by_supplier r
        WHERE r.practice_code = p.practice_code
          AND r.activity_date BETWEEN $1 AND $2) AS suppliers,
       p.total_requests,
       p.clinical_requests,
       p.admin_requests,
       p.other_requests,
       p.registered_patients,
       p.list_size_extract_date,
       p.requests_per_1000,
       p.days_in_period,
       p.days_reporting,
       p.patient_days,
       p.requests_with_list_size,
       coalesce(c.setting = 'gp_practice' AND c.country = 'england', false)
           AS english_gp_practice
FROM triage.practice_period($1, $2, 'month', $2) p
LEFT JOIN triage.current_practices cp ON cp.practice_code = p.practice_code
LEFT JOIN triage.current_practice_classes c ON c.practice_code = p.practice_code
ORDER BY p.practice_code
