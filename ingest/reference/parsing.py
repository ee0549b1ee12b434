"""Parsing of reference files: the bytes of a file of a given kind to its records (pure).

One module per kind of file: ``epraccur`` (ODS GP practices), ``memberships`` (practice ->
sub-ICB), ``sub_icbs`` (sub-ICB -> ICB), ``list_sizes`` (registered patients); shared reading
in ``csv_input``, the records in ``records``. Column names in files with a header are
case-insensitive; extra columns are ignored.

A file may be given as published, zipped: the zip must hold the kind's file by its published
name (``EXPECTED_IN_ZIP``, or a name beginning with its stem, e.g.
``gp-reg-pat-prac-map-jan22.csv``); anything else is refused in one line naming what was
expected.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from ingest.reference.csv_input import ReferenceFileError, decode_text
from ingest.reference.epraccur import parse_epraccur
from ingest.reference.epraccur import summary as practices_summary
from ingest.reference.list_sizes import parse_list_sizes
from ingest.reference.memberships import parse_memberships
from ingest.reference.participation_list import parse_participation
from ingest.reference.practice_map import (
    is_practice_map,
    parse_practice_map,
    parse_practice_pcns,
)
from ingest.reference.records import Practice, Record, ReferenceKind
from ingest.reference.roster import parse_roster
from ingest.reference.snapshots import (
    Snapshot,
    memberships_from_snapshots,
    snapshot_of_map,
    snapshot_of_practices,
)
from ingest.reference.sub_icbs import parse_sub_icbs

__all__ = [
    "ParsedFile",
    "ReferenceKind",
    "parse_reference",
    "read_reference",
    "read_snapshot",
    "unzip_reference",
]

_PARSERS: dict[ReferenceKind, Callable[[str], Sequence[Record]]] = {
    ReferenceKind.PRACTICES: parse_epraccur,
    ReferenceKind.MEMBERSHIPS: parse_memberships,
    ReferenceKind.SUB_ICBS: parse_sub_icbs,
    ReferenceKind.LIST_SIZES: parse_list_sizes,
    ReferenceKind.PARTICIPATION: parse_participation,
    ReferenceKind.ROSTER: parse_roster,
    ReferenceKind.PCNS: parse_practice_pcns,
}

# The published names of each kind's CSV inside a zip (the first one present is read).
EXPECTED_IN_ZIP: dict[ReferenceKind, tuple[str, ...]] = {
    ReferenceKind.PRACTICES: ("epraccur.csv",),
    ReferenceKind.MEMBERSHIPS: ("gp-reg-pat-prac-map.csv",),
    ReferenceKind.SUB_ICBS: ("eccg.csv",),
    ReferenceKind.LIST_SIZES: ("gp-reg-pat-prac-all.csv",),
    ReferenceKind.PARTICIPATION: ("participation.csv",),
    ReferenceKind.ROSTER: ("roster.csv",),
    ReferenceKind.PCNS: ("gp-reg-pat-prac-map.csv",),
}
# A reference file (or what a zip holds) is read up to this many bytes, whatever a zip says
# its member's size is: the largest published file (epraccur) is under 3 MB.
MAX_REFERENCE_BYTES = 64 * 1024 * 1024
MAX_UNZIPPED_BYTES = MAX_REFERENCE_BYTES
_CHUNK = 1024 * 1024  # unzipped a chunk at a time: never more in memory than the cap allows
_ZIP_MAGIC = b"PK\x03\x04"


def unzip_reference(kind: ReferenceKind, data: bytes) -> bytes:
    """The CSV inside ``data`` when it is a zip (see the module docstring), else ``data``."""
    if not data.startswith(_ZIP_MAGIC):
        return data
    expected = " or ".join(EXPECTED_IN_ZIP[kind])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ReferenceFileError(f"{kind.value} zip", [(0, f"not a readable zip ({exc})")]) from exc
    with archive:
        members = {info.filename.rsplit("/", 1)[-1].lower(): info for info in archive.infolist()}
        chosen = next((members[name] for name in EXPECTED_IN_ZIP[kind] if name in members), None)
        if chosen is None:
            stems = tuple(name.removesuffix(".csv") for name in EXPECTED_IN_ZIP[kind])
            chosen = next(
                (
                    i
                    for n, i in sorted(members.items())
                    if n.startswith(stems) and n.endswith(".csv")
                ),
                None,
            )
        if chosen is None:
            held = ", ".join(sorted(members)[:10]) or "nothing"
            raise ReferenceFileError(
                f"{kind.value} zip", [(0, f"expected {expected} inside; the zip holds {held}")]
            )
        if chosen.file_size > MAX_UNZIPPED_BYTES:
            raise ReferenceFileError(
                f"{kind.value} zip",
                [
                    (
                        0,
                        f"{chosen.filename} unzips to {chosen.file_size:,} bytes (limit "
                        f"{MAX_UNZIPPED_BYTES:,})",
                    )
                ],
            )
        try:
            with archive.open(chosen) as member:
                return read_capped(member, f"{kind.value} zip: {chosen.filename}")
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
            raise ReferenceFileError(
                f"{kind.value} zip", [(0, f"cannot read {chosen.filename} ({exc})")]
            ) from exc


def read_capped(stream: IO[bytes], what: str, cap: int | None = None) -> bytes:
    """Everything ``stream`` holds, read a chunk at a time; more than ``cap`` bytes
    (MAX_REFERENCE_BYTES) is one ReferenceFileError, read no further."""
    limit = MAX_REFERENCE_BYTES if cap is None else cap
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(_CHUNK, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ReferenceFileError(what, [(0, f"larger than {limit:,} bytes: refused")])
    return b"".join(chunks)


def parse_reference(kind: ReferenceKind, data: bytes) -> list[Record]:
    """Parse the bytes of a reference file of the given kind (a CSV, or a zip holding one)."""
    return read_reference(kind, data, "file").records


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A file's records and what to tell the person who loaded it (lines; may be empty)."""

    records: list[Record]
    summary: list[str]


def read_reference(kind: ReferenceKind, data: bytes, source: str) -> ParsedFile:
    """Parse a reference file and describe it: practices by class; memberships from an NHS
    England mapping file (a one-snapshot inference, see ``snapshots``)."""
    text = decode_text(unzip_reference(kind, data))
    if kind is ReferenceKind.MEMBERSHIPS and is_practice_map(text):
        snapshot = snapshot_of_map(source, parse_practice_map(text))
        inferred = memberships_from_snapshots([snapshot])
        return ParsedFile(list(inferred.memberships), inferred.report)
    records = list(_PARSERS[kind](text))
    if kind is ReferenceKind.PRACTICES:
        return ParsedFile(
            records, [practices_summary([r for r in records if isinstance(r, Practice)])]
        )
    return ParsedFile(records, [])


def read_snapshot(source: str, data: bytes, taken_on: dt.date | None) -> Snapshot:
    """One snapshot for ``snapshots``: an NHS England mapping file (dated by its extract date;
    a date given must agree) or an ODS epraccur file (``.csv`` or ``.zip``)."""
    text = decode_text(unzip_reference(ReferenceKind.PRACTICES, data))
    if is_practice_map(text):
        snapshot = snapshot_of_map(source, parse_practice_map(text))
        if taken_on is not None and taken_on != snapshot.taken_on:
            raise ReferenceFileError(
                source, [(0, f"given date {taken_on} but its EXTRACT_DATE is {snapshot.taken_on}")]
            )
        return snapshot
    return snapshot_of_practices(source, parse_epraccur(text), taken_on)
