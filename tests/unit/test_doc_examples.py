"""Every fenced block of the README and docs/ is a named example, run by a test or excused with
its reason; the data examples are what the tools accept (one copy each, in the docs).

The commands and the Python producer run against the real stack:
tests/integration/supplier/test_doc_examples.py (plain and secure),
tests/integration/ops/test_doc_examples.py, tests/integration/test_doc_sql_examples.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.contract.model import BAND_FIELDS
from ingest.contract.validation import Limits
from ingest.reference.memberships import parse_memberships
from ingest.reference.records import Membership, SubIcb
from ingest.reference.sub_icbs import parse_sub_icbs
from ingest.supplier.counts import DailyCounts
from ingest.supplier.push_file import check_lines
from tests.support.doc_examples import (
    DOCUMENTS,
    NOT_RUNNABLE,
    REPO_ROOT,
    blocks,
    commands,
    example,
    examples,
)

# Each named example run by a test, and the test module that runs it (every other fenced
# block is in NOT_RUNNABLE, with its reason).
RUN_BY = {
    "supplier-file-csv": "tests/unit/test_doc_examples.py",
    "supplier-file-jsonl": "tests/unit/test_doc_examples.py",
    "supplier-file-dating": "tests/integration/supplier/test_doc_examples.py",
    "supplier-onboarding": "tests/integration/supplier/test_doc_examples.py",
    "supplier-credentials-output": "tests/integration/supplier/test_doc_examples.py",
    "supplier-producer": "tests/integration/supplier/test_doc_examples.py",
    "supplier-file-v3-csv": "tests/unit/test_doc_examples.py",
    "reference-memberships": "tests/unit/test_doc_examples.py",
    "reference-sub-icbs": "tests/unit/test_doc_examples.py",
    "analytics-sub-icb-series": "tests/integration/test_doc_sql_examples.py",
    "analytics-export-by-band": "tests/integration/test_band_exports.py",
    "analytics-practices-without-data": "tests/integration/test_doc_sql_examples.py",
    "analytics-local-analyst": "tests/integration/test_doc_sql_examples.py",
    "analytics-role-production": "tests/integration/test_doc_sql_examples.py",
    "operations-replay": "tests/integration/ops/test_doc_examples.py",
    "operations-thresholds": "tests/integration/ops/test_doc_examples.py",
    "operations-status": "tests/integration/ops/test_doc_examples.py",
    "operations-revision-partitions": "tests/integration/test_revision_partitions.py",
    "activity-worked-inputs": "tests/integration/test_activity_doc_example.py",
    "activity-worked-output": "tests/integration/test_activity_doc_example.py",
    "development-layout": "tests/unit/test_layout_map.py",
}
# The examples' files are dated 2025-03-03 (supplier-file-dating dates them yesterday before
# sending): checked as on the next day.
LIMITS = Limits(today=dt.date(2025, 3, 4))
DAY = dt.date(2025, 3, 3)


def test_every_fenced_block_of_the_docs_is_a_named_example() -> None:
    unnamed = [f"{b.document.name}:{b.line}" for b in blocks() if b.name is None]
    assert unnamed == [], "a fenced block without an <!-- example: NAME --> line above it"


def test_every_named_example_is_run_by_a_test_or_says_why_it_cannot_run_here() -> None:
    named = set(examples())
    assert named - RUN_BY.keys() - NOT_RUNNABLE.keys() == set(), "neither run nor excused"
    assert RUN_BY.keys() & NOT_RUNNABLE.keys() == set(), "both run and excused"
    assert (RUN_BY.keys() | NOT_RUNNABLE.keys()) - named == set(), "listed, not in the docs"
    assert all(reason.strip() for reason in NOT_RUNNABLE.values())
    for name, module in RUN_BY.items():
        assert f'"{name}"' in (REPO_ROOT / module).read_text(), f"{module} does not run {name}"


def test_the_block_finder_sees_every_fence_of_the_docs() -> None:
    fences = sum(
        1
        for d in DOCUMENTS
        for line in d.read_text().splitlines()
        if line.lstrip().startswith("```")
    )
    assert fences == 2 * len(blocks())


@pytest.mark.parametrize(
    ("name", "layout"), [("supplier-file-csv", "csv"), ("supplier-file-jsonl", "jsonl")]
)
def test_the_supplier_file_examples_pass_every_check_of_ingest_push(name: str, layout: str) -> None:
    problems, checked = check_lines(
        example(name).text.splitlines(keepends=True), layout, "askmygp", LIMITS
    )
    rows = list(checked)

    assert problems == []
    assert [row.problems for row in rows] == [(), ()]
    assert [row.counts for row in rows] == [
        DailyCounts("A81001", DAY, 120, clinical_requests=70, admin_requests=40, other_requests=10),
        DailyCounts("A81002", DAY, 35, revision=1 if layout == "csv" else 2),
    ]


def test_the_time_band_example_passes_ingest_push_with_schema_v3_only() -> None:
    lines = example("supplier-file-v3-csv").text.splitlines(keepends=True)
    problems, checked = check_lines(lines, "csv", "askmygp", LIMITS, 3)
    rows = list(checked)

    assert problems == []
    assert [row.problems for row in rows] == [(), ()]
    timed, untimed = (row.counts for row in rows)
    assert timed is not None and untimed is not None
    bands = [getattr(timed, name) for name in BAND_FIELDS]
    assert sum(bands) == timed.total_requests == 120
    assert [getattr(untimed, name) for name in BAND_FIELDS] == [None] * len(BAND_FIELDS)
    _, as_v2 = check_lines(lines, "csv", "askmygp", LIMITS, 2)
    assert {p.reason for p in next(as_v2).problems} == {"needs_schema_v3"}


def test_the_memberships_example_is_a_valid_memberships_file() -> None:
    assert parse_memberships(example("reference-memberships").text) == [
        Membership("B99002", "91A", dt.date(2022, 7, 1), dt.date(2024, 9, 30)),
        Membership("B99002", "91B", dt.date(2024, 10, 1), None),
    ]


def test_the_sub_icbs_example_is_a_valid_sub_icb_file() -> None:
    assert parse_sub_icbs(example("reference-sub-icbs").text) == [
        SubIcb(
            "91A",
            "NHS Northvale and Eastmoor ICB - 91A",
            "QZA",
            "NHS Northvale and Eastmoor Integrated Care Board",
            dt.date(2022, 7, 1),
            None,
        )
    ]


def test_a_shell_example_is_split_into_its_commands_continuations_kept() -> None:
    text = "# a comment\ningest a \\\n    --b   # why\n\ningest c\n"
    assert commands(text) == ["ingest a \\\n    --b   # why", "ingest c"]
