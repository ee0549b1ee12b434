"""Analytics read side against the real Postgres: reference loads, vintage attribution,
the triage_reader role, the unknown-practices metric and the streamed CSV export.

Feed data is inserted straight into triage.daily_requests (the table the consumer writes).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from ingest.analytics.export import (
    EXPORT_COLUMNS,
    AnalyticsError,
    ExportRequest,
    Level,
    export_csv,
    export_query,
)
from ingest.db.migrate import MIGRATIONS_DIR
from ingest.ops.unknown_practices import METRIC_NAME, UnknownPracticesGauge
from ingest.reference.memberships import parse_memberships
from ingest.reference.records import ListSize, Membership, ReferenceKind, SubIcb
from ingest.reference.store import load_file, load_history, load_records
from tests.support.daily_rows import insert_days

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reference"
REPO = Path(__file__).resolve().parents[2]
D = dt.date

# A practice P1 moves from sub-ICB X (in ICB A) to sub-ICB Y (in ICB B) on MOVE_DAY.
MOVE_DAY = D(2024, 10, 1)
SERIES = (D(2024, 9, 1), D(2024, 10, 31))
X, Y, A, B = "91X", "91Y", "QXA", "QXB"


async def load_boundaries(pg: asyncpg.Connection) -> None:
    """P1 moves X -> Y on MOVE_DAY; P2 stays in X; P3 stays in Y; P4 closed (left X early);
    X is in ICB A, Y in ICB B."""
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [
            Membership("P00001", X, D(2022, 7, 1), MOVE_DAY - dt.timedelta(days=1)),
            Membership("P00001", Y, MOVE_DAY, None),
            Membership("P00002", X, D(2022, 7, 1), None),
            Membership("P00003", Y, D(2022, 7, 1), None),
            Membership("P00004", X, D(2022, 7, 1), D(2024, 9, 20)),
        ],
        "test memberships",
    )
    await load_records(
        pg,
        ReferenceKind.SUB_ICBS,
        [
            SubIcb(X, "Sub-ICB X", A, "ICB A", D(2022, 7, 1), None),
            SubIcb(Y, "Sub-ICB Y", B, "ICB B", D(2022, 7, 1), None),
        ],
        "test sub-icbs",
    )


async def load_series(pg: asyncpg.Connection) -> None:
    """Two suppliers; P1 switches supplier mid-series and is double-reported one week."""
    first, last = SERIES
    await insert_days(pg, "alpha", "P00001", first, D(2024, 10, 10), 10)
    await insert_days(pg, "beta", "P00001", D(2024, 10, 4), last, 7)
    await insert_days(pg, "alpha", "P00002", first, last, 20)
    await insert_days(pg, "beta", "P00003", first, last, 30, breakdown=False)
    await insert_days(pg, "alpha", "P00004", first, D(2024, 9, 20), 5)  # closed practice
    await insert_days(pg, "alpha", "Q99999", first, last, 1)  # in no membership: unmapped


async def by_code(
    pg: asyncpg.Connection, function: str, vintage: dt.date, code_column: str
) -> dict[str | None, int]:
    """Total requests over the whole series per code under a vintage."""
    rows = await pg.fetch(
        f"SELECT {code_column} AS code, sum(total_requests)::bigint AS total "
        f"FROM triage.{function}($1, $2, $3) GROUP BY 1",
        *SERIES,
        vintage,
    )
    return {r["code"]: r["total"] for r in rows}


def p1_total() -> int:
    alpha = ((D(2024, 10, 10) - SERIES[0]).days + 1) * 10
    beta = ((SERIES[1] - D(2024, 10, 4)).days + 1) * 7
    return alpha + beta


# --- boundary-consistent attribution ----------------------------------------------------------


async def test_practice_history_follows_the_vintage(pg: asyncpg.Connection) -> None:
    await load_boundaries(pg)
    await load_series(pg)
    p2 = 61 * 20
    p3 = 61 * 30

    after = await by_code(pg, "sub_icb_daily", MOVE_DAY + dt.timedelta(days=30), "sub_icb_code")
    assert after[Y] == p1_total() + p3  # all of P1's history, September included, counts in Y
    assert after[X] == p2 + 20 * 5  # P4 (closed before the vintage) stays in its last sub-ICB

    before = await by_code(pg, "sub_icb_daily", MOVE_DAY - dt.timedelta(days=1), "sub_icb_code")
    assert before[X] == p1_total() + p2 + 20 * 5  # all of P1's history, October included, in X
    assert before[Y] == p3

    on_the_day = await by_code(pg, "sub_icb_daily", MOVE_DAY, "sub_icb_code")
    assert on_the_day == after  # effective_from is inclusive

    icb_after = await by_code(pg, "icb_daily", MOVE_DAY + dt.timedelta(days=30), "icb_code")
    icb_before = await by_code(pg, "icb_daily", MOVE_DAY - dt.timedelta(days=1), "icb_code")
    assert icb_after[B] == p1_total() + p3
    assert icb_before[A] == p1_total() + p2 + 20 * 5

    # The mapping itself, and how each practice-day was attributed.
    rows = await pg.fetch(
        "SELECT DISTINCT practice_code, sub_icb_code, icb_code, mapping_basis "
        "FROM triage.practice_daily($1, $2, $3) ORDER BY practice_code",
        *SERIES,
        D(2024, 11, 1),
    )
    assert [tuple(r) for r in rows] == [
        ("P00001", Y, B, "vintage"),
        ("P00002", X, A, "vintage"),
        ("P00003", Y, B, "vintage"),
        ("P00004", X, A, "nearest"),
        ("Q99999", None, None, "unmapped"),
    ]


async def test_national_totals_are_equal_under_every_vintage(pg: asyncpg.Connection) -> None:
    await load_boundaries(pg)
    await load_series(pg)
    raw = await pg.fetch(
        "SELECT activity_date, sum(total_requests)::bigint AS total, "
        "count(DISTINCT practice_code)::int AS practices FROM triage.daily_requests "
        "GROUP BY 1 ORDER BY 1"
    )
    expected = {r["activity_date"]: (r["total"], r["practices"]) for r in raw}
    national = {
        r["activity_date"]: (r["total_requests"], r["practices"])
        for r in await pg.fetch("SELECT * FROM triage.national_daily($1, $2)", *SERIES)
    }
    assert national == expected
    vintages = [
        D(2019, 1, 1),  # before every membership: the earliest ones are used
        D(2024, 9, 20),  # P4's last day
        MOVE_DAY - dt.timedelta(days=1),
        MOVE_DAY,
        D(2030, 1, 1),
    ]
    for vintage in vintages:
        for function in ("sub_icb_daily", "icb_daily"):
            rows = await pg.fetch(
                f"SELECT activity_date, sum(total_requests)::bigint AS total, "
                f"sum(practices)::int AS practices FROM triage.{function}($1, $2, $3) "
                f"GROUP BY 1",
                *SERIES,
                vintage,
            )
            summed = {r["activity_date"]: (r["total"], r["practices"]) for r in rows}
            assert summed == expected, (function, vintage)
        practice_rows = await pg.fetchval(
            "SELECT count(*) FROM triage.practice_daily($1, $2, $3)", *SERIES, vintage
        )
        assert practice_rows == sum(p for _, p in expected.values())


async def test_suppliers_are_summed_and_partial_breakdowns_are_not(pg: asyncpg.Connection) -> None:
    await load_boundaries(pg)
    await load_series(pg)
    day = D(2024, 10, 5)  # P1 reported by both alpha and beta
    row = await pg.fetchrow(
        "SELECT * FROM triage.practice_daily($1, $1, $2) WHERE practice_code = 'P00001'",
        day,
        day,
    )
    assert row is not None
    assert (row["suppliers"], row["total_requests"], row["clinical_requests"]) == (2, 17, 13)
    sub = await pg.fetchrow(
        "SELECT * FROM triage.sub_icb_daily($1, $1, $1) WHERE sub_icb_code = $2", day, Y
    )
    assert sub is not None
    # P3's supplier sends no breakdown: the sub-ICB's breakdown would be partial, so NULL.
    assert (sub["practices"], sub["total_requests"], sub["clinical_requests"]) == (2, 47, None)


async def test_requests_per_1000_use_the_extract_in_force(pg: asyncpg.Connection) -> None:
    await load_boundaries(pg)
    await load_series(pg)
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [
            ListSize("P00002", D(2024, 9, 15), 4000),
            ListSize("P00002", D(2024, 10, 1), 5000),
            ListSize("P00003", D(2024, 9, 1), 6000),
        ],
        "test list sizes",
    )
    rows = {
        r["activity_date"]: r
        for r in await pg.fetch(
            "SELECT * FROM triage.practice_daily($1, $2, $3) WHERE practice_code = 'P00002'",
            *SERIES,
            MOVE_DAY,
        )
    }
    assert rows[D(2024, 9, 14)]["registered_patients"] is None  # before the first extract
    assert rows[D(2024, 9, 14)]["requests_per_1000"] is None
    assert rows[D(2024, 9, 30)]["registered_patients"] == 4000
    assert str(rows[D(2024, 9, 30)]["requests_per_1000"]) == "5.000"
    assert rows[D(2024, 10, 31)]["registered_patients"] == 5000
    assert str(rows[D(2024, 10, 31)]["requests_per_1000"]) == "4.000"
    # Sub-ICB Y on 2024-10-15: P1 (7 requests from beta; no list size) and P3 (30 of 6000).
    sub = await pg.fetchrow(
        "SELECT * FROM triage.sub_icb_daily($1, $1, $2) WHERE sub_icb_code = $3",
        D(2024, 10, 15),
        MOVE_DAY,
        Y,
    )
    assert sub is not None
    assert (sub["practices"], sub["practices_with_list_size"], sub["registered_patients"]) == (
        2,
        1,
        6000,
    )
    assert str(sub["requests_per_1000"]) == "5.000"  # 30 / 6000, P1 left out of the rate


# --- the read-only role ------------------------------------------------------------------------


async def test_triage_reader_sees_the_analytic_views_only(pg: asyncpg.Connection) -> None:
    await load_boundaries(pg)
    await load_series(pg)
    role = await pg.fetchrow(
        "SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'triage_reader'"
    )
    assert role is not None and not role["rolcanlogin"] and not role["rolsuper"]
    await pg.execute("SET ROLE triage_reader")
    try:
        for table in (
            "triage.rejected_events",
            "triage.daily_requests",
            "triage.daily_request_revisions",
            "triage.ref_memberships",
            "triage.consumer_offsets",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pg.fetch(f"SELECT * FROM {table} LIMIT 1")
        assert await pg.fetchval(
            "SELECT sum(total_requests) FROM triage.national_daily($1, $2)", *SERIES
        ) == await pg.fetchval("SELECT sum(total_requests) FROM triage.requests_by_supplier")
        assert await pg.fetchval("SELECT count(*) FROM triage.current_memberships") == 5
        await pg.fetch("SELECT * FROM triage.rejections_daily")
        await pg.fetch("SELECT * FROM triage.unknown_practices")
        await pg.fetch("SELECT * FROM triage.supplier_daily_totals")
        await pg.fetch("SELECT * FROM triage.reference_load_history")
        await pg.fetch("SELECT * FROM triage.supplier_freshness")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pg.execute("DELETE FROM triage.suppliers")
    finally:
        await pg.execute("RESET ROLE")


async def test_analytics_migrations_rerun_cleanly_with_the_role_present(
    pg: asyncpg.Connection,
) -> None:
    """Roles are cluster-wide: a role-creating migration must not fail when its role exists
    (another database of the same server made it). Only those migrations are run again: a
    later migration may have redefined what an earlier one made, so rerunning every old
    migration on today's schema tests nothing the upgrade path does."""
    assert await pg.fetchval("SELECT 1 FROM pg_roles WHERE rolname = 'triage_reader'") == 1
    role_creating = [
        path for path in sorted(MIGRATIONS_DIR.glob("*.sql")) if "CREATE ROLE" in path.read_text()
    ]
    assert role_creating, "no migration creates a role: nothing to rerun"
    tr = pg.transaction()
    await tr.start()
    try:
        for path in role_creating:
            await pg.execute(path.read_text())
    finally:
        await tr.rollback()


