"""The suppliers' guide's examples run as a supplier and we would run them: the Python producer
on the plain stack (the real consumer then stores what it sent) and, on the secure stack, the
onboarding commands (``suppliers add --credentials`` as ops, then ``push`` of the guide's file,
dated as the guide says, and the producer, each with exactly the variables ``add`` printed).
The guide's supplier ``askmygp`` is scoped to the test."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from pathlib import Path

import asyncpg
import pytest

from ingest.contract.model import topic_for
from ingest.settings import Settings
from tests.support.doc_examples import commands, example, run_shell
from tests.support.kafka import CreateTopics
from tests.support.polling import wait_until
from tests.support.service import running
from tests.support.suppliers import register

from .conftest import SecureBroker


async def run_producer_example(code: str, env: dict[str, str]) -> list[str]:
    """The example as a script with these INGEST_* variables only; its three lines."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env={**clean, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 3, lines
    return lines


async def test_the_producer_example_sends_what_the_consumer_stores(
    settings: Settings, token: str, pg: asyncpg.Connection, create_topics: CreateTopics
) -> None:
    supplier = f"{token}-askmygp"  # the example's supplier, scoped to this test
    code = example("supplier-producer").text.replace('"askmygp"', f'"{supplier}"')
    assert supplier in code
    await register(pg, supplier)
    await create_topics(topic_for(supplier), settings.dlq_topic, partitions=3)
    lines = await run_producer_example(code, {"INGEST_KAFKA_BOOTSTRAP": settings.kafka()})
    assert all(f": sent to {topic_for(supplier)}[" in line for line in lines), lines

    async with running(settings):

        async def landed() -> bool:
            stored = await pg.fetchval(
                "SELECT count(*) FROM triage.daily_requests WHERE supplier_id = $1", supplier
            )
            return bool(stored == 3)

        await wait_until(landed, what="the example's 3 rows in triage.daily_requests")

    day = dt.date.today() - dt.timedelta(days=1)
    found = await pg.fetch(
        "SELECT practice_code, activity_date, revision, total_requests, clinical_requests,"
        " admin_requests, other_requests FROM triage.daily_requests WHERE supplier_id = $1"
        " ORDER BY practice_code, activity_date",
        supplier,
    )
    assert [tuple(r) for r in found] == [
        ("A81001", day - dt.timedelta(days=3), 2, 98, None, None, None),
        ("A81001", day, 1, 120, 70, 40, 10),
        ("A81002", day, 1, 35, None, None, None),
    ]


# --------------------------------------------------------------------------------------
# the secure stack: onboarding in two commands
# --------------------------------------------------------------------------------------

PRINTED = re.compile(r"^  (INGEST_[A-Z_]+)=(.*)$", re.MULTILINE)


async def add_as_ops(broker: SecureBroker, supplier: str, cwd: Path) -> tuple[str, dict[str, str]]:
    """The onboarding's first command, as ops on the secure stack (its admin found in the
    stack's secrets, as the guide says); its output and the variables it printed."""
    add, _ = commands(example("supplier-onboarding").text)
    ops_env = {"INGEST_STATE_DIR": str(broker.state_dir)}
    added = await run_shell(add.replace("askmygp", supplier), ops_env, cwd)
    assert added.code == 0, added.output
    return added.stdout, dict(PRINTED.findall(added.stdout))


@pytest.mark.security
async def test_onboarding_as_printed_sends_the_guide_s_file_dated_yesterday(
    secure_broker: SecureBroker, token: str, tmp_path: Path
) -> None:
    supplier = f"{token}-askmygp"
    (tmp_path / "daily.csv").write_text(example("supplier-file-csv").text)
    (tmp_path / "daily.jsonl").write_text(example("supplier-file-jsonl").text)
    (dating,) = commands(example("supplier-file-dating").text)
    dated = await run_shell(dating, {}, tmp_path)
    assert dated.code == 0, dated.output
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    for name in ("daily.csv", "daily.jsonl"):
        text = (tmp_path / name).read_text()
        assert text.count(yesterday) == 2, text  # each file's two rows

    out, printed = await add_as_ops(secure_broker, supplier, tmp_path)
    _, push = commands(example("supplier-onboarding").text)
    as_supplier = printed | {"INGEST_KAFKA_BOOTSTRAP": secure_broker.bootstrap}
    pushed = await run_shell(push.replace("askmygp", supplier), as_supplier, tmp_path)

    assert pushed.code == 0, pushed.output
    assert "ok: 2 rows" in pushed.stdout, pushed.output
    # what `add` printed is what the guide shows: its first words, then the same variables
    shown = example("supplier-credentials-output").text.replace("askmygp", supplier)
    first_line = shown.splitlines()[0].removesuffix(" ...")
    assert first_line in " ".join(out.split()), out
    assert list(printed) == [name for name, _ in PRINTED.findall(shown)]


@pytest.mark.security
async def test_the_producer_example_works_with_exactly_the_variables_add_printed(
    secure_broker: SecureBroker, token: str, tmp_path: Path
) -> None:
    supplier = f"{token}-askmygp"
    _, printed = await add_as_ops(secure_broker, supplier, tmp_path)
    code = example("supplier-producer").text.replace('"askmygp"', f'"{supplier}"')

    lines = await run_producer_example(
        code, printed | {"INGEST_KAFKA_BOOTSTRAP": secure_broker.bootstrap}
    )

    assert printed["INGEST_SECURITY_PROTOCOL"] == "SASL_SSL"  # the secure stack's TLS listener
    assert all(f": sent to {topic_for(supplier)}[" in line for line in lines), lines
