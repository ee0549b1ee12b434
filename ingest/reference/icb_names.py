"""ICB names for the ODS ``eccg`` file, which carries none (pure).

Read from a CSV with a header, either the ONS Open Geography lookups ("Sub ICB Location to
ICB", "ICB names and codes"), whose ODS code and name columns are ``ICByyCDH`` and
``ICByyNM`` (e.g. ``ICB22CDH,ICB22NM``), or a plain ``icb_code,icb_name``. Names are
case-insensitive; extra columns are ignored; one name per code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from ingest.reference.csv_input import (
    ReferenceFieldError,
    ReferenceFileError,
    csv_rows,
    optional,
    org_code,
)
from ingest.reference.records import SubIcb

WHAT = "ICB names file"
_ONS_CODE = re.compile(r"^icb\d\dcdh$")
_ONS_NAME = re.compile(r"^icb\d\dnm$")


def _columns(header: Sequence[str]) -> tuple[int, int]:
    names = [cell.strip().lower() for cell in header]
    code = next((i for i, n in enumerate(names) if n == "icb_code" or _ONS_CODE.match(n)), None)
    name = next((i for i, n in enumerate(names) if n == "icb_name" or _ONS_NAME.match(n)), None)
    if code is None or name is None:
        raise ReferenceFileError(
            WHAT,
            [(1, "header lacks the ICB code and name (ICByyCDH,ICByyNM or icb_code,icb_name)")],
        )
    return code, name


def parse_icb_names(text: str) -> dict[str, str]:
    """ICB ODS code -> name; a code named twice differently is a problem."""
    rows = csv_rows(text)
    first = next(rows, None)
    if first is None:
        raise ReferenceFileError(WHAT, [(1, "the file is empty")])
    code_at, name_at = _columns(first[1])
    names: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    for line_no, cells in rows:
        try:
            code = org_code(cells[code_at] if code_at < len(cells) else "", "ICB code")
        except ReferenceFieldError as exc:
            problems.append((line_no, str(exc)))
            continue
        name = optional(cells[name_at] if name_at < len(cells) else "")
        if code is None or name is None:
            continue
        if names.setdefault(code, name) != name:
            problems.append((line_no, f"{code} is named {names[code]!r} and {name!r}"))
    if problems:
        raise ReferenceFileError(WHAT, problems)
    if not names:
        raise ReferenceFileError(WHAT, [(2, "no ICB names after the header")])
    return names


def with_icb_names(records: Sequence[SubIcb], names: dict[str, str]) -> list[SubIcb]:
    """``records`` with each missing ICB name filled from ``names`` (given names are kept)."""
    return [
        r
        if r.icb_name is not None or r.icb_code not in names
        else replace(r, icb_name=names[r.icb_code])
        for r in records
    ]