# --- reference loads ---------------------------------------------------------------------------


async def test_loaders_are_idempotent(pg: asyncpg.Connection, tmp_path: Path) -> None:
    files = {
        ReferenceKind.PRACTICES: FIXTURES / "epraccur_sample.csv",
        ReferenceKind.MEMBERSHIPS: FIXTURES / "memberships_sample.csv",
        ReferenceKind.SUB_ICBS: FIXTURES / "sub_icbs_sample.csv",
        ReferenceKind.LIST_SIZES: FIXTURES / "list_sizes_sample.csv",
    }
    first = {kind: await load_file(pg, kind, path) for kind, path in files.items()}
    assert all(r.created for r in first.values())
    counts = {
        t: await pg.fetchval(f"SELECT count(*) FROM triage.{t}")
        for t in ("ref_practices", "ref_memberships", "ref_sub_icbs", "ref_list_sizes")
    }
    assert counts == {
        "ref_practices": 12,
        "ref_memberships": 13,
        "ref_sub_icbs": 4,
        "ref_list_sizes": 18,
    }
    # Same files again, and the memberships file with its rows shuffled: nothing changes.
    lines = (FIXTURES / "memberships_sample.csv").read_text().splitlines()
    shuffled = tmp_path / "memberships_reordered.csv"
    shuffled.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    again = {kind: await load_file(pg, kind, path) for kind, path in files.items()}
    again[ReferenceKind.MEMBERSHIPS] = await load_file(pg, ReferenceKind.MEMBERSHIPS, shuffled)
    for kind, result in again.items():
        assert not result.created
        assert result.load_id == first[kind].load_id
    for table, n in counts.items():
        assert await pg.fetchval(f"SELECT count(*) FROM triage.{table}") == n
    assert len(await load_history(pg)) == 4
    # A merge that adds nothing new is a no-op too.
    merged = await load_file(
        pg, ReferenceKind.LIST_SIZES, FIXTURES / "list_sizes_nhs_layout_sample.csv", merge=True
    )
    assert not merged.created


