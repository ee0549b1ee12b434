"""Reading GPAD practice-level crosstab files as published: CSVs, or the zip holding them.

Everything streams: a zip member is decompressed as it is read (its declared sizes are never
used to size anything, and a member that is not what its header says fails its CRC check in
one line), lines are read through a cap on their length, and rows go straight into the
aggregator (``ingest.reference.appointments``). Memory is bounded by the number of practices.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from ingest.reference.appointments import AppointmentsFileError, CrosstabAggregator, CsvRows

MAX_LINE_BYTES = 64 * 1024  # a crosstab line is about 250 bytes
_READ_BUFFER = 1 << 20
# The crosstab's members inside the published zip (beside them: a Mapping.csv, skipped).
CROSSTAB_MEMBER = re.compile(r"(?i)(^|/)practice_level_crosstab[^/]*\.csv$")


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _lines(stream: BinaryIO, source: str) -> Iterator[str]:
    """Text lines of a binary stream (UTF-8, a line that is not read as Windows-1252), each
    at most MAX_LINE_BYTES, else one line naming it.

    Read in blocks, split and decoded in C (``chain`` of ``map``): the Python here runs once
    a block, not once a line. A line cut by the block's end is carried to the next block."""

    def blocks() -> Iterator[Iterator[str]]:
        carry = b""
        lines_before = 0
        while True:
            block = stream.read(_READ_BUFFER)
            data = carry + block
            if lines_before == 0 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            lines = data.splitlines(keepends=True)
            carry = b""
            if block and lines and not lines[-1].endswith(b"\n"):
                carry = lines.pop()  # cut by the block (a final "\r" may be half of "\r\n")
            too_long = [i for i, n in enumerate(map(len, lines)) if n > MAX_LINE_BYTES]
            if too_long or len(carry) > MAX_LINE_BYTES:
                at = lines_before + (too_long[0] if too_long else len(lines)) + 1
                raise AppointmentsFileError(
                    f"{source} line {at}: longer than {MAX_LINE_BYTES:,} bytes (not a crosstab)"
                )
            lines_before += len(lines)
            try:
                data.decode("utf-8")  # whole lines: valid as a block = valid line by line
            except UnicodeDecodeError:
                yield map(_decode, lines)
            else:
                yield map(bytes.decode, lines)
            if not block:
                return

    return itertools.chain.from_iterable(blocks())


def _rows(stream: BinaryIO, source: str) -> CsvRows:
    return csv.reader(_lines(stream, source), strict=True)


def _feed_zip(path: Path, aggregator: CrosstabAggregator) -> list[str]:
    notes: list[str] = []
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
            wanted = [i for i in members if CROSSTAB_MEMBER.search(i.filename)]
            if not wanted:
                names = ", ".join(i.filename for i in members[:5]) or "nothing"
                raise AppointmentsFileError(
                    f"{path.name}: holds no Practice_Level_Crosstab_*.csv (it holds {names})"
                )
            for info in wanted:
                source = f"{path.name}:{info.filename}"
                with archive.open(info) as member:
                    # zipfile's own readline is Python; the buffered reader's is C.
                    buffered = io.BufferedReader(member, _READ_BUFFER)  # type: ignore[type-var]
                    rows = aggregator.feed_file(source, _rows(buffered, source))
                notes.append(f"{source}: {rows:,} rows")
            skipped = [i.filename for i in members if i not in wanted]
            if skipped:
                notes.append(f"{path.name}: skipped {', '.join(skipped)}")
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
    ) as exc:
        raise AppointmentsFileError(f"{path.name}: not a readable zip ({exc})") from exc
    return notes


def read_crosstabs(paths: Sequence[Path]) -> tuple[CrosstabAggregator, list[str]]:
    """Every file folded into months, and a line per file read (or skipped)."""
    aggregator = CrosstabAggregator()
    notes: list[str] = []
    for path in paths:
        try:
            if zipfile.is_zipfile(path):
                notes.extend(_feed_zip(path, aggregator))
                continue
            with path.open("rb") as stream:
                rows = aggregator.feed_file(path.name, _rows(stream, path.name))
        except OSError as exc:
            raise AppointmentsFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
        notes.append(f"{path.name}: {rows:,} rows")
    return aggregator, notes
