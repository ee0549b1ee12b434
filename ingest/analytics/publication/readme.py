"""The methods-and-caveats README of a monthly publication (pure; only our own figures and
dates are printed, no text from files or suppliers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


def readme(
    month: str,
    edition: int,
    published_at: dt.datetime,
    national: Mapping[str, str],
    changed_figures: int | None,
) -> str:
    """README.md of an edition; ``changed_figures`` is None on the first edition."""
    coverage = national["english_gp_practice_coverage"] or "n/a"
    lines = [
        f"# Online consultation submissions in general practice: {month} (edition {edition})",
        "",
        f"Published {published_at:%Y-%m-%d %H:%M %Z} by `ingest publish --month {month}`.",
        "",
        "## Files",
        "",
        "- `practices.csv`: one row per practice with figures from any supplier in the month:",
        "  practice, region (NHS England region code of the ODS practice file), ICB, sub-ICB,",
        "  the supplier(s), submissions in total and by type, list size and its extract date,",
        "  submissions per 1,000 registered patients, and the days the practice reported.",
        "- `national.csv`: the month's national totals with coverage.",
    ]
    if changed_figures is not None:
        lines.append(
            f"- `changes_since_edition_{edition - 1}.csv`: {changed_figures:,} figure(s) that "
            f"changed since edition {edition - 1} (restatements by suppliers, late data, "
            "reference changes); the earlier edition is kept under "
            f"`editions/edition-{edition - 1}/`."
        )
    lines += [
        "",
        "## This edition in brief",
        "",
        f"- Practices with figures: {national['practices_reporting']}; English GP practices "
        f"with figures: {national['english_gp_practices_reporting']}, without any: "
        f"{national['english_gp_practices_without_data']} (coverage {coverage}).",
        f"- Submissions: {national['submissions']}; per 1,000 registered patients: "
        f"{national['submissions_per_1000'] or 'n/a'}.",
        f"- List sizes used: extracts from {national['list_size_extract_from'] or 'n/a'} to "
        f"{national['list_size_extract_to'] or 'n/a'}.",
        "",
        "## Methods",
        "",
        "- Figures are the suppliers' latest revision of each practice and day at publication;",
        "  several suppliers of one practice are summed. A breakdown by type is left empty when",
        "  any contributing figure lacks it.",
        "- Practices are attributed to sub-ICBs and ICBs as the boundaries stood on the last",
        "  day of the month; practices outside the English hierarchy (Wales, the Crown",
        "  Dependencies) or with no membership are `unmapped`.",
        "- Rate per 1,000: numerator and denominator come from the same practice-days, those",
        "  the practice reported and has a list size for; the per-day rate is scaled to the",
        "  days of the month. A day a practice did not report is not counted as zero demand.",
        "- Coverage: `days_reporting` of `days_in_month` per practice; nationally the English",
        "  GP practices with figures against all active English GP practices of the ODS file.",
        "",
        "## Caveats",
        "",
        "- A practice reporting few days rests on little data: read its rate with its coverage.",
        "- List sizes are the latest extract on or before each day; an old extract is shown by",
        "  its date, not corrected.",
        "- Suppliers may restate past days; a later edition of this month lists what changed.",
        "- Text cells that a spreadsheet would read as a formula start with an apostrophe.",
        "",
    ]
    return "\n".join(lines)
