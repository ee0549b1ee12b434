"""The package's layers, written down and enforced: a module imports only from its own
package or from a layer below its own, so the import graph has no upward arrow and no cycle.

    base (errors, settings, clock, kafka, ..., web) < contract < db
      < consumer | reference | supplier | security < ops | devstack < analytics < cli

Packages of one layer do not import each other. The consumer reports through a metrics
protocol (ingest.consumer.metrics) that ops implements; the process that wires the consumer
to the HTTP endpoints and the refresher is ops' (ingest.ops.process)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "ingest"
BASE = frozenset(
    {
        "errors",
        "settings",
        "clock",
        "durations",
        "redaction",
        "kafka",
        "output_file",
        "spreadsheet_safety",
        "web",
    }
)
LAYERS: tuple[frozenset[str], ...] = (
    BASE,
    frozenset({"contract"}),
    frozenset({"db"}),
    frozenset({"consumer", "reference", "supplier", "security"}),
    frozenset({"ops", "devstack"}),
    frozenset({"analytics"}),
    frozenset({"cli"}),
)
RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}


def unit_of(module: str) -> str | None:
    """``ingest.ops.metrics`` -> ``ops``; ``ingest.errors`` -> ``errors``; else None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "ingest" and len(parts) > 1 else None


def imports_of(path: Path) -> set[str]:
    """Every ``ingest.*`` module a file imports, at module level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("ingest.")}


def import_edges() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> the files that make that edge."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        source = unit_of(".".join(relative.parts))
        for module in imports_of(path):
            target = unit_of(module)
            if source and target and target != source:
                edges[(source, target)].append(str(relative))
    return edges


def test_every_unit_of_the_package_has_a_layer() -> None:
    units = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert sorted(units - RANK.keys()) == []


def test_no_module_imports_from_a_layer_above_its_own_or_a_sibling_package() -> None:
    wrong = [
        f"{source} -> {target} ({', '.join(files)})"
        for (source, target), files in sorted(import_edges().items())
        if RANK[target] > RANK[source] or (RANK[target] == RANK[source] and RANK[source] > 0)
    ]
    assert wrong == []


def test_the_packages_import_graph_has_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in import_edges():
        graph[source].add(target)
    done: set[str] = set()

    def cycle_from(unit: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        if unit in path:
            return (*path[path.index(unit) :], unit)
        if unit in done:
            return None
        for target in sorted(graph[unit]):
            found = cycle_from(target, (*path, unit))
            if found:
                return found
        done.add(unit)
        return None

    cycles = [c for unit in sorted(graph) if (c := cycle_from(unit, ()))]
    assert cycles == []


def test_the_layer_check_sees_an_upward_import() -> None:
    """The check is not vacuous: an import of ops from the consumer is an edge it reports."""
    assert unit_of("ingest.ops.metrics") == "ops"
    assert RANK["ops"] > RANK["consumer"]
    consumer_imports = set().union(*(imports_of(p) for p in (PACKAGE / "ops").glob("*.py")))
    assert any(unit_of(m) == "consumer" for m in consumer_imports)  # ops -> consumer is seen
