"""triage.supplier_missing_practices as migration 0061 reads it (an index range per active
supplier) gives the rows of the 0010 definition (a join on a date range)."""

from __future__ import annotations

import datetime as dt

import asyncpg

from tests.support.daily_rows import insert_days

LATEST = dt.date(2026, 6, 10)

# The view as 0010 defined it.
_MISSING_BEFORE = """
SELECT a.supplier_id, d.practice_code, a.latest_activity_date,
       max(d.activity_date) AS last_reported_date
FROM triage.supplier_activity a
JOIN triage.suppliers s ON s.supplier_id = a.supplier_id AND s.active
JOIN triage.daily_requests d
  ON d.supplier_id = a.supplier_id
 AND d.activity_date >= a.latest_activity_date - 7
 AND d.activity_date < a.latest_activity_date
WHERE NOT EXISTS (
    SELECT 1 FROM triage.daily_requests l
    WHERE l.supplier_id = a.supplier_id
      AND l.practice_code = d.practice_code
      AND l.activity_date = a.latest_activity_date
)
GROUP BY a.supplier_id, d.practice_code, a.latest_activity_date
ORDER BY 1, 2
"""


def day(back: int) -> dt.date:
    return LATEST - dt.timedelta(days=back)


async def test_missing_practices_are_the_rows_of_the_first_definition(
    pg: asyncpg.Connection,
) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name, active) VALUES"
        " ('sa', 'A', true), ('sb', 'B', true), ('off', 'Off', false), ('new', 'New', true)"
    )
    await insert_days(pg, "sa", "A81001", day(20), day(0), 5)  # every day: not missing
    await insert_days(pg, "sa", "A81002", day(9), day(2), 5)  # gone for 2 days: missing
    await insert_days(pg, "sa", "A81003", day(12), day(8), 5)  # last seen 8 days back: not
    await insert_days(pg, "sa", "A81004", day(7), day(7), 5)  # once, 7 days back: missing
    await insert_days(pg, "sb", "A81002", day(3), day(1), 5)  # sb's latest is 1 day back
    await insert_days(pg, "sb", "A81005", day(5), day(5), 5)
    await insert_days(pg, "off", "A81006", day(3), day(1), 5)  # deactivated: never listed
    await pg.execute(
        "INSERT INTO triage.supplier_activity (supplier_id, last_event_at, latest_activity_date)"
        " VALUES ('sa', now(), $1), ('sb', now(), $2), ('off', now(), $2)",
        day(0),
        day(1),
    )  # 'new' has no activity row: nothing expected of it

    got = [tuple(r) for r in await pg.fetch("SELECT * FROM triage.supplier_missing_practices"
                                            " ORDER BY 1, 2")]  # fmt: skip
    assert got == [tuple(r) for r in await pg.fetch(_MISSING_BEFORE)]
    assert got == [
        ("sa", "A81002", day(0), day(2)),
        ("sa", "A81004", day(0), day(7)),
        ("sb", "A81005", day(1), day(5)),
    ]
