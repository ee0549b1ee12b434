"""Data quality notes of a monthly publication, written from the data (pure).

NHS England writes these by hand beneath Table 1, month by month: which suppliers sent a
partial month, sent nothing, sent data for the first time, or restated earlier figures. Here
each note is derived from ``triage.publication_suppliers`` figures:

- *no data received*: a supplier that is active, or has practices on its roster in the
  month, sent nothing for the month;
- *first month of data*: the supplier's earliest month of data is this month;
- *partial*: days of the month without any data from the supplier, practices on its roster
  that sent nothing, or practices that reported on only some days;
- *restatements since the last edition*: practice-days of the month the supplier restated
  after the previous edition was published.

Supplier names are text an administrator typed: callers escape them for their format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.analytics.publication.files import month_bounds


@dataclass(frozen=True, slots=True)
class Note:
    """One data quality note about one supplier."""

    supplier: str
    kind: str  # no_data | first_month | partial | restated
    text: str


def month_name(month: str) -> str:
    """``2026-02`` -> ``February 2026``."""
    first, _ = month_bounds(month)
    return f"{first:%B %Y}"


def quality_notes(
    month: str, suppliers: Sequence[Mapping[str, Any]], previous_edition: int | None
) -> list[Note]:
    """The month's notes, by supplier name then kind."""
    first, last = month_bounds(month)
    days = (last - first).days + 1
    named = month_name(month)
    notes: list[Note] = []
    for s in sorted(suppliers, key=lambda s: (str(s["supplier_name"]), str(s["supplier_id"]))):
        name = str(s["supplier_name"])
        reporting = int(s["practices_reporting"] or 0)
        if reporting == 0:
            notes.append(Note(name, "no_data", f"No data was received from {name} for {named}."))
            continue
        if s["first_month"] == first:
            notes.append(
                Note(name, "first_month", f"{named} includes data from {name} for the first time.")
            )
        gaps = []
        with_data = int(s["days_with_data"] or 0)
        if with_data < days:
            gaps.append(f"data for {with_data} of the {days} days of the month")
        rostered, rostered_reporting = s["rostered_practices"], s["rostered_reporting"]
        if rostered and rostered_reporting < rostered:
            missing = rostered - rostered_reporting
            gaps.append(f"nothing from {missing:,} of the {rostered:,} practices on its roster")
        practice_days = int(s["practice_days"] or 0)
        if practice_days < reporting * with_data:
            gaps.append(
                f"{practice_days:,} practice-days of the {reporting * with_data:,} expected "
                "from the practices that reported"
            )
        if gaps:
            notes.append(
                Note(
                    name,
                    "partial",
                    f"A partial submission has been received from {name} ("
                    + "; ".join(gaps)
                    + "), so data for practices using this system will be incomplete.",
                )
            )
        restated = s["restated_practice_days"]
        if previous_edition is not None and restated:
            notes.append(
                Note(
                    name,
                    "restated",
                    f"{name} restated {restated:,} practice-day(s) of {named} since edition "
                    f"{previous_edition}; the figures here are its latest.",
                )
            )
    return notes
