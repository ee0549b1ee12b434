"""The methods-and-caveats README of a monthly publication (pure).

Supplier names in the data quality notes are text an administrator typed; Markdown readers
may render them, so characters with a Markdown meaning are escaped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ingest.analytics.publication.files import Change
from ingest.analytics.publication.quality import month_name

if TYPE_CHECKING:
    from ingest.analytics.publication.publish import MonthFiles

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def markdown_text(text: str) -> str:
    """``text`` with every Markdown/HTML-significant character escaped."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def readme(
    month_files: MonthFiles,
    edition: int,
    published_at: dt.datetime,
    found: Sequence[Change] | None,
) -> str:
    """README.md of an edition; ``found`` is None on the first edition."""
    month = month_files.month
    national = month_files.national[-1]
    window = f"{month_name(month_files.national[0]['month'])} to {month_name(month)}"
    lines = [
        "# Submissions via Online Consultation Systems in General Practice: "
        f"{month_name(month)} (edition {edition})",
        "",
        f"Published {published_at:%Y-%m-%d %H:%M %Z} by `ingest publish --month {month}`; "
        f"Table 1 covers {window}.",
        "",
        "## Files",
        "",
        "- `publication.xlsx`: the workbook laid out as NHS England's (Title sheet, Data",
        "  Quality, Table 1, Table 2, Table 3), holding the figures of the CSV files below.",
        "- `practices.csv` (Table 2): one row per open English GP practice with a list size in",
        "  the month, participating or not, with its PCN, sub-ICB, ICB and region, supplier(s),",
        "  submissions by type, registered patients, rate per 1,000 and participation.",
        "- `national.csv` (Table 1): one row per month of the window, each month as the",
        "  database holds it now (suppliers restate past weeks).",
        "- `time_bands.csv` (Table 3): average submissions per weekday and time band.",
        "- `index.html`: a summary page (the national series as a chart, the largest changes).",
    ]
    if found is not None:
        lines.append(
            f"- `changes_since_edition_{edition - 1}.csv`: {len(found):,} figure(s) that "
            f"changed since edition {edition - 1} (restatements by suppliers, late data, "
            "reference changes); the earlier edition is kept under "
            f"`editions/edition-{edition - 1}/`."
        )
    lines += [
        "",
        "## This edition in brief",
        "",
        f"- Open active practices: {national['open_active_practices']}; included: "
        f"{national['practices_included']}; receiving submissions: "
        f"{national['practices_receiving_submissions']}.",
        f"- Submissions: {national['submissions']} (clinical {national['clinical_submissions']}, "
        f"administrative {national['admin_submissions']}, other/unknown type "
        f"{national['other_submissions']}); per 1,000 registered patients at practices "
        f"receiving submissions: {national['submissions_per_1000'] or 'n/a'}.",
        "",
        "## Data quality",
        "",
    ]
    notes = month_files.notes
    lines += [f"- {markdown_text(n.text)}" for n in notes] or ["- No supplier issues found."]
    lines += [
        "",
        "## Definitions (NHS England's)",
        "",
        "- Submissions a supplier sends without a type count as other/unknown type.",
        "- A practice is included when it is open, active, has registered patients in the",
        "  month and participates in the collection; it receives submissions when its month's",
        "  submissions are above zero. Practices not participating are listed with",
        "  participation 0 and no figures, and are in no total.",
        "- Rate per 1,000: a practice's submissions / its registered patients x 1,000;",
        "  nationally the submissions / the registered patients of the practices receiving",
        "  submissions x 1,000.",
        "- Table 3: the weekday's submissions in the band over the month / the number of such",
        "  weekdays in the month; submissions without times are in the Unknown band.",
        "",
        "## Our own columns",
        "",
        "- `days_reporting`, `day_coverage`: days of the month with data for the practice; a",
        "  practice reporting few days rests on little data.",
        "- `list_size_extract_date`: the list size used is the latest extract on or before the",
        "  month's last day; `mapping_basis`: how the practice was placed in its sub-ICB.",
        "- Text cells that a spreadsheet would read as a formula start with an apostrophe.",
        "",
    ]
    return "\n".join(lines)
