"""Terminal tables that fit the terminal: ids, dates and figures are never cut.

A table too wide for the console is stacked: its columns are dealt into several tables one
under the other, each repeating the key column (the supplier id) so every row can be told
apart; only columns marked ``wraps`` (free text such as a rejection's detail) may wrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

Cell = str | Text  # a str is console markup


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False  # figures: right-aligned
    wraps: bool = False  # free text that may wrap; every other column is kept whole


def fitted(
    console: Console,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    keys: int = 1,
) -> list[Table]:
    """One table when it fits the console's width; else the first ``keys`` columns with as
    many of the others as fit, then the next ones, each table titled ``title`` (continued)."""
    groups: list[list[int]] = []
    current: list[int] = []
    for index in range(keys, len(columns)):
        candidate = [*current, index]
        if current and _needs(columns, rows, [*range(keys), *candidate]) > console.width:
            groups.append(current)
            candidate = [index]
        current = candidate
    groups.append(current)
    return [
        _table(title if n == 0 else f"{title} (continued)", columns, rows, [*range(keys), *group])
        for n, group in enumerate(groups)
    ]


def _needs(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    chosen: Sequence[int],
) -> int:
    """The narrowest width at which these columns show every unwrappable cell whole: each
    column's widest cell (its longest word when it wraps), plus a border and a space each
    side per column (rich's default box and padding), plus the closing border."""
    return sum(_width(columns[i], [row[i] for row in rows]) + 3 for i in chosen) + 1


def _width(column: Column, cells: Sequence[Cell]) -> int:
    texts = [column.header, *(_plain(c) for c in cells)]
    lines = [line for text in texts for line in text.splitlines() or [""]]
    pieces = [word for line in lines for word in line.split()] if column.wraps else lines
    return max((cell_len(piece) for piece in pieces), default=0)


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else Text.from_markup(cell).plain


def _table(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    chosen: Sequence[int],
) -> Table:
    table = Table(title=title)
    for index in chosen:
        column = columns[index]
        table.add_column(
            Text(column.header),
            justify="right" if column.right else "left",
            no_wrap=not column.wraps,
            overflow="fold" if column.wraps else "ellipsis",
        )
    for row in rows:
        table.add_row(*(row[i] for i in chosen))
    return table
