"""A small area of reference data for export tests: practices in sub-ICBs 91X and 91Y, both
in ICB QXA, members since July 2022 (when ICBs began)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from ingest.reference.records import Membership, ReferenceKind, SubIcb
from ingest.reference.store import load_records

SINCE = dt.date(2022, 7, 1)


async def load_two_sub_icbs(
    pg: asyncpg.Connection, in_91x: Sequence[str], in_91y: Sequence[str]
) -> None:
    """Memberships of these practices and the two sub-ICBs, as current reference loads."""
    members = [Membership(code, "91X", SINCE, None) for code in in_91x]
    members += [Membership(code, "91Y", SINCE, None) for code in in_91y]
    await load_records(pg, ReferenceKind.MEMBERSHIPS, members, "test memberships")
    await load_records(
        pg,
        ReferenceKind.SUB_ICBS,
        [SubIcb("91X", "X", "QXA", "A", SINCE, None), SubIcb("91Y", "Y", "QXA", "A", SINCE, None)],
        "test sub-icbs",
    )
