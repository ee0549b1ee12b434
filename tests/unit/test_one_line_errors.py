"""Bad input gets one line, never a traceback: a deeply nested JSON line and a 10 MB CSV field ended
``ingest push`` in a traceback (each is now a problem of its own line, the rest of the file is
read), and a negative ``--limit`` reached Postgres (now refused by the option itself)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ingest.cli import app
from ingest.supplier.file_reading import read_rows

pytestmark = pytest.mark.security

GOOD_JSON = '{"practice_code": "A81001", "activity_date": "2026-11-30", "total_requests": 5}\n'
HEADER = "practice_code,activity_date,total_requests\n"


def test_a_deeply_nested_json_line_is_a_problem_of_that_line() -> None:
    nested = '{"a":' * 100_000 + "1" + "}" * 100_000 + "\n"
    problems, rows = read_rows([GOOD_JSON, nested, GOOD_JSON], "jsonl")
    read = list(rows)
    assert problems == []
    assert [r.line for r in read] == [1, 2, 3]
    assert read[1].values == {"": "JSON nested too deeply (a row is one flat object)"}
    assert read[2].values["practice_code"] == "A81001"


def test_a_huge_csv_field_is_a_problem_of_its_line() -> None:
    huge = "A81001,2026-11-30," + "9" * (10 * 1024 * 1024) + "\n"
    problems, rows = read_rows([HEADER, huge, "A81002,2026-11-30,4\n"], "csv")
    read = list(rows)
    assert problems == []
    assert read[0].line == 2 and str(read[0].values[""]).startswith("unreadable CSV: field larger")
    assert read[1].values == {
        "practice_code": "A81002",
        "activity_date": "2026-11-30",
        "total_requests": "4",
    }


@pytest.mark.parametrize("command", [["dlq", "list"], ["dlq", "outcomes"], ["dlq", "replay"]])
def test_a_negative_limit_is_refused_before_any_work(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--limit", "-1"])
    assert result.exit_code == 2
    assert "greater than or equal to 1" in result.output
