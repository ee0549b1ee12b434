"""The quality report as Markdown, for the body of an email (pure).

Every text that comes from a supplier or the database (supplier names and ids, topics, keys,
values, practice codes and names, details) goes through :func:`md_text` or :func:`md_code`,
so none of it can open a link, an image, raw HTML, emphasis or a new table cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.analytics.quality_report import wording
from ingest.analytics.quality_report.model import MAX_MISSING_SHOWN, QualityData

# Backslash-escaped wherever they appear: link and image brackets, emphasis, code, table
# pipes, entity ampersands, and the ':' and '@' of bare URLs and e-mail addresses (GFM
# autolinks). '<' and '>' become entities (no raw HTML, no <autolink>).
_ESCAPED = frozenset("\\`*_~[]!|:@&")
_WWW_DOT = re.compile(r"(?i)(?<=www)\.")  # "www." starts a GFM autolink; "www\." does not
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def md_text(text: str) -> str:
    """``text`` as literal Markdown inline text on one line (safe inside a table cell)."""
    flat = _LINE_BREAKS.sub(" ", text)
    out = []
    for ch in flat:
        if ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in _ESCAPED:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return _WWW_DOT.sub(r"\\.", "".join(out))


def md_code(text: str) -> str:
    """``text`` as a code span on one line (nothing inside a code span renders as markup)."""
    flat = _LINE_BREAKS.sub(" ", text).replace("`", "'").replace("|", "\\|")
    return f"`{flat}`"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GFM table; the cells must already be Markdown (escaped by the caller)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(data: QualityData) -> str:
    """The report as Markdown (for the body of an email)."""
    ts = wording.ts
    lines = [
        f"# Feed quality report: {md_text(data.supplier_name)} ({md_text(data.supplier_id)})",
        "",
        f"Activity dates {data.period_start} to {data.period_end}; "
        f"generated {ts(data.generated_at)}.",
        "",
        "## Summary",
        "",
        *md_table(["", ""], [(md_text(k), md_text(v)) for k, v in wording.summary_rows(data)]),
        "",
        "## Daily volume",
        "",
        f"`{wording.sparkline([v.total_requests for v in data.volumes])}` "
        f"({data.period_start} to {data.period_end}; peak "
        f"{max((v.total_requests for v in data.volumes), default=0):,} requests)",
        "",
        "## Rejections by reason",
        "",
    ]
    if not data.reasons:
        lines.append("No records were rejected in the period.")
    else:
        lines += md_table(
            ["Reason", "Rejected", "First received", "Last received", "Meaning"],
            [
                (
                    md_code(r.reason),
                    f"{r.count:,}",
                    ts(r.first_received),
                    ts(r.last_received),
                    md_text(wording.REASON_HELP.get(r.reason, "")),
                )
                for r in data.reasons
            ],
        )
        for r in data.reasons:
            lines += [
                "",
                f"### Latest {md_code(r.reason)} rejections ({len(r.samples)} of {r.count:,})",
                "",
            ]
            lines += md_table(
                ["Received", "Topic / partition / offset", "Key", "Value (start)", "Detail"],
                [
                    (
                        ts(s.received_at),
                        f"{md_text(s.source_topic)} / {s.source_partition} / {s.source_offset}",
                        md_text(wording.show_bytes(s.key)),
                        md_text(wording.value_preview(s)),
                        md_text(s.detail),
                    )
                    for s in r.samples
                ],
            )
    lines += ["", "## Days reported late", ""]
    if not data.late_days:
        lines.append("No practice-day arrived late.")
    else:
        lines += md_table(
            ["Activity date", "Practices", "Late", "Worst delay past deadline"],
            [
                (
                    d.activity_date.isoformat(),
                    f"{d.practices:,}",
                    f"{d.late_practices:,}",
                    wording.delay(d.worst_delay),
                )
                for d in data.late_days
            ],
        )
    lines += ["", "## Practices missing from the feed", ""]
    if not data.missing:
        lines.append("Every practice was reported on every day.")
    else:
        shown = data.missing[:MAX_MISSING_SHOWN]
        lines += md_table(
            ["Practice", "Name", "Days missing", "First missing", "Last missing", "Last reported"],
            [
                (
                    md_text(m.practice_code),
                    md_text(wording.missing_name(m.name, m.close_date)),
                    f"{m.days_missing:,}",
                    m.first_missing.isoformat(),
                    m.last_missing.isoformat(),
                    m.last_reported.isoformat() if m.last_reported else "never",
                )
                for m in shown
            ],
        )
        if len(data.missing) > len(shown):
            lines.append(f"\n… and {len(data.missing) - len(shown):,} more practices.")
    lines += ["", "## Practice codes that are not GP practices in the ODS reference", ""]
    if not data.unknown_practices:
        lines.append("None (or no practice reference loaded).")
    else:
        lines += md_table(
            ["Practice code", "First day", "Last day", "Days reported"],
            [
                (
                    md_text(u.practice_code),
                    u.first_activity_date.isoformat(),
                    u.last_activity_date.isoformat(),
                    f"{u.days_reported:,}",
                )
                for u in data.unknown_practices
            ],
        )
    lines += [
        "",
        "## Restatements",
        "",
        f"{wording.pct(data.restatement_rate)} of the period's practice-days were restated "
        f"({data.restated_practice_days:,} of {data.practice_days:,}).",
        "",
        "## How to read this report",
        "",
        md_text(wording.definitions(data)),
        "",
    ]
    return "\n".join(lines)