async def test_reload_replaces_the_current_set_and_keeps_history(
    pg: asyncpg.Connection,
) -> None:
    original = (FIXTURES / "memberships_sample.csv").read_text()
    first = await load_file(pg, ReferenceKind.MEMBERSHIPS, FIXTURES / "memberships_sample.csv")
    # A boundary redraw: B99001 also moves to 91B from 2025-04-01; C99005 leaves the file.
    redrawn = (
        original.replace("B99001,91A,2022-07-01,\n", "B99001,91A,2022-07-01,2025-03-31\n")
        .replace("C99005,92C,2022-07-01,\n", "")
        .rstrip("\n")
        + "\nB99001,91B,2025-04-01,\n"
    )
    second = await load_records(
        pg, ReferenceKind.MEMBERSHIPS, parse_memberships(redrawn), "memberships_2025.csv"
    )
    assert second.created and second.replaced_load_id == first.load_id

    current = await pg.fetch(
        "SELECT practice_code, commissioner_code, effective_from, effective_to "
        "FROM triage.current_memberships WHERE practice_code IN ('B99001', 'C99005') "
        "ORDER BY effective_from"
    )
    assert [(r["practice_code"], r["commissioner_code"]) for r in current] == [
        ("B99001", "91A"),
        ("B99001", "91B"),
    ]
    assert await pg.fetchval("SELECT count(*) FROM triage.current_memberships") == 13
    history = await load_history(pg, ReferenceKind.MEMBERSHIPS)
    assert [(h.load_id, h.is_current, h.source_name) for h in history] == [
        (second.load_id, True, "memberships_2025.csv"),
        (first.load_id, False, "memberships_sample.csv"),
    ]
    assert history[1].superseded_at is not None
    superseded_by = await pg.fetchval(
        "SELECT superseded_by FROM triage.reference_loads WHERE load_id = $1", first.load_id
    )
    assert superseded_by == second.load_id
    # The old version's rows are all still there, under the old load id.
    old_rows = await pg.fetchval(
        "SELECT count(*) FROM triage.ref_memberships WHERE load_id = $1", first.load_id
    )
    assert old_rows == 13
    # Reloading the first version makes it current again as a new load (history grows).
    third = await load_file(pg, ReferenceKind.MEMBERSHIPS, FIXTURES / "memberships_sample.csv")
    assert third.created and third.load_id not in (first.load_id, second.load_id)
    assert len(await load_history(pg, ReferenceKind.MEMBERSHIPS)) == 3


