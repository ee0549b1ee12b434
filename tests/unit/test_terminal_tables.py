"""Terminal tables at 80 columns: ids, dates and figures are never cut; a table too wide is
stacked, its key column repeated (pure: rendered to a string)."""

from __future__ import annotations

from rich.console import Console

from ingest.cli.tables import Column, fitted

IDS = [f"t1234abcd-{name}" for name in ("askfirst", "quietcare", "triagely", "patchs-online")]
KINDS = ["daily", "resend", "restatement", "late", "conflict", "bad", "total"]


def rendered(width: int, columns: list[Column], rows: list[list[str]]) -> tuple[int, str]:
    console = Console(width=width, record=True, color_system=None)
    tables = fitted(console, "pushed", columns, rows)
    for table in tables:
        console.print(table)
    return len(tables), console.export_text()


def wide_rows() -> tuple[list[Column], list[list[str]]]:
    columns = [Column("supplier"), Column("latest day"), *(Column(k, right=True) for k in KINDS)]
    rows = [[sid, "2026-12-06", *(str(1000 * n + 7) for n in range(len(KINDS)))] for sid in IDS]
    return columns, rows


def test_a_table_too_wide_for_80_columns_is_stacked_with_every_cell_whole() -> None:
    columns, rows = wide_rows()

    count, text = rendered(80, columns, rows)

    assert count > 1
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    for row in rows:
        assert text.count(row[0]) == count  # the key column in every part
        for cell in row[1:]:
            assert cell in text
    for column in columns:
        assert column.header in text


def test_a_table_that_fits_stays_one_table() -> None:
    columns, rows = wide_rows()

    count, text = rendered(200, columns, rows)

    assert count == 1
    assert all(text.count(sid) == 1 for sid in IDS)


def test_only_a_wrapping_column_wraps_and_it_keeps_every_word() -> None:
    detail = "activity_date 2026-12-20 is after today 2026-12-07 (Europe/London) " * 3
    columns = [Column("reason"), Column("supplier"), Column("detail", wraps=True)]
    rows = [["activity_date_out_of_range", IDS[-1], detail]]

    count, text = rendered(80, columns, rows)

    assert count == 1
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "activity_date_out_of_range" in text and IDS[-1] in text
    assert text.count("2026-12-20") == 3
