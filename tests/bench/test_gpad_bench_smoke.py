"""CI smoke test of the GPAD month benchmark (``python -m tests.bench.gpad_month``) at 20,000
rows on the real stack: it runs, and the command loads every row it generated, first as a
new load and then unchanged. No timing assertions (the machine is shared)."""

from __future__ import annotations

import re

import pytest

from ingest.devstack import stack as local_stack
from tests.bench import gpad_month

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_the_gpad_benchmark_loads_what_it_generates(
    stack: local_stack.StackAddresses, capsys: pytest.CaptureFixture[str]
) -> None:
    await gpad_month.main_async(20_000, stack.owner_database_url)
    out = capsys.readouterr().out
    generated = int(re.search(r"generated ([\d,]+) rows", out)[1].replace(",", ""))  # type: ignore[index]
    assert generated > 15_000
    assert f"loaded {generated:,} crosstab rows" in out
    assert f"unchanged: same content as current load 1 ({generated:,} crosstab rows" in out
    assert re.search(r"first load: [\d.]+ s wall, [\d.]+ s CPU, .* peak RSS \d+ MB", out)