async def test_concurrent_loads_of_one_kind_leave_one_current(db_url: str) -> None:
    conns = [await asyncpg.connect(db_url) for _ in range(4)]
    try:
        texts = [
            "practice_code,commissioner_code,effective_from,effective_to\n"
            f"K9900{i},91A,2022-07-01,\n"
            for i in range(4)
        ]
        results = await asyncio.gather(
            *(
                load_records(c, ReferenceKind.MEMBERSHIPS, parse_memberships(t), f"f{i}")
                for i, (c, t) in enumerate(zip(conns, texts, strict=True))
            )
        )
        assert all(r.created for r in results)
        history = await load_history(conns[0], ReferenceKind.MEMBERSHIPS)
        assert len(history) == 4
        assert sum(h.is_current for h in history) == 1
    finally:
        for c in conns:
            await c.close()


# --- unknown practices -------------------------------------------------------------------------


async def test_unknown_practices_view_and_metric(pg: asyncpg.Connection) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ('alpha', 'Alpha'), "
        "('beta', 'Beta'), ('gamma', 'Gamma')"
    )
    day = D(2024, 10, 1)
    await insert_days(pg, "alpha", "B99001", day, day, 5)  # in the fixture epraccur
    await insert_days(pg, "alpha", "Z00001", day, day + dt.timedelta(days=2), 5)  # unknown
    await insert_days(pg, "alpha", "Z00002", day, day, 5)  # unknown
    await insert_days(pg, "beta", "Z00001", day, day, 5)  # unknown
    await insert_days(pg, "retired", "Z00003", day, day, 5)  # a supplier no longer registered
    registry = CollectorRegistry()
    gauge = UnknownPracticesGauge(registry)

    # No practice reference loaded yet: nothing is "unknown".
    assert await pg.fetch("SELECT * FROM triage.unknown_practices") == []
    assert await gauge.refresh(pg) == {"alpha": 0, "beta": 0, "gamma": 0}

    await load_file(pg, ReferenceKind.PRACTICES, FIXTURES / "epraccur_sample.csv")
    rows = await pg.fetch(
        "SELECT supplier_id, practice_code, days_reported FROM triage.unknown_practices "
        "ORDER BY 1, 2"
    )
    assert [tuple(r) for r in rows] == [
        ("alpha", "Z00001", 3),
        ("alpha", "Z00002", 1),
        ("beta", "Z00001", 1),
        ("retired", "Z00003", 1),
    ]
    counts = await gauge.refresh(pg)
    assert counts == {"alpha": 2, "beta": 1, "gamma": 0, "unknown": 1}
    for label, n in counts.items():
        assert registry.get_sample_value(METRIC_NAME, {"supplier": label}) == n
    assert registry.get_sample_value(METRIC_NAME, {"supplier": "retired"}) is None

    await pg.execute("DELETE FROM triage.suppliers WHERE supplier_id = 'gamma'")
    await gauge.refresh(pg)
    assert registry.get_sample_value(METRIC_NAME, {"supplier": "gamma"}) is None


