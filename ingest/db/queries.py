"""The one loader of the project's SQL (pure but for reading package data): each package that
owns tables keeps its statements in ``queries.sql`` beside its modules, as named queries::

    -- name: replay_outcomes
    -- What became of replayed events, newest first (any further comment lines describe it).
    SELECT * FROM triage.dlq_replay_outcomes ORDER BY replay_id DESC LIMIT $1

A query runs from its ``-- name:`` line to the next one; the comment lines right after the name
describe it and are not part of the statement. Text before the first name is the file's header
and may hold comments only. Files are read with importlib.resources, so they load from an
installed wheel as from the source tree, and each file is parsed once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files

from ingest.errors import IngestError

QUERY_FILE = "queries.sql"
_NAME = re.compile(r"^-- name: ([a-z][a-z0-9_]*)\s*$")


class QueryFileError(IngestError):
    """A named-query file that cannot be read as one: a bug of the package, never of input."""


class Queries(Mapping[str, str]):
    """The named queries of one file; an unknown name raises :class:`QueryFileError`."""

    def __init__(self, source: str, by_name: dict[str, str]) -> None:
        self.source = source
        self._by_name = by_name

    def __getitem__(self, name: str) -> str:
        try:
            return self._by_name[name]
        except KeyError:
            raise QueryFileError(f"{self.source} has no query named {name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)


def _is_comment(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("--")


def parse_queries(text: str, source: str = "<text>") -> Queries:
    """The named queries of ``text``; a duplicate or empty name, or a statement before the
    first name, raises :class:`QueryFileError` naming ``source`` and the line."""
    by_name: dict[str, str] = {}
    name: str | None = None
    body: list[str] = []

    def close(line_no: int) -> None:
        if name is None:
            return
        statement = "\n".join(body).strip()
        if not statement:
            raise QueryFileError(f"{source}:{line_no}: query {name!r} has no statement")
        by_name[name] = statement

    for number, line in enumerate(text.splitlines(), start=1):
        found = _NAME.match(line)
        if found:
            close(number)
            name, body = found.group(1), []
            if name in by_name:
                raise QueryFileError(f"{source}:{number}: query {name!r} is named twice")
        elif name is None:
            if not _is_comment(line):
                raise QueryFileError(f"{source}:{number}: a statement before the first name")
        elif body or not line.lstrip().startswith("--"):
            body.append(line)  # the description (leading comments) is left out
    close(len(text.splitlines()) + 1)
    return Queries(source, by_name)


@cache
def queries(package: str, file: str = QUERY_FILE) -> Queries:
    """The named queries of ``file`` in ``package`` (e.g. ``queries("ingest.ops")``), parsed
    once per process."""
    text = files(package).joinpath(file).read_text(encoding="utf-8")
    return parse_queries(text, f"{package}/{file}")
