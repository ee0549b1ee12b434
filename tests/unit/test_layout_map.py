"""The layout map of docs/development.md (the example ``development-layout``) names every
module and subpackage of ``ingest/``, each in its own package's place, and nothing that is
gone: a new module cannot be missing from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.doc_examples import example

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ingest"
INDENT = 2  # each level of the tree is indented by two spaces more than its parent


def on_disk() -> set[str]:
    """Every module (a .py file other than __init__.py) and subpackage under ingest/, as
    paths relative to it (a subpackage ends in "/")."""
    modules = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    }
    packages = {
        f"{path.parent.relative_to(PACKAGE).as_posix()}/"
        for path in PACKAGE.rglob("__init__.py")
        if path.parent != PACKAGE
    }
    return modules | packages


def exists(path: Path) -> bool:
    """A module file, or a folder holding a file (a folder left with only __pycache__ by a
    package that moved away is gone)."""
    if path.is_file():
        return True
    return any(f.is_file() and "__pycache__" not in f.parts for f in path.rglob("*"))


def in_the_map(text: str) -> tuple[set[str], list[str]]:
    """The paths the map's ``ingest/`` tree names (relative to ingest/), and the lines of that
    tree it cannot place (an odd indent, a skipped level, or a first word that is neither a
    module file nor a folder)."""
    lines = text.splitlines()
    start = lines.index("ingest/") + 1
    named: set[str] = set()
    unplaced: list[str] = []
    parents: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            break  # the tree of ingest/ ends where the next top-level entry begins
        depth, odd = divmod(indent, INDENT)
        name = line.split()[0]
        if odd or depth - 1 > len(parents) or not name.endswith((".py", "/")):
            unplaced.append(line)
            continue
        parents = parents[: depth - 1]
        path = "".join(parents) + name
        named.add(path)
        if name.endswith("/"):
            parents.append(name)
    return named, unplaced


MAP = example("development-layout")


def test_the_map_of_the_development_guide_is_the_development_layout_example() -> None:
    assert MAP.document == ROOT / "docs" / "development.md"


def test_the_tree_reader_places_modules_and_folders_by_their_indent() -> None:
    text = "ingest/\n  a.py  x\n  p/  y\n    b.py  z\n    q/\n      c.py\n  d.py\nother/  w\n"
    assert in_the_map(text) == ({"a.py", "p/", "p/b.py", "p/q/", "p/q/c.py", "d.py"}, [])
    assert in_the_map("ingest/\n   odd.py\n      deep.py\n  word here\n")[1] == [
        "   odd.py",
        "      deep.py",
        "  word here",
    ]


def test_every_line_of_the_ingest_tree_is_a_module_or_a_folder_in_its_place() -> None:
    _, unplaced = in_the_map(MAP.text)
    assert unplaced == [], "lines of the ingest/ tree the map cannot place"


def test_every_module_and_subpackage_of_ingest_is_named_in_its_packages_place() -> None:
    named, _ = in_the_map(MAP.text)
    missing = sorted(on_disk() - named)
    assert missing == [], f"add to the layout map of docs/development.md: {missing}"


def test_the_map_names_nothing_that_is_not_in_ingest() -> None:
    named, _ = in_the_map(MAP.text)
    gone = sorted(path for path in named if not exists(PACKAGE / path))
    assert gone == [], f"in the layout map of docs/development.md, not in ingest/: {gone}"
