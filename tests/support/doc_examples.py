"""The documentation's examples: each is written once, in the page that shows it, as a fenced
block right after a marker line ``<!-- example: NAME -->``; tests read it from there and run it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")])

_EXAMPLE = re.compile(
    r"^<!-- example: (?P<name>[a-z0-9-]+) -->\n```(?P<lang>[a-z]*)\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
_FENCE = re.compile(r"^```(?P<lang>[a-z]+)\n", re.MULTILINE)


@dataclass(frozen=True)
class Example:
    name: str
    language: str
    text: str
    document: Path


def examples() -> dict[str, Example]:
    """Every named example of the README and docs/, by name (a name is used once)."""
    found: dict[str, Example] = {}
    for document in DOCUMENTS:
        for match in _EXAMPLE.finditer(document.read_text()):
            name = match["name"]
            if name in found:
                raise AssertionError(
                    f"example {name!r} is in {found[name].document} and {document}"
                )
            found[name] = Example(name, match["lang"], match["body"], document)
    return found


def example(name: str) -> Example:
    """One named example (KeyError names the missing one)."""
    return examples()[name]


def fenced_blocks(document: Path, language: str) -> int:
    """How many fenced blocks of a language a document has."""
    return sum(1 for m in _FENCE.finditer(document.read_text()) if m["lang"] == language)
