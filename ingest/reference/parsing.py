"""Parsing of reference files: the bytes of a file of a given kind to its records (pure).

One module per kind of file: ``epraccur`` (ODS GP practices), ``memberships`` (practice ->
sub-ICB), ``sub_icbs`` (sub-ICB -> ICB), ``list_sizes`` (registered patients); shared reading
in ``csv_input``, the records in ``records``. Column names in files with a header are
case-insensitive; extra columns are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ingest.reference.csv_input import decode_text
from ingest.reference.epraccur import parse_epraccur
from ingest.reference.list_sizes import parse_list_sizes
from ingest.reference.memberships import parse_memberships
from ingest.reference.records import Record, ReferenceKind
from ingest.reference.sub_icbs import parse_sub_icbs

__all__ = ["ReferenceKind", "parse_reference"]

_PARSERS: dict[ReferenceKind, Callable[[str], Sequence[Record]]] = {
    ReferenceKind.PRACTICES: parse_epraccur,
    ReferenceKind.MEMBERSHIPS: parse_memberships,
    ReferenceKind.SUB_ICBS: parse_sub_icbs,
    ReferenceKind.LIST_SIZES: parse_list_sizes,
}


def parse_reference(kind: ReferenceKind, data: bytes) -> list[Record]:
    """Parse the bytes of a reference file of the given kind."""
    return list(_PARSERS[kind](decode_text(data)))
