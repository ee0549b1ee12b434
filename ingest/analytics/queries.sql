-- The analysts' exports (ingest.analytics.export). An export's columns depend on its level,
-- period and options, so its statements are templates: the {fields} are filled with
-- str.format from the export's own column names and function calls, never from input; the
-- values ($1 first day, $2 last day, $3 period, $4 vintage) are bound. Loaded by
-- ingest.db.queries.

-- name: iso_dates
-- Dates in the CSV as YYYY-MM-DD whatever the session's DateStyle.
SET LOCAL DateStyle = 'ISO, YMD'

-- name: export
-- Template: {columns} of {source} (triage.practice_period or triage.area_period), {ordering}.
SELECT {columns} FROM {source} ORDER BY {ordering}

-- name: export_by_band
-- Template: as export, plus the time bands. The band sums of each (period, area) come from
-- the current figures of every supplier (triage.requests_by_supplier, readable by
-- triage_reader) attributed to areas as the export attributes them (triage.practice_period
-- at the vintage): {band_sums} per practice and period, {band_columns} carried to the areas,
-- {band_totals} (band_totals or band_totals_by_area) grouped to the export's level and
-- matched to each row by period{area_match}; {band_items} the columns added to the export.
WITH band_rows AS (
    SELECT CASE $3 WHEN 'day' THEN r.activity_date
                   ELSE date_trunc($3, r.activity_date)::date END AS b_start,
           r.practice_code AS b_practice,
{band_sums}
    FROM triage.requests_by_supplier r
    WHERE r.activity_date >= $1 AND r.activity_date <= $2
    GROUP BY 1, 2
), band_areas AS (
    SELECT p.period_start AS b_start, p.practice_code AS b_practice,
           p.sub_icb_code AS b_sub_icb, p.icb_code AS b_icb
    FROM triage.practice_period($1, $2, $3, $4) p
), bands AS (
    SELECT b.b_start, a.b_practice, a.b_sub_icb, a.b_icb,
           {band_columns}
    FROM band_rows b JOIN band_areas a USING (b_start, b_practice)
)
SELECT {columns}, {band_items} FROM {source} e
LEFT JOIN ({band_totals}) bu ON bu.b_start = e.period_start{area_match}
ORDER BY {ordering}

-- name: band_totals
-- Template: {sums} of the bands per period (the national export).
SELECT b_start, {sums} FROM bands GROUP BY b_start

-- name: band_totals_by_area
-- Template: {sums} of the bands per period and {area} (b_practice, b_sub_icb or b_icb).
SELECT b_start, {area} AS b_unit, {sums} FROM bands GROUP BY 1, 2