# --- export ------------------------------------------------------------------------------------


async def export_text(pg: asyncpg.Connection, request: ExportRequest) -> str:
    parts: list[bytes] = []

    async def write(chunk: bytes) -> None:
        parts.append(chunk)

    await export_csv(pg, request, write)
    return b"".join(parts).decode()


@pytest.mark.parametrize("level", list(Level))
async def test_export_has_a_header_and_iso_dates(pg: asyncpg.Connection, level: Level) -> None:
    await load_boundaries(pg)
    await load_series(pg)
    await pg.execute("SET DateStyle = 'SQL, DMY'")  # a session style must not leak into the CSV
    text = await export_text(pg, ExportRequest(level, D(2024, 9, 30), D(2024, 10, 2), MOVE_DAY))
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS[level]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[0]) for r in rows[1:])
    assert {r[0] for r in rows[1:]} == {"2024-09-30", "2024-10-01", "2024-10-02"}
    total_col = EXPORT_COLUMNS[level].index("total_requests")
    national = await pg.fetchval(
        "SELECT sum(total_requests) FROM triage.daily_requests "
        "WHERE activity_date BETWEEN '2024-09-30' AND '2024-10-02'"
    )
    assert sum(int(r[total_col]) for r in rows[1:]) == national


async def test_export_refuses_a_reversed_range() -> None:
    with pytest.raises(AnalyticsError, match="before"):
        ExportRequest(Level.ICB, D(2024, 10, 2), D(2024, 10, 1), MOVE_DAY)


