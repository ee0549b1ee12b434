"""The NHS ODS GP practices file ``epraccur`` (pure: text in, records out).

No header, every field usually quoted, 27 columns (layout below, as published by ODS), CRLF or
LF line ends. Dates are ``YYYYMMDD``; empty = none. Two layouts are read:

- the letter-status layout (ODS bulk files up to 2024): status ``A``/``C``/``D``/``P`` in
  column 13, the Prescribing Setting number in column 26 (4 = GP practice);
- the word-status layout (ODS Data Search and Export): status ``ACTIVE``/``INACTIVE``/
  ``DORMANT``/``PROPOSED`` in column 13 (stored as its letter), ODS role codes in column 26
  (``RO76`` = GP practice; several separated by ``|``).

Every row is loaded and classified by country and setting (``practice_classes``). Only
structurally broken lines are refused (wrong number of columns, no code or name, a date or
status that cannot be read); each one is reported and nothing of the file is loaded.
"""

from __future__ import annotations

from collections import Counter

from ingest.reference.csv_input import (
    ReferenceFieldError,
    ReferenceFileError,
    csv_rows,
    optional,
    org_code,
    yyyymmdd,
)
from ingest.reference.practice_classes import (
    country_of,
    setting_of_prescribing_code,
    setting_of_roles,
)
from ingest.reference.records import Practice

# The published epraccur layout, in order. None marks the columns ODS publishes as null.
EPRACCUR_LAYOUT: tuple[str | None, ...] = (
    "practice_code",  # 1  Organisation Code
    "name",  # 2  Name
    "national_grouping",  # 3  National Grouping (NHS England region, e.g. Y63)
    "high_level_health_geography",  # 4  High Level Health Geography (ICB, e.g. QHM)
    "address_line_1",  # 5
    "address_line_2",  # 6
    "address_line_3",  # 7
    "address_line_4",  # 8
    "address_line_5",  # 9
    "postcode",  # 10
    "open_date",  # 11 YYYYMMDD
    "close_date",  # 12 YYYYMMDD or empty
    "status_code",  # 13 A active, C closed, D dormant, P proposed (or the word)
    "sub_type_code",  # 14 Organisation Sub-Type Code (B allocated, Z not applicable)
    "commissioner_code",  # 15 Commissioner (parent: sub-ICB location)
    "join_date",  # 16 Join Provider/Purchaser Date
    "left_date",  # 17 Left Provider/Purchaser Date
    "telephone",  # 18 Contact Telephone Number
    None,  # 19 Null
    None,  # 20 Null
    None,  # 21 Null
    "amended_record_indicator",  # 22 Amended Record Indicator
    None,  # 23 Null
    "provider_purchaser_code",  # 24 Provider/Purchaser (commissioner)
    None,  # 25 Null
    "prescribing_setting",  # 26 Prescribing Setting (4 = GP practice) or role codes (RO76)
    None,  # 27 Null
)
EPRACCUR_COLUMNS = len(EPRACCUR_LAYOUT)
STATUS_CODES = frozenset({"A", "C", "D", "P"})
STATUS_WORDS = {"ACTIVE": "A", "INACTIVE": "C", "CLOSED": "C", "DORMANT": "D", "PROPOSED": "P"}
WHAT = "epraccur file"


def _status(value: str) -> str | None:
    status = optional(value)
    if status is None:
        return None
    status = status.upper()
    if status in STATUS_CODES:
        return status
    if status in STATUS_WORDS:
        return STATUS_WORDS[status]
    raise ReferenceFieldError(
        f"status {status!r} is not one of A, C, D, P (or ACTIVE, INACTIVE, DORMANT, PROPOSED)"
    )


def _setting_column(value: str) -> tuple[int | None, str | None]:
    """(prescribing setting number, role codes): one of them, from column 26."""
    text = value.strip().upper()
    if not text:
        return None, None
    if text.isdigit():
        return int(text), None
    roles = [r.strip() for r in text.split("|")]
    if not all(r.startswith("RO") and r[2:].isdigit() for r in roles):
        raise ReferenceFieldError(
            f"prescribing setting {value.strip()!r} is neither a number nor ODS role codes (RO76)"
        )
    return None, "|".join(roles)


