"""The README documents the contract and every setting exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.contract.model import Outcome, Reason
from ingest.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme_configuration_table(name: str) -> None:
    assert f"| `INGEST_{name.upper()}` |" in README


def test_readme_defaults_match_the_settings_module() -> None:
    rows = {
        line.split("|")[1].strip(" `"): line.split("|")[2].strip(" `")
        for line in README.splitlines()
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
        assert documented == value, f"INGEST_{name.upper()}: README {documented} != {value}"


def test_every_reason_code_and_outcome_is_documented() -> None:
    for code in [*Reason, *Outcome]:
        assert f"`{code.value}`" in README


def test_the_projects_copy_of_the_contract_is_current() -> None:
    shared = ROOT.parent / "shared" / "CONTRACT.md"
    if not shared.exists():
        pytest.skip("no shared/CONTRACT.md beside this clone")
    assert (ROOT / "docs" / "CONTRACT.md").read_text() == shared.read_text()
