"""`ingest activity --month YYYY-MM [--icb CODE] --out FILE.csv`: GPAD crosstab rows of an
ICB's month and the feed's submissions give, per practice, exact appointments by mode and
status, exact submissions, and the "looks quiet in appointments" flag of exactly the practices
the rule names. Every expected figure is derived here from the inputs (the crosstab's rows,
the days inserted, the list sizes), never from the command's output. triage_reader can ask
the same of triage.practice_activity, which applies the same rule in SQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import asyncpg
import pytest

from ingest.settings import Settings
from tests.support.activity_month import set_up_month
from tests.support.activity_oracle import expected_flags
from tests.support.cli import cli_env, run_cli
from tests.support.daily_rows import insert_days
from tests.support.gpad import fixture_rows, sums

pytestmark = pytest.mark.integration

D = dt.date
MODE_COLUMNS = {
    "Face-to-Face": "appointments_face_to_face",
    "Telephone": "appointments_telephone",
    "Video Conference/Online": "appointments_video_online",
    "Home Visit": "appointments_home_visit",
    "Unknown": "appointments_unknown_mode",
}


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return {r["practice_code"]: r for r in rows}


@pytest.mark.parametrize("seed", [2, 3, 4])  # seeds whose inputs flag practices in QHM
async def test_an_icbs_month_gives_exact_figures_and_flags_exactly_what_the_rule_names(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path, seed: int
) -> None:
    expected = await set_up_month(pg, seed)
    out = tmp_path / "activity.csv"
    done = await run_cli(
        "activity", "--month", "2024-10", "--icb", "QHM", "--out", str(out),
        env=cli_env(settings),
    )  # fmt: skip
    assert done.code == 0, done.output
    got = read_csv(out)
    in_qhm = {code for code, p in expected.items() if p.icb_code == "QHM"}
    assert set(got) == {c for c in in_qhm if expected[c].appointments or expected[c].submissions}

    by_key = sums(fixture_rows())
    for code, row in got.items():
        p = expected[code]
        assert row["month"] == "2024-10" and row["icb_code"] == "QHM"
        assert row["registered_patients"] == str(p.registered_patients)
        assert row["submissions"] == ("" if p.submissions is None else str(p.submissions))
        if p.appointments is None:
            assert row["appointments"] == ""
            continue
        assert int(row["appointments"]) == p.appointments
        attended = sum(n for (c, _, s), n in by_key.items() if c == code and s == "Attended")
        assert int(row["appointments_attended"]) == attended
        for mode, column in MODE_COLUMNS.items():
            in_mode = sum(n for (c, m, _), n in by_key.items() if c == code and m == mode)
            assert int(row[column]) == in_mode, (code, column)
    flagged = {code for code, row in got.items() if row["looks_quiet_in_appointments"] == "1"}
    assert flagged == expected_flags([p for p in expected.values() if p.icb_code == "QHM"])


async def test_the_sql_function_the_reader_queries_flags_the_same_practices(
    pg: asyncpg.Connection,
) -> None:
    for seed in range(1, 10):
        expected = await set_up_month(pg, seed)
        await pg.execute("SET ROLE triage_reader")
        try:
            rows = await pg.fetch(
                "SELECT practice_code, looks_quiet_in_appointments, appointments, submissions "
                "FROM triage.practice_activity($1)",
                D(2024, 10, 15),
            )
        finally:
            await pg.execute("RESET ROLE")
        assert {r[0] for r in rows if r[1]} == expected_flags(list(expected.values())), seed
        assert {r[0]: (r[2], r[3]) for r in rows} == {
            code: (p.appointments, p.submissions)
            for code, p in expected.items()
            if p.appointments is not None or p.submissions
        }
        await pg.execute(
            "TRUNCATE triage.daily_requests, triage.daily_request_revisions, "
            "triage.practice_month_summary, triage.reference_loads, triage.ref_memberships, "
            "triage.ref_sub_icbs, triage.ref_list_sizes, triage.ref_appointments, "
            "triage.ref_appointment_practices CASCADE"
        )


async def test_a_bad_month_or_icb_is_one_line_exit_2(settings: Settings, tmp_path: Path) -> None:
    for args in (["--month", "2024-13"], ["--month", "2024-10", "--icb", "no such"]):
        done = await run_cli(
            "activity", *args, "--out", str(tmp_path / "a.csv"), env=cli_env(settings)
        )
        assert done.code == 2, done.output
        assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.output
    assert not (tmp_path / "a.csv").exists()


async def test_a_month_without_gpad_says_so_and_flags_nobody(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await insert_days(pg, "sa", "A81001", dt.date(2024, 10, 1), dt.date(2024, 10, 31), 5)
    out = tmp_path / "a.csv"
    done = await run_cli("activity", "--month", "2024-10", "--out", str(out), env=cli_env(settings))
    assert done.code == 0, done.output
    assert "no GPAD appointments are loaded for this month" in done.stderr
    (row,) = read_csv(out).values()
    assert (row["submissions"], row["appointments"], row["looks_quiet_in_appointments"]) == (
        str(5 * 31),
        "",
        "0",
    )


async def test_pages_without_an_icb_are_one_per_icb_each_listing_its_own_flagged(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    expected = await set_up_month(pg, 4)  # flags practices in both ICBs
    pages = tmp_path / "pages"
    pages.mkdir()
    out = tmp_path / "all.csv"
    done = await run_cli(
        "activity", "--month", "2024-10", "--out", str(out), "--pages", str(pages),
        env=cli_env(settings),
    )  # fmt: skip
    assert done.code == 0, done.output
    icbs = sorted({p.icb_code for p in expected.values() if p.icb_code})
    assert sorted(f.name for f in pages.iterdir()) == [f"activity-{i}-2024-10.html" for i in icbs]
    for icb in icbs:
        html = (pages / f"activity-{icb}-2024-10.html").read_text()
        table = (
            html.split('<table id="flagged">', 1)[1].split("</table>", 1)[0]
            if ('<table id="flagged">' in html)
            else ""
        )
        listed = set(re.findall(r'<tr data-practice="([A-Z][0-9]{5})">', table))
        assert listed == expected_flags([p for p in expected.values() if p.icb_code == icb])
