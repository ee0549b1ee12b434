-- Monthly exports read a practice-month summary instead of every practice-day.
-- `ingest export --by icb --period month` over three years read about 18 million current rows
-- at five years of national data, each joined to its list size (124 s); whole months now come
-- from triage.practice_month_summary (one row per month, practice and supplier: about 36 x
-- 6,500 x 1.3 rows for three years), with exactly the figures of 0031's definition:
--
--   day_mask        bit d-1 set for each day d of the month the supplier reported the practice
--                   (OR-ed over suppliers it gives the practice's reporting days);
--   days            the supplier's rows that month (never 0: such a row is deleted);
--   *_requests      sums; for the breakdowns, the sum of the non-null values and how many
--                   rows had one (the breakdown is null unless every row had it, as in 0031).
--
-- List sizes are reference data that change without a row of daily_requests changing, so they
-- stay out of the summary: triage.practice_period joins them per month from the day mask (a
-- list size applies from its extract date to the practice's next one, 0020). Practice-months
-- only partly covered by list sizes, the months the export's range cuts, and the periods 'day'
-- and 'week' are computed from the rows exactly as before.
--
-- Kept by statement-level triggers on triage.daily_requests (one aggregate per statement over
-- its transition table), rows locked in key order as in 0063. A restatement (UPDATE of the
-- figures, never of the key) moves the sums only; an UPDATE that changes a key, a DELETE and a
-- TRUNCATE are followed too (the keys they touched are summarised again from the rows).

LOCK TABLE triage.daily_requests IN SHARE MODE;  -- no writes while the summary is backfilled

CREATE TABLE triage.practice_month_summary (
    month              date    NOT NULL CHECK (month = date_trunc('month', month)::date),
    practice_code      text    NOT NULL,
    supplier_id        text    NOT NULL,
    day_mask           integer NOT NULL,
    days               integer NOT NULL CHECK (days > 0),
    total_requests     bigint  NOT NULL,
    clinical_requests  bigint  NOT NULL,
    clinical_days      integer NOT NULL,
    admin_requests     bigint  NOT NULL,
    admin_days         integer NOT NULL,
    other_requests     bigint  NOT NULL,
    other_days         integer NOT NULL,
    PRIMARY KEY (month, practice_code, supplier_id)
);

-- The months a range cuts are read from the rows: by activity date, not the whole table.
CREATE INDEX daily_requests_activity_date_idx ON triage.daily_requests (activity_date);

-- The summary of some (month, practice, supplier) keys, from the rows (backfill, deletes).
CREATE FUNCTION triage.practice_month_summary_of(p_keys jsonb)
RETURNS SETOF triage.practice_month_summary
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT k.month, d.practice_code, d.supplier_id,
       bit_or(1 << (extract(day FROM d.activity_date)::integer - 1)),
       count(*)::integer,
       sum(d.total_requests)::bigint,
       coalesce(sum(d.clinical_requests), 0)::bigint, count(d.clinical_requests)::integer,
       coalesce(sum(d.admin_requests), 0)::bigint, count(d.admin_requests)::integer,
       coalesce(sum(d.other_requests), 0)::bigint, count(d.other_requests)::integer
FROM jsonb_to_recordset(p_keys) AS k(month date, practice_code text, supplier_id text)
JOIN triage.daily_requests d
  ON d.supplier_id = k.supplier_id AND d.practice_code = k.practice_code
 AND d.activity_date >= k.month AND d.activity_date < (k.month + interval '1 month')::date
GROUP BY k.month, d.practice_code, d.supplier_id
$$;

-- Replace the summary of the keys by what the rows hold now.
CREATE FUNCTION triage.practice_month_summary_resummarise(p_keys jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM triage.practice_month_summary s
    JOIN jsonb_to_recordset(p_keys) AS k(month date, practice_code text, supplier_id text)
      ON s.month = k.month AND s.practice_code = k.practice_code
     AND s.supplier_id = k.supplier_id
    ORDER BY s.month, s.practice_code, s.supplier_id
    FOR UPDATE OF s;
    DELETE FROM triage.practice_month_summary s
    USING jsonb_to_recordset(p_keys) AS k(month date, practice_code text, supplier_id text)
    WHERE s.month = k.month AND s.practice_code = k.practice_code
      AND s.supplier_id = k.supplier_id;
    INSERT INTO triage.practice_month_summary
    SELECT * FROM triage.practice_month_summary_of(p_keys)
    ORDER BY 1, 2, 3;
END
$$;

CREATE FUNCTION triage.practice_month_summary_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO triage.practice_month_summary AS s
    SELECT date_trunc('month', n.activity_date)::date, n.practice_code, n.supplier_id,
           bit_or(1 << (extract(day FROM n.activity_date)::integer - 1)),
           count(*),
           sum(n.total_requests),
           coalesce(sum(n.clinical_requests), 0), count(n.clinical_requests),
           coalesce(sum(n.admin_requests), 0), count(n.admin_requests),
           coalesce(sum(n.other_requests), 0), count(n.other_requests)
    FROM inserted_rows n
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (month, practice_code, supplier_id) DO UPDATE SET
        day_mask = s.day_mask | EXCLUDED.day_mask,
        days = s.days + EXCLUDED.days,
        total_requests = s.total_requests + EXCLUDED.total_requests,
        clinical_requests = s.clinical_requests + EXCLUDED.clinical_requests,
        clinical_days = s.clinical_days + EXCLUDED.clinical_days,
        admin_requests = s.admin_requests + EXCLUDED.admin_requests,
        admin_days = s.admin_days + EXCLUDED.admin_days,
        other_requests = s.other_requests + EXCLUDED.other_requests,
        other_days = s.other_days + EXCLUDED.other_days;
    RETURN NULL;
END
$$;

-- A restatement keeps the key: the sums and counts move by new minus old. Should an UPDATE
-- change a key, the keys it touched are summarised again from the rows.
CREATE FUNCTION triage.practice_month_summary_updated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o
               WHERE NOT EXISTS (SELECT 1 FROM new_rows n
                                 WHERE n.supplier_id = o.supplier_id
                                   AND n.practice_code = o.practice_code
                                   AND n.activity_date = o.activity_date)) THEN
        PERFORM triage.practice_month_summary_resummarise(
            (SELECT jsonb_agg(DISTINCT jsonb_build_object(
                        'month', date_trunc('month', r.activity_date)::date,
                        'practice_code', r.practice_code, 'supplier_id', r.supplier_id))
             FROM (SELECT supplier_id, practice_code, activity_date FROM old_rows
                   UNION SELECT supplier_id, practice_code, activity_date FROM new_rows) r));
        RETURN NULL;
    END IF;
    UPDATE triage.practice_month_summary s SET
        total_requests = s.total_requests + c.total,
        clinical_requests = s.clinical_requests + c.clinical,
        clinical_days = s.clinical_days + c.clinical_n,
        admin_requests = s.admin_requests + c.admin,
        admin_days = s.admin_days + c.admin_n,
        other_requests = s.other_requests + c.other,
        other_days = s.other_days + c.other_n
    FROM (SELECT t.month, t.practice_code, t.supplier_id,
                 sum(t.total) AS total,
                 sum(t.clinical) AS clinical, sum(t.clinical_n) AS clinical_n,
                 sum(t.admin) AS admin, sum(t.admin_n) AS admin_n,
                 sum(t.other) AS other, sum(t.other_n) AS other_n
          FROM (SELECT date_trunc('month', activity_date)::date AS month, practice_code,
                       supplier_id, total_requests::bigint AS total,
                       coalesce(clinical_requests, 0)::bigint AS clinical,
                       (clinical_requests IS NOT NULL)::integer AS clinical_n,
                       coalesce(admin_requests, 0)::bigint AS admin,
                       (admin_requests IS NOT NULL)::integer AS admin_n,
                       coalesce(other_requests, 0)::bigint AS other,
                       (other_requests IS NOT NULL)::integer AS other_n
                FROM new_rows
                UNION ALL
                SELECT date_trunc('month', activity_date)::date, practice_code, supplier_id,
                       -total_requests::bigint,
                       -coalesce(clinical_requests, 0)::bigint,
                       -(clinical_requests IS NOT NULL)::integer,
                       -coalesce(admin_requests, 0)::bigint,
                       -(admin_requests IS NOT NULL)::integer,
                       -coalesce(other_requests, 0)::bigint,
                       -(other_requests IS NOT NULL)::integer
                FROM old_rows) t
          GROUP BY t.month, t.practice_code, t.supplier_id
          ORDER BY t.month, t.practice_code, t.supplier_id) c
    WHERE s.month = c.month AND s.practice_code = c.practice_code
      AND s.supplier_id = c.supplier_id
      AND (c.total, c.clinical, c.clinical_n, c.admin, c.admin_n, c.other, c.other_n)
          IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0);
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.practice_month_summary_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM triage.practice_month_summary_resummarise(
        (SELECT jsonb_agg(DISTINCT jsonb_build_object(
                    'month', date_trunc('month', o.activity_date)::date,
                    'practice_code', o.practice_code, 'supplier_id', o.supplier_id))
         FROM old_rows o));
    RETURN NULL;
END
$$;

CREATE FUNCTION triage.practice_month_summary_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM triage.practice_month_summary;
    RETURN NULL;
END
$$;

CREATE TRIGGER practice_month_summary_insert
    AFTER INSERT ON triage.daily_requests
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_month_summary_inserted();
CREATE TRIGGER practice_month_summary_update
    AFTER UPDATE ON triage.daily_requests
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_month_summary_updated();
CREATE TRIGGER practice_month_summary_delete
    AFTER DELETE ON triage.daily_requests
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_month_summary_deleted();
CREATE TRIGGER practice_month_summary_truncate
    AFTER TRUNCATE ON triage.daily_requests
    FOR EACH STATEMENT EXECUTE FUNCTION triage.practice_month_summary_truncated();

-- The data already stored (an upgrade keeps every row and summarises it once).
INSERT INTO triage.practice_month_summary
SELECT date_trunc('month', activity_date)::date, practice_code, supplier_id,
       bit_or(1 << (extract(day FROM activity_date)::integer - 1)),
       count(*),
       sum(total_requests),
       coalesce(sum(clinical_requests), 0), count(clinical_requests),
       coalesce(sum(admin_requests), 0), count(admin_requests),
       coalesce(sum(other_requests), 0), count(other_requests)
FROM triage.daily_requests
GROUP BY 1, 2, 3;
