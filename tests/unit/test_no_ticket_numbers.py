"""Code, tests and docs give the reason, never a ticket number: a tracked text file citing an
issue, finding or ticket by its number fails this test, which lists each citation as
file:line. One place is left as it is: docs/CONTRACT.md, a byte copy of a shared file. The
applied migrations are scanned too: their header comments were reworded, which their
checksums allow (ingest/db/reworded.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"\b(issue|finding|ticket)s? ?#?[0-9]+", re.IGNORECASE)
LEFT_AS_THEY_ARE = ("docs/CONTRACT.md",)


def tracked_text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and not name.startswith(LEFT_AS_THEY_ARE)]


def citations(name: str) -> list[str]:
    path = ROOT / name
    if not path.is_file():  # deleted in the work tree, not yet in the index
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:  # binary: images, dumps
        return []
    return [
        f"{name}:{number}: {line.strip()[:120]}"
        for number, line in enumerate(text.splitlines(), start=1)
        if CITATION.search(line)
    ]


def test_the_pattern_finds_a_citation_and_passes_a_reason() -> None:
    number = "14"  # kept apart, so that this file cites nothing itself
    assert CITATION.search(f"keys stay advisory (issue {number}, finding {number})")
    assert CITATION.search(f"see Ticket #{number}")
    assert CITATION.search(f"(findings {number})")
    assert not CITATION.search("keys stay advisory: the body decides")
    assert not CITATION.search("an issue with 2 brokers")


def test_no_tracked_text_file_cites_a_ticket_number() -> None:
    found = [line for name in tracked_text_files() for line in citations(name)]
    assert not found, "cite the reason, not the number:\n" + "\n".join(found)