async def test_export_runs_as_a_triage_reader_member(pg: asyncpg.Connection) -> None:
    await load_boundaries(pg)
    await load_series(pg)
    await pg.execute("SET ROLE triage_reader")
    try:
        text = await export_text(pg, ExportRequest(Level.SUB_ICB, *SERIES, MOVE_DAY))
    finally:
        await pg.execute("RESET ROLE")
    assert text.startswith("activity_date,sub_icb_code,")


def run_export_child(db_url: str, args: Sequence[str]) -> tuple[int, int, int]:
    """Run ``ingest export`` in a fresh interpreter writing to /dev/null; return
    (rows, bytes, peak RSS in KiB) of that process."""
    code = (
        "import resource, sys\n"
        "from ingest.cli import main\n"
        "sys.argv = ['ingest', 'export', *sys.argv[1:]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    if exc.code: raise\n"
        "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " file=sys.stderr)\n"
    )
    env = {**os.environ, "INGEST_DATABASE_URL": db_url, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
        text=True,
        timeout=600,
        check=True,
    )
    stats = re.search(r"exported ([\d,]+) rows \(([\d,]+) bytes\)", done.stderr)
    peak = re.search(r"PEAK_RSS_KIB (\d+)", done.stderr)
    assert stats and peak, done.stderr
    return (
        int(stats.group(1).replace(",", "")),
        int(stats.group(2).replace(",", "")),
        int(peak.group(1)),
    )