def _parse_practice(cells: list[str]) -> Practice:
    if len(cells) != EPRACCUR_COLUMNS:
        raise ReferenceFieldError(
            f"expected {EPRACCUR_COLUMNS} columns (epraccur layout), got {len(cells)}"
        )
    named = {name: cells[i] for i, name in enumerate(EPRACCUR_LAYOUT) if name is not None}
    code = org_code(named["practice_code"], "organisation code")
    assert code is not None
    name = named["name"].strip()
    if not name:
        raise ReferenceFieldError("name is empty")
    open_date = yyyymmdd(named["open_date"], "open date")
    close_date = yyyymmdd(named["close_date"], "close date")
    if open_date and close_date and close_date < open_date:
        raise ReferenceFieldError(f"close date {close_date} is before open date {open_date}")
    prescribing_setting, role_codes = _setting_column(named["prescribing_setting"])
    national_grouping = optional(named["national_grouping"])
    geography = optional(named["high_level_health_geography"])
    commissioner = org_code(named["commissioner_code"], "commissioner", required=False)
    setting = (
        setting_of_roles(role_codes)
        if role_codes is not None
        else setting_of_prescribing_code(prescribing_setting)
    )
    return Practice(
        practice_code=code,
        name=name,
        national_grouping=national_grouping,
        high_level_health_geography=geography,
        address_line_1=optional(named["address_line_1"]),
        address_line_2=optional(named["address_line_2"]),
        address_line_3=optional(named["address_line_3"]),
        address_line_4=optional(named["address_line_4"]),
        address_line_5=optional(named["address_line_5"]),
        postcode=optional(named["postcode"]),
        open_date=open_date,
        close_date=close_date,
        status_code=_status(named["status_code"]),
        sub_type_code=optional(named["sub_type_code"]),
        commissioner_code=commissioner,
        join_date=yyyymmdd(named["join_date"], "join date"),
        left_date=yyyymmdd(named["left_date"], "left date"),
        telephone=optional(named["telephone"]),
        amended_record_indicator=optional(named["amended_record_indicator"]),
        provider_purchaser_code=org_code(
            named["provider_purchaser_code"], "provider/purchaser", required=False
        ),
        prescribing_setting=prescribing_setting,
        role_codes=role_codes,
        country=country_of(code, national_grouping, geography, commissioner).value,
        setting=setting.value,
    )


def parse_epraccur(text: str) -> list[Practice]:
    """Parse an epraccur file (no header). Raises ReferenceFileError listing every problem.

    A file whose first row does not have the 27 columns is not an epraccur file at all: one
    problem says so (instead of one per line).
    """
    problems: list[tuple[int, str]] = []
    practices: list[Practice] = []
    seen: dict[str, int] = {}
    for line_no, cells in csv_rows(text):
        if not practices and not problems and len(cells) != EPRACCUR_COLUMNS:
            raise ReferenceFileError(
                WHAT,
                [
                    (
                        line_no,
                        f"this is not an ODS epraccur file: its first row has {len(cells)} "
                        f"columns, the epraccur layout has {EPRACCUR_COLUMNS} and no header",
                    )
                ],
            )
        try:
            practice = _parse_practice(cells)
        except ReferenceFieldError as exc:
            problems.append((line_no, str(exc)))
            continue
        if practice.practice_code in seen:
            problems.append(
                (line_no, f"{practice.practice_code} repeats line {seen[practice.practice_code]}")
            )
            continue
        seen[practice.practice_code] = line_no
        practices.append(practice)
    if problems:
        raise ReferenceFileError(WHAT, problems)
    if not practices:
        raise ReferenceFileError(WHAT, [(0, "no practices in the file")])
    return practices


def summary(practices: list[Practice]) -> str:
    """One line: how many rows of each class were loaded (GP practices by country first)."""
    by_class = Counter((p.setting, p.country) for p in practices)
    parts = [
        f"{n:,} {setting.replace('_', ' ')} ({country.replace('_', ' ')})"
        for (setting, country), n in sorted(
            by_class.items(), key=lambda kv: (kv[0][0] != "gp_practice", -kv[1], kv[0])
        )
    ]
    return f"{len(practices):,} rows: " + ", ".join(parts)
