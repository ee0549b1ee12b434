"""The supplier roster (contract v1.1 section 6): once loaded, a supplier's
missing practices are the installed ones that sent nothing for its latest day ("expected but
not reported"), in the view, the gauge and the status snapshot; coverage counts practices
installed, participating and reporting."""

from __future__ import annotations

import datetime as dt

import asyncpg

from ingest.contract.model import topic_for
from ingest.contract.participation import ParticipationPeriod
from ingest.ops.freshness_store import fetch_missing_counts, fetch_status_snapshot
from ingest.reference.records import ReferenceKind, RosterEntry
from ingest.reference.store import load_records
from ingest.settings import Settings
from tests.support.daily_rows import insert_days
from tests.support.kafka import CreateTopics, produce_events
from tests.support.polling import wait_until
from tests.support.service import serving
from tests.support.suppliers import register

from .helpers import events_for, fast

LATEST = dt.date(2026, 6, 10)


def day(back: int) -> dt.date:
    return LATEST - dt.timedelta(days=back)


async def load_roster(pg: asyncpg.Connection, *entries: RosterEntry) -> None:
    await load_records(pg, ReferenceKind.ROSTER, list(entries), "roster.csv")


async def setup_two_suppliers(pg: asyncpg.Connection) -> None:
    """'sa' reports A81001 every day and A81002 until 2 days back; 'sb' (no roster) lost
    B82002 a day back; both latest days: LATEST."""
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ('sa', 'A'), ('sb', 'B')"
    )
    await insert_days(pg, "sa", "A81001", day(20), day(0), 5)
    await insert_days(pg, "sa", "A81002", day(9), day(2), 5)
    await insert_days(pg, "sb", "B82001", day(5), day(0), 5)
    await insert_days(pg, "sb", "B82002", day(5), day(1), 5)
    await pg.execute(
        "INSERT INTO triage.supplier_activity (supplier_id, last_event_at, latest_activity_date)"
        " VALUES ('sa', now(), $1), ('sb', now(), $1)",
        LATEST,
    )


async def missing(pg: asyncpg.Connection) -> list[tuple[object, ...]]:
    rows = await pg.fetch(
        "SELECT supplier_id, practice_code, last_reported_date, basis"
        " FROM triage.supplier_missing_expected ORDER BY 1, 2"
    )
    return [tuple(r) for r in rows]


async def test_without_a_roster_missing_practices_are_guessed_from_history(
    pg: asyncpg.Connection,
) -> None:
    await setup_two_suppliers(pg)
    assert await missing(pg) == [
        ("sa", "A81002", day(2), "history"),
        ("sb", "B82002", day(1), "history"),
    ]


async def test_with_a_roster_installed_practices_are_expected(pg: asyncpg.Connection) -> None:
    await setup_two_suppliers(pg)
    await load_roster(
        pg,
        RosterEntry("sa", "A81001", day(400), None),  # reports: not missing
        RosterEntry("sa", "A81003", day(30), None),  # installed, never reported: missing
        RosterEntry("sa", "A81004", day(30), day(1)),  # removed before the latest day
        RosterEntry("sa", "A81005", day(-1), None),  # installed after it
    )
    # sa: A81002 is not on the roster (no longer expected); A81003 expected but not reported.
    # sb has no roster: still the history rule.
    assert await missing(pg) == [
        ("sa", "A81003", None, "roster"),
        ("sb", "B82002", day(1), "history"),
    ]
    assert await fetch_missing_counts(pg) == {"sa": 1, "sb": 1}


async def test_coverage_counts_installed_participating_and_reporting(
    pg: asyncpg.Connection,
) -> None:
    await setup_two_suppliers(pg)
    await load_roster(
        pg,
        RosterEntry("sa", "A81001", day(400), None),
        RosterEntry("sa", "A81002", day(400), None),
        RosterEntry("sa", "A81003", day(30), None),
    )

    async def coverage() -> list[tuple[object, ...]]:
        rows = await pg.fetch(
            "SELECT supplier_id, latest_activity_date, installed, participating, reporting"
            " FROM triage.supplier_roster_coverage ORDER BY 1"
        )
        return [tuple(r) for r in rows]

    assert await coverage() == [("sa", LATEST, 3, None, 1)]  # no participation list loaded
    await load_records(
        pg,
        ReferenceKind.PARTICIPATION,
        [ParticipationPeriod(c, day(100), None) for c in ("A81001", "A81002")],
        "participation.csv",
    )
    assert await coverage() == [("sa", LATEST, 3, 2, 1)]


async def test_the_gauge_and_the_status_page_use_the_roster(
    pg: asyncpg.Connection, settings: Settings, token: str, create_topics: CreateTopics
) -> None:
    supplier = f"{token}-rostered"
    await register(pg, supplier)
    await create_topics(topic_for(supplier))
    latest = dt.date.today() - dt.timedelta(days=1)
    await load_roster(
        pg,
        *(RosterEntry(supplier, c, latest - dt.timedelta(days=90), None)
          for c in ("A81001", "A81002", "A81003")),
    )  # fmt: skip
    payloads = events_for(supplier, latest, ["A81001"])
    cfg = fast(settings)
    async with serving(cfg) as service:
        await produce_events(cfg, payloads)
        get = service.metrics.registry.get_sample_value

        def gauge() -> float | None:
            return get("triage_supplier_missing_practices", {"supplier": supplier})

        await wait_until(lambda: gauge() == 2, within=30, what=f"2 missing (is {gauge()})")
    snapshot = await fetch_status_snapshot(pg, dt.datetime.now(dt.UTC))
    assert snapshot.missing[supplier] == ("A81002", "A81003")
    coverage = snapshot.roster[supplier]
    assert (coverage.day, coverage.installed, coverage.participating, coverage.reporting) == (
        latest,
        3,
        None,
        1,
    )
