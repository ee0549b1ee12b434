"""The month's appointments and submissions per practice from Postgres, and the rule's flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

import asyncpg

from ingest.analytics.activity.rule import PracticeMonth, looks_quiet, per_1000
from ingest.analytics.export import AnalyticsError
from ingest.db.connection import MISSING_SCHEMA_ERRORS
from ingest.db.queries import queries

SQL = queries("ingest.analytics.activity")


@dataclass(frozen=True, slots=True)
class PracticeActivity:
    """One practice's month: the activity CSV's row before formatting."""

    month: dt.date
    practice_code: str
    practice_name: str | None
    icb_code: str | None
    icb_name: str | None
    registered_patients: int | None
    appointments: int | None
    appointments_attended: int | None
    appointments_face_to_face: int | None
    appointments_telephone: int | None
    appointments_video_online: int | None
    appointments_home_visit: int | None
    appointments_unknown_mode: int | None
    submissions: int | None
    looks_quiet_in_appointments: bool

    @property
    def appointments_per_1000(self) -> Fraction | None:
        return per_1000(self.appointments, self.registered_patients)

    @property
    def submissions_per_1000(self) -> Fraction | None:
        return per_1000(self.submissions, self.registered_patients)


async def collect_activity(
    conn: asyncpg.Connection, month: dt.date, icb: str | None = None
) -> list[PracticeActivity]:
    """Every practice of the month (of ``icb`` only, when given), by practice code. The rule
    is applied over each whole ICB before any filter."""
    try:
        rows = await conn.fetch(SQL["practice_activity"], month)
    except MISSING_SCHEMA_ERRORS as exc:
        raise AnalyticsError(
            f"the activity function is missing ({exc}); apply the migrations first"
        ) from exc
    figures = [
        PracticeMonth(
            r["practice_code"],
            r["icb_code"],
            r["registered_patients"],
            r["appointments"],
            r["submissions"],
        )
        for r in rows
    ]
    flagged = looks_quiet(figures)
    return [
        PracticeActivity(
            month=r["month"],
            practice_code=r["practice_code"],
            practice_name=r["practice_name"],
            icb_code=r["icb_code"],
            icb_name=r["icb_name"],
            registered_patients=r["registered_patients"],
            appointments=r["appointments"],
            appointments_attended=r["appointments_attended"],
            appointments_face_to_face=r["appointments_face_to_face"],
            appointments_telephone=r["appointments_telephone"],
            appointments_video_online=r["appointments_video_online"],
            appointments_home_visit=r["appointments_home_visit"],
            appointments_unknown_mode=r["appointments_unknown_mode"],
            submissions=r["submissions"],
            looks_quiet_in_appointments=r["practice_code"] in flagged,
        )
        for r in rows
        if icb is None or r["icb_code"] == icb
    ]