def run_fetch_child(db_url: str, request: ExportRequest) -> int:
    """Peak RSS (KiB) of a fresh interpreter that fetches the export's rows into memory."""
    query, args = export_query(request)
    code = (
        "import asyncio, asyncpg, datetime, resource, sys\n"
        "async def main():\n"
        "    conn = await asyncpg.connect(sys.argv[1])\n"
        "    args = [a if a.isalpha() else datetime.date.fromisoformat(a) for a in sys.argv[3:]]\n"
        "    rows = await conn.fetch(sys.argv[2], *args)\n"
        "    print('ROWS', len(rows), file=sys.stderr)\n"
        "asyncio.run(main())\n"
        "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, db_url, query, *(str(a) for a in args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO,
        text=True,
        timeout=600,
        check=True,
    )
    peak = re.search(r"PEAK_RSS_KIB (\d+)", done.stderr)
    assert peak, done.stderr
    return int(peak.group(1))


@pytest.mark.slow
async def test_export_of_a_wide_range_streams_in_bounded_memory(
    pg: asyncpg.Connection, db_url: str
) -> None:
    practices, days = 1000, 1000  # 1,000,000 practice-days
    first = D(2022, 1, 1)
    last = first + dt.timedelta(days=days - 1)
    await pg.execute(
        """INSERT INTO triage.daily_requests (supplier_id, practice_code, activity_date, revision,
               total_requests, clinical_requests, admin_requests, other_requests, event_id,
               generated_at)
           SELECT 'alpha', 'W' || lpad(p::text, 5, '0'), $1::date + d, 1, 10 + (p + d) % 50,
                  NULL, NULL, NULL, gen_random_uuid(), now()
           FROM generate_series(1, $2) p, generate_series(0, $3 - 1) d""",
        first,
        practices,
        days,
    )
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [
            Membership(f"W{p:05d}", f"9{p % 10}Z", D(2020, 1, 1), None)
            for p in range(1, practices + 1)
        ],
        "wide memberships",
    )
    await pg.execute("ANALYZE triage.daily_requests")

    # In process: the CSV arrives as many bounded chunks, never as one result set.
    chunks: list[int] = []

    async def count(chunk: bytes) -> None:
        chunks.append(len(chunk))

    stats = await export_csv(pg, ExportRequest(Level.PRACTICE, first, last, last), count)
    assert stats.rows == practices * days
    assert stats.chunks == len(chunks) > 100
    assert stats.largest_chunk <= 4 * 1024 * 1024 < stats.bytes // 10

    # Out of process: peak RSS of `ingest export` for one day vs. the whole range.
    base_rows, _base_bytes, base_rss = run_export_child(
        db_url,
        [
            "--by",
            "practice",
            "--from",
            first.isoformat(),
            "--to",
            first.isoformat(),
            "--vintage",
            last.isoformat(),
        ],
    )
    wide_rows, wide_bytes, wide_rss = run_export_child(
        db_url,
        [
            "--by",
            "practice",
            "--from",
            first.isoformat(),
            "--to",
            last.isoformat(),
            "--vintage",
            last.isoformat(),
        ],
    )
    growth_kib = wide_rss - base_rss
    # Control: the same query fetched into memory (not streamed) must show up in the same
    # measurement, or the measurement would prove nothing.
    control_rss = run_fetch_child(db_url, ExportRequest(Level.PRACTICE, first, last, last))
    print(
        f"\nexport of {wide_rows:,} rows / {wide_bytes / 2**20:.1f} MiB CSV: peak RSS "
        f"{wide_rss / 1024:.1f} MiB vs {base_rss / 1024:.1f} MiB for {base_rows:,} rows "
        f"(growth {growth_kib / 1024:.1f} MiB); fetching the same rows into memory instead "
        f"peaks at {control_rss / 1024:.1f} MiB; in-process {stats.chunks:,} chunks, "
        f"largest {stats.largest_chunk:,} bytes"
    )
    assert (base_rows, wide_rows) == (practices, practices * days)
    assert wide_bytes > 40 * 2**20
    # Holding the result (or the CSV) in memory would grow RSS by more than the CSV's size;
    # streaming keeps the peak flat: allow a quarter of it for allocator noise.
    assert growth_kib * 1024 < wide_bytes // 4
    assert (control_rss - base_rss) * 1024 > wide_bytes
