"""The NHS ODS GP practices file ``epraccur`` (pure: text in, records out).

No header, every field usually quoted, 27 columns (layout below, as published by ODS). Dates
are ``YYYYMMDD``; empty = none.
"""

from __future__ import annotations

from ingest.reference.csv_input import (
    FieldProblem,
    ReferenceFileError,
    csv_rows,
    optional,
    org_code,
    practice_code,
    yyyymmdd,
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
    "status_code",  # 13 A active, C closed, D dormant, P proposed
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
    "prescribing_setting",  # 26 Prescribing Setting (4 = GP practice)
    None,  # 27 Null
)
EPRACCUR_COLUMNS = len(EPRACCUR_LAYOUT)
STATUS_CODES = frozenset({"A", "C", "D", "P"})

# Prescribing setting codes of the ODS files (documentation only; not enforced).
PRESCRIBING_SETTINGS: dict[int, str] = {
    0: "Other",
    1: "WIC Practice",
    2: "OOH Practice",
    3: "WIC + OOH Practice",
    4: "GP Practice",
    8: "Public Health Service",
    9: "Community Health Service",
    10: "Hospital Service",
    11: "Optometry Service",
    12: "Urgent & Emergency Care",
    13: "Hospice",
    14: "Care Home / Nursing Home",
    15: "Border Force",
    16: "Young Offender Institution",
    17: "Secure Training Centre",
    18: "Secure Children's Home",
    19: "Immigration Removal Centre",
    20: "Court",
    21: "Police Custody",
    22: "Sexual Assault Referral Centre (SARC)",
    24: "Other - Justice Estate",
    25: "Prison",
}


def _parse_practice(cells: list[str]) -> Practice:
    if len(cells) != EPRACCUR_COLUMNS:
        raise FieldProblem(
            f"expected {EPRACCUR_COLUMNS} columns (epraccur layout), got {len(cells)}"
        )
    named = {name: cells[i] for i, name in enumerate(EPRACCUR_LAYOUT) if name is not None}
    name = named["name"].strip()
    if not name:
        raise FieldProblem("name is empty")
    status = optional(named["status_code"])
    if status is not None and status not in STATUS_CODES:
        raise FieldProblem(f"status code {status!r} is not one of A, C, D, P")
    setting_text = named["prescribing_setting"].strip()
    if setting_text and not setting_text.isdigit():
        raise FieldProblem(f"prescribing setting {setting_text!r} is not a number")
    open_date = yyyymmdd(named["open_date"], "open date")
    close_date = yyyymmdd(named["close_date"], "close date")
    if open_date and close_date and close_date < open_date:
        raise FieldProblem(f"close date {close_date} is before open date {open_date}")
    return Practice(
        practice_code=practice_code(named["practice_code"], "organisation code"),
        name=name,
        national_grouping=optional(named["national_grouping"]),
        high_level_health_geography=optional(named["high_level_health_geography"]),
        address_line_1=optional(named["address_line_1"]),
        address_line_2=optional(named["address_line_2"]),
        address_line_3=optional(named["address_line_3"]),
        address_line_4=optional(named["address_line_4"]),
        address_line_5=optional(named["address_line_5"]),
        postcode=optional(named["postcode"]),
        open_date=open_date,
        close_date=close_date,
        status_code=status,
        sub_type_code=optional(named["sub_type_code"]),
        commissioner_code=org_code(named["commissioner_code"], "commissioner", required=False),
        join_date=yyyymmdd(named["join_date"], "join date"),
        left_date=yyyymmdd(named["left_date"], "left date"),
        telephone=optional(named["telephone"]),
        amended_record_indicator=optional(named["amended_record_indicator"]),
        provider_purchaser_code=org_code(
            named["provider_purchaser_code"], "provider/purchaser", required=False
        ),
        prescribing_setting=int(setting_text) if setting_text else None,
    )


def parse_epraccur(text: str) -> list[Practice]:
    """Parse an epraccur file (no header). Raises ReferenceFileError listing every problem."""
    problems: list[tuple[int, str]] = []
    practices: list[Practice] = []
    seen: dict[str, int] = {}
    for line_no, cells in csv_rows(text):
        try:
            practice = _parse_practice(cells)
        except FieldProblem as exc:
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
        raise ReferenceFileError("epraccur file", problems)
    if not practices:
        raise ReferenceFileError("epraccur file", [(0, "no practices in the file")])
    return practices
