"""Reference loaders read within bounds whatever a file says about itself (security review:
a 1.5 MB zip declaring a 100-byte member took 2.1 GB of memory; a 2 GB line took 6.4 GB)."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from ingest.reference.csv_input import MAX_LINE_CHARS, ReferenceFileError
from ingest.reference.parsing import (
    MAX_REFERENCE_BYTES,
    parse_reference,
    read_capped,
    unzip_reference,
)
from ingest.reference.records import ReferenceKind

pytestmark = pytest.mark.security

HEADER = "practice_code,participating_from,participating_to\n"
UNZIPPED = 40 * 1024 * 1024  # what the forged member really holds (zeros: a 40 KB zip)


def forged_zip(declared: int) -> bytes:
    """A zip of ``participation.csv`` (UNZIPPED bytes of zeros) whose headers say the member
    unzips to ``declared`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("participation.csv", bytes(UNZIPPED))
    data = buffer.getvalue()
    true_size = UNZIPPED.to_bytes(4, "little")
    assert data.count(true_size) == 2  # the local header and the central directory
    return data.replace(true_size, declared.to_bytes(4, "little"))


def test_a_zip_lying_about_its_member_size_is_unzipped_within_bounded_memory() -> None:
    """Reproduction: a small zip whose headers declare its member 100 bytes long, while it
    unzips to far more. Before, the whole member was inflated in one call (memory many times
    the declared size); now it is inflated a chunk at a time and the lie ends in one
    ReferenceFileError, with memory a small fraction of what the member holds."""
    data = forged_zip(declared=100)
    tracemalloc.start()
    try:
        with pytest.raises(ReferenceFileError) as refused:
            unzip_reference(ReferenceKind.PARTICIPATION, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "\n" not in str(refused.value)
    assert peak < UNZIPPED / 4, f"peak {peak:,} bytes while unzipping"


def test_more_bytes_than_the_cap_are_never_read() -> None:
    """A stream longer than the cap is refused after reading the cap and one chunk at most."""
    stream = io.BytesIO(bytes(3 * 1024 * 1024))
    with pytest.raises(ReferenceFileError, match="larger than 1,048,576 bytes"):
        read_capped(stream, "file", cap=1024 * 1024)
    assert stream.tell() <= 1024 * 1024 + 1
    assert MAX_REFERENCE_BYTES >= 16 * 1024 * 1024  # far above the largest published file


def test_a_line_longer_than_the_bound_is_refused_in_one_line() -> None:
    """Reproduction: a file with one enormous line was split by the CSV reader whole (memory
    several times the line); a participation file whose second line carries an extra column
    of 120,000 characters (ignored as extra columns are) loaded. Now a line longer than
    MAX_LINE_CHARS is refused, naming its line number."""
    row = f"A81001,2024-01-01,,{'x' * 120_000}\n"
    assert len(row) > MAX_LINE_CHARS
    with pytest.raises(ReferenceFileError, match="line 2: line longer than") as refused:
        parse_reference(ReferenceKind.PARTICIPATION, (HEADER + row).encode())
    assert "\n" not in str(refused.value)
    ok = parse_reference(ReferenceKind.PARTICIPATION, (HEADER + "A81001,2024-01-01,\n").encode())
    assert len(ok) == 1
