"""Real public data for one sub-ICB location and month: NHS England's GPAD practice-level
crosstab for October 2025 (the 10 practices of 10R, Portsmouth, ICB QRL; the zip as the
month is published) and NHS England's online consultation submissions of the same practices
and month (with their registered patients). `ingest reference appointments` loads the zip,
the submissions arrive as feed rows, `ingest activity` writes the month: every practice's
appointments by mode and status and its submissions are exact, its rate is NHS England's
published rate, and the practices flagged are exactly those the rule names. Every expected
figure comes from the two files, read here on their own."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections import Counter
from fractions import Fraction
from pathlib import Path

import asyncpg
import pytest

from ingest.analytics.activity.rule import PracticeMonth
from ingest.reference.records import ListSize, Membership, ReferenceKind, SubIcb
from ingest.reference.store import load_records
from ingest.settings import Settings
from tests.support.activity_oracle import expected_flags
from tests.support.cli import cli_env, run_cli

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "appointments"
GPAD_ZIP = FIXTURES / "Practice_Level_Crosstab_Oct_25_10R.zip"
SUBMISSIONS = FIXTURES / "oc_submissions_oct_25_10R.csv"
D = dt.date
MODES = {
    "Face-to-Face": "appointments_face_to_face",
    "Telephone": "appointments_telephone",
    "Video Conference/Online": "appointments_video_online",
    "Home Visit": "appointments_home_visit",
    "Unknown": "appointments_unknown_mode",
}


def crosstab_rows() -> list[dict[str, str]]:
    with zipfile.ZipFile(GPAD_ZIP) as z:
        (name,) = z.namelist()
        text = z.read(name).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def published_submissions() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(SUBMISSIONS.read_text(encoding="utf-8"))))


async def feed_month(pg: asyncpg.Connection, practice: str, submissions: int) -> None:
    """The month's submissions as one supplier's daily rows (untyped), summing to the total."""
    await pg.execute(
        """INSERT INTO triage.daily_requests (supplier_id, practice_code, activity_date, revision,
               total_requests, event_id, generated_at)
           SELECT 'published', $1, d::date, 1,
                  $2 / 31 + CASE WHEN extract(day FROM d) <= $2 % 31 THEN 1 ELSE 0 END,
                  gen_random_uuid(), now()
           FROM generate_series('2025-10-01'::date, '2025-10-31'::date, interval '1 day') d""",
        practice,
        submissions,
    )


async def test_real_gpad_and_submissions_give_exact_figures_and_the_rules_flags(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    gpad = crosstab_rows()
    published = {r["GP Code"]: r for r in published_submissions()}
    practices = sorted({r["GP_CODE"] for r in gpad} | set(published))
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [Membership(code, "10R", D(2022, 7, 1), None) for code in practices],
        "10R",
    )
    await load_records(
        pg, ReferenceKind.SUB_ICBS, [SubIcb("10R", None, "QRL", None, D(2022, 7, 1), None)], "QRL"
    )
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [
            ListSize(code, D(2025, 10, 1), int(r["Registered Patient Count"]))
            for code, r in published.items()
        ],
        "published registered patients",
    )
    fed = {
        code: int(r["Submissions"])
        for code, r in published.items()
        if r["Participation"] == "1" and int(r["Submissions"]) > 0
    }
    for code, total in fed.items():
        await feed_month(pg, code, total)

    env = cli_env(settings)
    loaded = await run_cli("reference", "appointments", str(GPAD_ZIP), env=env)
    assert loaded.code == 0, loaded.output
    out = tmp_path / "activity.csv"
    done = await run_cli(
        "activity", "--month", "2025-10", "--icb", "QRL", "--out", str(out), env=env
    )
    assert done.code == 0, done.output
    got = {r["practice_code"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}

    appointments: Counter[str] = Counter()
    by_mode: Counter[tuple[str, str]] = Counter()
    attended: Counter[str] = Counter()
    for r in gpad:
        n = int(r["COUNT_OF_APPOINTMENTS"])
        appointments[r["GP_CODE"]] += n
        by_mode[(r["GP_CODE"], r["APPT_MODE"])] += n
        if r["APPT_STATUS"] == "Attended":
            attended[r["GP_CODE"]] += n
    assert set(got) == set(appointments) | set(fed)
    for code, row in got.items():
        assert int(row["appointments"]) == appointments[code]
        assert int(row["appointments_attended"]) == attended[code]
        for mode, column in MODES.items():
            assert int(row[column]) == by_mode[(code, mode)], (code, mode)
        assert row["submissions"] == str(fed.get(code, ""))
        patients = int(published[code]["Registered Patient Count"])
        assert int(row["registered_patients"]) == patients
        # NHS England's own rate, rounded as the CSV rounds
        rate = Fraction(published[code]["Rate per 1,000 Registered Patients"])
        if code in fed:
            assert abs(Fraction(row["submissions_per_1000"]) - rate) <= Fraction(1, 200)

    month = [
        PracticeMonth(
            code,
            "QRL",
            int(published[code]["Registered Patient Count"]),
            appointments.get(code),
            fed.get(code),
        )
        for code in practices
    ]
    flagged = {code for code, row in got.items() if row["looks_quiet_in_appointments"] == "1"}
    assert flagged == expected_flags(month)
    assert flagged  # this month of real data flags practices: the rule is exercised
