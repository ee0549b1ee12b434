"""One ICB month of appointments and online submissions in the database, for the activity
tests: the GPAD crosstab excerpt, memberships, sub-ICBs and list sizes, and feed days; and
what the rule needs of each practice, derived from those inputs alone."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path

import asyncpg

from ingest.analytics.activity.rule import PracticeMonth
from ingest.reference.appointment_store import load_appointment_files
from ingest.reference.records import ListSize, Membership, ReferenceKind, SubIcb
from ingest.reference.store import load_records
from tests.support.daily_rows import insert_days
from tests.support.gpad import FIXTURE, fixture_rows, sums

D = dt.date
ICB_OF_SUB_ICB = {"16C": "QHM", "01H": "QHM", "01K": "QE1"}
FEED_ONLY = "A81005"  # submissions, no GPAD rows


async def set_up_month(
    pg: asyncpg.Connection, seed: int, crosstab: Path = FIXTURE
) -> dict[str, PracticeMonth]:
    """The crosstab excerpt, memberships and list sizes, and online submissions; what the rule
    needs of each practice, as derived from those inputs."""
    rng = random.Random(seed)
    rows = fixture_rows(crosstab)
    sub_icb = {r["GP_CODE"]: r["SUB_ICB_LOCATION_CODE"] for r in rows}
    sub_icb[FEED_ONLY] = "16C"
    await load_appointment_files(pg, [crosstab])
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [Membership(code, s, D(2022, 7, 1), None) for code, s in sorted(sub_icb.items())],
        "test memberships",
    )
    await load_records(
        pg,
        ReferenceKind.SUB_ICBS,
        [SubIcb(s, None, icb, None, D(2022, 7, 1), None) for s, icb in ICB_OF_SUB_ICB.items()],
        "test sub-ICBs",
    )
    patients = {code: rng.randint(2000, 16000) for code in sub_icb}
    sizes = [ListSize(code, D(2024, 9, 1), n + 500) for code, n in patients.items()]
    sizes += [ListSize(code, D(2024, 10, 1), n) for code, n in patients.items()]
    sizes.append(ListSize("A81001", D(2024, 11, 1), 1))  # after the month: not used
    await load_records(pg, ReferenceKind.LIST_SIZES, sizes, "test list sizes")

    submissions: Counter[str] = Counter()
    for code in sorted(sub_icb):
        if rng.random() < 0.15:
            continue  # no feed for this practice
        daily = rng.randint(0, 60)
        first, last = D(2024, 10, 1), D(2024, 10, 31)
        await insert_days(pg, "sa", code, first, last, daily, breakdown=rng.random() < 0.5)
        submissions[code] += daily * 31
        if rng.random() < 0.3:  # a second supplier for part of the month
            await insert_days(pg, "sb", code, D(2024, 10, 10), D(2024, 10, 19), 7)
            submissions[code] += 7 * 10
        await insert_days(pg, "sa", code, D(2024, 9, 30), D(2024, 9, 30), 999)  # not October
        await insert_days(pg, "sa", code, D(2024, 11, 1), D(2024, 11, 1), 999)
    appointments = Counter({code: 0 for code in sub_icb if code != FEED_ONLY})
    for (code, _, _), n in sums(rows).items():
        appointments[code] += n
    return {
        code: PracticeMonth(
            code,
            ICB_OF_SUB_ICB[sub_icb[code]],
            patients[code],
            appointments.get(code),
            submissions.get(code),
        )
        for code in sub_icb
    }
