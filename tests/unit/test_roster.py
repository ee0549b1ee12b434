"""The supplier roster file (contract v1.1 section 6)."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.reference.csv_input import ReferenceFileError
from ingest.reference.records import RosterEntry
from ingest.reference.roster import parse_roster

HEADER = "supplier_id,practice_code,installed_on,removed_on\n"


def test_each_row_is_an_installation_with_an_empty_end_open() -> None:
    text = HEADER + "askmygp,A81001,2025-04-01,\nklinik,b82002,2024-01-01,2026-03-31\n"
    assert parse_roster(text) == [
        RosterEntry("askmygp", "A81001", dt.date(2025, 4, 1), None),
        RosterEntry("klinik", "B82002", dt.date(2024, 1, 1), dt.date(2026, 3, 31)),
    ]


def test_a_bad_supplier_id_is_refused_with_its_line_number() -> None:
    with pytest.raises(ReferenceFileError, match=r"line 2: supplier_id 'Ask_MyGP'"):
        parse_roster(HEADER + "Ask_MyGP,A81001,2025-04-01,\n")


def test_removal_before_installation_is_refused() -> None:
    with pytest.raises(ReferenceFileError, match="removed_on 2025-01-01 is before installed_on"):
        parse_roster(HEADER + "askmygp,A81001,2025-04-01,2025-01-01\n")


def test_overlapping_installations_of_one_supplier_at_one_practice_are_refused() -> None:
    text = HEADER + "askmygp,A81001,2025-04-01,\naskmygp,A81001,2025-06-01,\n"
    with pytest.raises(ReferenceFileError, match="askmygp A81001"):
        parse_roster(text)


def test_two_suppliers_at_one_practice_are_fine() -> None:
    text = HEADER + "askmygp,A81001,2025-04-01,\nklinik,A81001,2025-04-01,\n"
    assert len(parse_roster(text)) == 2
