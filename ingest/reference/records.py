"""The records a reference load is made of (one dataclass per kind) and their fingerprint.

Field names are the column names of the ``triage.ref_*`` tables, in order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from enum import StrEnum
from typing import Any

from ingest.contract.participation import ParticipationPeriod


class ReferenceKind(StrEnum):
    """The kinds of reference load (``triage.reference_loads.kind``)."""

    PRACTICES = "practices"
    MEMBERSHIPS = "memberships"
    SUB_ICBS = "sub_icbs"
    LIST_SIZES = "list_sizes"
    PARTICIPATION = "participation"
    ROSTER = "roster"
    APPOINTMENTS = "appointments"  # one current load per month (appointment_store)
    PCNS = "pcns"


@dataclass(frozen=True, slots=True)
class Practice:
    """One epraccur row; field names are the ``triage.ref_practices`` column names."""

    practice_code: str
    name: str
    national_grouping: str | None
    high_level_health_geography: str | None
    address_line_1: str | None
    address_line_2: str | None
    address_line_3: str | None
    address_line_4: str | None
    address_line_5: str | None
    postcode: str | None
    open_date: dt.date | None
    close_date: dt.date | None
    status_code: str | None
    sub_type_code: str | None
    commissioner_code: str | None
    join_date: dt.date | None
    left_date: dt.date | None
    telephone: str | None
    amended_record_indicator: str | None
    provider_purchaser_code: str | None
    prescribing_setting: int | None
    role_codes: str | None  # word-status layout: ODS role codes of column 26, "|"-separated
    country: str  # practice_classes.Country
    setting: str  # practice_classes.Setting


@dataclass(frozen=True, slots=True)
class Membership:
    """Practice -> commissioner (sub-ICB) from ``effective_from`` to ``effective_to``."""

    practice_code: str
    commissioner_code: str
    effective_from: dt.date
    effective_to: dt.date | None


@dataclass(frozen=True, slots=True)
class SubIcb:
    """Sub-ICB location -> ICB from ``effective_from`` to ``effective_to``."""

    sub_icb_code: str
    sub_icb_name: str | None
    icb_code: str
    icb_name: str | None
    effective_from: dt.date
    effective_to: dt.date | None


@dataclass(frozen=True, slots=True)
class ListSize:
    """Registered patients of a practice at an extract date."""

    practice_code: str
    extract_date: dt.date
    registered_patients: int


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A supplier's system installed at a practice from ``installed_on`` to ``removed_on``."""

    supplier_id: str
    practice_code: str
    installed_on: dt.date
    removed_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PracticePcn:
    """A practice's primary care network and NHS England region on an extract date."""

    practice_code: str
    extract_date: dt.date
    pcn_code: str | None
    pcn_name: str | None
    region_code: str | None
    region_name: str | None


Record = Practice | Membership | SubIcb | ListSize | ParticipationPeriod | RosterEntry | PracticePcn

RECORD_TYPES: dict[ReferenceKind, type[Record]] = {
    ReferenceKind.PRACTICES: Practice,
    ReferenceKind.MEMBERSHIPS: Membership,
    ReferenceKind.SUB_ICBS: SubIcb,
    ReferenceKind.LIST_SIZES: ListSize,
    ReferenceKind.PARTICIPATION: ParticipationPeriod,
    ReferenceKind.ROSTER: RosterEntry,
    ReferenceKind.PCNS: PracticePcn,
}


def columns_of(record_type: type[Record]) -> tuple[str, ...]:
    """The database column names of a record type (its field names, in order)."""
    return tuple(f.name for f in fields(record_type))


def as_row(record: Record) -> tuple[Any, ...]:
    """The record as a tuple in ``columns_of`` order."""
    return astuple(record)


def fingerprint(records: Iterable[Record]) -> str:
    """SHA-256 of the records' content, independent of their order in the file."""
    lines = sorted("\x1f".join("" if v is None else str(v) for v in as_row(r)) for r in records)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()
