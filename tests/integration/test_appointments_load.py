"""`ingest reference appointments FILE...`: a GPAD crosstab month becomes the current
appointments load of that month; loading the month again replaces it and both loads stay in
the history; a bad file changes nothing and ends in one line (exit 2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import asyncpg
import pytest

from ingest.reference.appointment_store import load_appointment_files
from ingest.reference.appointments import AppointmentsFileError
from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli
from tests.support.gpad import FIXTURE, HEADER, crosstab_text, fixture_rows, sums

pytestmark = pytest.mark.integration

OCTOBER = dt.date(2024, 10, 1)


async def stored(pg: asyncpg.Connection) -> dict[tuple[str, str, str], int]:
    rows = await pg.fetch(
        "SELECT practice_code, appt_mode, appt_status, appointments "
        "FROM triage.current_appointments WHERE month = $1",
        OCTOBER,
    )
    return {(r[0], r[1], r[2]): r[3] for r in rows}


async def test_a_month_is_stored_folded_by_practice_mode_and_status(
    pg: asyncpg.Connection,
) -> None:
    loads, _ = await load_appointment_files(pg, [FIXTURE])
    assert [(m.month, m.created, m.crosstab_rows) for m in loads] == [
        ("2024-10", True, len(fixture_rows()))
    ]
    assert await stored(pg) == dict(sums(fixture_rows()))


async def test_loading_a_month_again_replaces_it_and_the_history_keeps_both(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    first, _ = await load_appointment_files(pg, [FIXTURE])
    again, _ = await load_appointment_files(pg, [FIXTURE])
    assert again[0].created is False and again[0].load_id == first[0].load_id

    restated_rows = fixture_rows()[:-1]  # a practice's last row withdrawn
    restated = tmp_path / "Practice_Level_Crosstab_Oct_24.csv"
    restated.write_text(crosstab_text([list(r.values()) for r in restated_rows]))
    second, _ = await load_appointment_files(pg, [restated])
    assert second[0].created and second[0].replaced_load_id == first[0].load_id
    assert await stored(pg) == dict(sums(restated_rows))
    history = await pg.fetch(
        "SELECT h.load_id, h.is_current, h.source_name FROM triage.reference_load_history h "
        "JOIN triage.reference_loads l USING (load_id) "
        "WHERE l.kind = 'appointments' AND l.month = $1 ORDER BY h.load_id",
        OCTOBER,
    )
    assert [(r["load_id"], r["is_current"]) for r in history] == [
        (first[0].load_id, False),
        (second[0].load_id, True),
    ]
    assert all(r["source_name"].endswith("(month 2024-10)") for r in history)


async def test_months_are_versioned_independently(pg: asyncpg.Connection, tmp_path: Path) -> None:
    september = tmp_path / "Practice_Level_Crosstab_Sep_24.csv"
    september.write_text(
        crosstab_text([list(r.values()) for r in fixture_rows()[:3]]).replace(
            "01OCT2024", "01SEP2024"
        )
    )
    await load_appointment_files(pg, [FIXTURE])
    await load_appointment_files(pg, [september])
    current = await pg.fetch(
        "SELECT month FROM triage.reference_loads WHERE kind = 'appointments' "
        "AND superseded_at IS NULL ORDER BY month"
    )
    assert [r["month"] for r in current] == [dt.date(2024, 9, 1), OCTOBER]
    assert await stored(pg) == dict(sums(fixture_rows()))


async def test_a_bad_file_among_good_ones_loads_nothing(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await load_appointment_files(pg, [FIXTURE])
    before = await stored(pg)
    rows = [list(r.values()) for r in fixture_rows()]
    rows[-1][HEADER.index("COUNT_OF_APPOINTMENTS")] = "n/a"
    bad = tmp_path / "Practice_Level_Crosstab_Oct_24.csv"
    bad.write_text(crosstab_text(rows[:5]) + crosstab_text(rows[-1:]).split("\r\n", 1)[1])
    good_other_month = tmp_path / "Practice_Level_Crosstab_Nov_24.csv"
    good_other_month.write_text(
        crosstab_text([list(r.values()) for r in fixture_rows()[:2]]).replace(
            "01OCT2024", "01NOV2024"
        )
    )
    with pytest.raises(AppointmentsFileError, match="line 7, column COUNT_OF_APPOINTMENTS"):
        await load_appointment_files(pg, [good_other_month, bad])
    assert await stored(pg) == before
    assert (
        await pg.fetchval("SELECT count(*) FROM triage.reference_loads WHERE kind = 'appointments'")
        == 1
    )


async def test_the_command_loads_and_a_bad_file_is_one_line_exit_2(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    ok = await run_cli("reference", "appointments", str(FIXTURE), env=cli_env(settings))
    assert ok.code == 0, ok.output
    assert f"appointments 2024-10: loaded {len(fixture_rows()):,} crosstab rows" in ok.stdout

    bad = tmp_path / "Practice_Level_Crosstab_Oct_24.csv"
    bad.write_text(
        crosstab_text(
            [
                [
                    "01OCT2024",
                    "A81001",
                    "X",
                    "EMIS",
                    "",
                    "",
                    "16C",
                    "",
                    "GP",
                    "Telepathy",
                    "",
                    "",
                    "3",
                    "Attended",
                ]
            ]
        )
    )
    failed = await run_cli("reference", "appointments", str(bad), env=cli_env(settings))
    assert failed.code == 2
    assert failed.stderr.strip().count("\n") == 0
    assert "line 2, column APPT_MODE: 'Telepathy'" in failed.stderr
    assert "Traceback" not in failed.output


async def test_the_reader_can_query_the_current_appointments(pg: asyncpg.Connection) -> None:
    await load_appointment_files(pg, [FIXTURE])
    await pg.execute("SET ROLE triage_reader")
    try:
        total = await pg.fetchval(
            "SELECT sum(appointments) FROM triage.current_appointments a "
            "JOIN triage.current_appointment_practices p USING (month, practice_code)"
        )
    finally:
        await pg.execute("RESET ROLE")
    assert total == sum(sums(fixture_rows()).values())
