"""The documentation's examples: each is written once, in the page that shows it, as a fenced
block right after a marker line ``<!-- example: NAME -->``; tests read it from there and run it.

Every fenced block of the README and docs/ (commands, files, code, diagrams) carries a marker:
it is either run by a test (``RUN_BY`` in tests/unit/test_doc_examples.py) or listed in
``NOT_RUNNABLE`` below with the reason it cannot run here; a block that is neither fails
tests/unit/test_doc_examples.py, so a new example is caught the day it is written.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")])

# A fenced block, indented or not (inside a list item), with its marker line when it has one.
_BLOCK = re.compile(
    r"^(?:(?P<indent_m>[ ]*)<!-- example: (?P<name>[a-z0-9-]+) -->\n)?"
    r"(?P<indent>[ ]*)```(?P<lang>[a-z]*)\n(?P<body>.*?)^(?P=indent)```$",
    re.MULTILINE | re.DOTALL,
)

# Examples no test can run here, and why (the name is the block's marker).
NOT_RUNNABLE: dict[str, str] = {
    "readme-set-up": "`make test` is the suite itself, and `make demo` uses the demo's own stack"
    " (.ingest/), which tests leave alone; `ingest demo` is run by"
    " tests/integration/supplier/test_demo.py",
    "analytics-quick-start": "needs NHS files as published (epraccur.zip, eccg.zip...), not kept"
    " here; each loader runs on real excerpts in tests/integration/test_reference_real_files.py",
    "activity-quick-start": "needs NHS England's month as published (a national GPAD zip, the"
    " list-size file), not kept here; the same commands run on a real excerpt in"
    " tests/integration/test_activity_real_data.py, ingest datapackage in"
    " tests/integration/test_datapackage.py",
    "analytics-export-usage": "a synopsis of the command's options, not a command",
    "analytics-publish-usage": "a synopsis of the command's options, not a command",
    "analytics-quality-report-usage": "a synopsis of the command's options, not a command",
    "analytics-connect-production": "a production server (db-host:5432); the same commands run"
    " on the local stack as analytics-local-analyst",
    "benchmarks-run": "minutes to hours of load (2,000,000 events) on the whole machine; run by"
    " hand, figures in docs/benchmarks.md",
    "benchmarks-scale": "hours of load (years of national data); run by hand",
    "benchmarks-gpad-month": "a minute or more of the whole machine (5,000,000 rows); run by"
    " hand, figures in docs/benchmarks.md; tests/bench/test_gpad_bench_smoke.py runs it at"
    " 20,000 rows",
    "development-how-it-works": "a diagram, not a command",
    "development-layers": "a diagram of the import layers, not a command;"
    " tests/unit/test_layers.py checks them",
    "development-while-working": "runs the unit suite and the linters: CI runs both itself",
    "development-schema-snapshot": "rewrites ingest/db/schema.sql in the source tree;"
    " tests/integration/test_schema_snapshot.py checks the same generation",
    "fault-tolerance-suite": "the faults suite itself (minutes of SIGKILLs and outages); `make"
    " test` runs it",
    "fault-tolerance-reading-a-run": "output of a run, not a command",
    "operations-grafana-mounts": "a docker compose fragment: no Docker engine here;"
    " tests/unit/test_compose.py checks the compose files",
    "suppliers-conformance-kit-java": "needs the Java example built with Maven and a broker"
    " address of your own; tests/integration/supplier/test_conformance_kit.py runs the same"
    " kit with the Java client",
    "suppliers-secure-stack-up": "starts a second broker and database; the suite's secure stack"
    " is started the same way (local_stack.up(state, secure=True)) by the secure_broker"
    " fixture of tests/integration/supplier/conftest.py",
    "suppliers-secure-consumer": "`ingest run` runs until stopped, on the .ingest/ folder of the"
    " demo's stack; the secure consumer is run by tests/integration/supplier/test_security.py",
    "suppliers-kafka-tools": "Kafka's shell tools (kafka-configs.sh, kafka-acls.sh) are not"
    " installed by the local stack, which runs the broker from Maven jars",
}


@dataclass(frozen=True)
class Example:
    name: str
    language: str
    text: str
    document: Path


@dataclass(frozen=True)
class Block:
    """A fenced block as it is in a page; ``name`` is None when it has no marker line."""

    document: Path
    line: int
    language: str
    name: str | None
    text: str


def blocks() -> list[Block]:
    """Every fenced block of the README and docs/, in page order."""
    found: list[Block] = []
    for document in DOCUMENTS:
        page = document.read_text()
        for match in _BLOCK.finditer(page):
            line = page.count("\n", 0, match.start("indent")) + 1
            indent = len(match["indent"])
            body = "".join(
                row[indent:] for row in match["body"].splitlines(keepends=True)
            )  # an indented block's text as its reader copies it
            found.append(Block(document, line, match["lang"], match["name"], body))
    return found


def examples() -> dict[str, Example]:
    """Every named example of the README and docs/, by name (a name is used once)."""
    found: dict[str, Example] = {}
    for block in blocks():
        if block.name is None:
            continue
        if block.name in found:
            raise AssertionError(
                f"example {block.name!r} is in {found[block.name].document} and {block.document}"
            )
        found[block.name] = Example(block.name, block.language, block.text, block.document)
    return found


def example(name: str) -> Example:
    """One named example (KeyError names the missing one)."""
    return examples()[name]


# --------------------------------------------------------------------------------------
# shell examples, run as printed
# --------------------------------------------------------------------------------------


def commands(text: str) -> list[str]:
    """The commands of a shell example, one per entry (a line ending in ``\\`` continues)."""
    found: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line + "\n"
            continue
        command = pending + line
        pending = ""
        if command.strip() and not command.lstrip().startswith("#"):
            found.append(command)
    return found


@dataclass(frozen=True)
class ShellResult:
    command: str
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return f"$ {self.command}\n{self.stdout}{self.stderr}"


async def run_shell(
    command: str, env: dict[str, str], cwd: Path, *, within: float = 180.0
) -> ShellResult:
    """One command of an example, by bash as a reader's terminal runs it: ``ingest`` is this
    interpreter's, no INGEST_* variable but those given, COLUMNS as given (default 200)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    path = f"{Path(sys.executable).parent}{os.pathsep}{clean.get('PATH', '')}"
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        command,
        env={**clean, "COLUMNS": "200", "PATH": path, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(within):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return ShellResult(command, proc.returncode, out.decode(), err.decode())
