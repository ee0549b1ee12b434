"""The documentation states the contract and every setting exactly, and its links lead somewhere."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from ingest.contract.model import Outcome, Reason
from ingest.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()  # the configuration table
SUPPLIERS = (ROOT / "docs" / "suppliers.md").read_text()  # the contract in brief
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_operations_configuration_table(name: str) -> None:
    assert f"| `INGEST_{name.upper()}` |" in OPERATIONS


def test_documented_defaults_match_the_settings_module() -> None:
    rows = {
        line.split("|")[1].strip(" `"): line.split("|")[2].strip(" `")
        for line in OPERATIONS.splitlines()
        if line.startswith("| `INGEST_")
    }
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is None:
            continue
        documented = rows[f"INGEST_{name.upper()}"]
        value = str(default)
        if isinstance(default, float) and default.is_integer():
            value = str(int(default))
        assert documented == value, f"INGEST_{name.upper()}: docs {documented} != {value}"


def test_every_reason_code_and_outcome_is_documented_for_suppliers() -> None:
    for code in [*Reason, *Outcome]:
        assert f"`{code.value}`" in SUPPLIERS


def test_the_projects_copy_of_the_contract_is_current() -> None:
    shared = ROOT.parent / "shared" / "CONTRACT.md"
    if not shared.exists():
        pytest.skip("no shared/CONTRACT.md beside this clone")
    assert (ROOT / "docs" / "CONTRACT.md").read_text() == shared.read_text()


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_leads_to_a_file_of_the_repository(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text()):
        path = target.split("#", 1)[0]
        if not path or re.match(r"^[a-z]+:", path):
            continue  # an anchor on the same page, or a URL
        if not (document.parent / path).exists():
            broken.append(target)
    assert not broken, f"{document.relative_to(ROOT)}: links to nothing: {broken}"


def test_the_readme_justifies_every_dependency_of_the_base_install_and_the_stack() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = [*project["dependencies"], *project["optional-dependencies"]["stack"]]
    names = {re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].lower() for spec in required}
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Dependencies") :].lower()
    justified = {
        n for n in names if re.search(rf"^\| [^|]*\b{re.escape(n)}\b[^|]* \| \S", table, re.M)
    }
    assert names - justified == set(), "add a row to the README's dependency table"
