"""Text cells made safe for spreadsheets (CSV formula injection).

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets; such a value gets a leading apostrophe, which
the spreadsheet shows as text. Apply it to every text column that comes from outside (names in
reference files, supplier text), never to numbers. The SQL twin for ``COPY`` exports is
``triage.csv_text`` (migration 0032); both follow the same rule.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text_cell(value: str | None) -> str | None:
    """``value`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    if value is not None and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
