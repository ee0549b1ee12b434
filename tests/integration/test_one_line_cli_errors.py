"""Unusable input to the real ``ingest`` command is one line on stderr
and exit 2, never a traceback (nor a panel of usage text, nor a page of client warnings).

Before: a port above 65535 in INGEST_KAFKA_BOOTSTRAP or INGEST_DATABASE_URL ended in
``OverflowError`` (70-80 lines); a broker that cannot be reached (or that refuses the client's
protocol) in ``KafkaConnectionError`` (60 lines); usage errors were a five-line panel."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from ingest.contract.model import topic_for
from ingest.contract.outcomes import feedback_topic
from ingest.reference.csv_input import MAX_LINE_CHARS
from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli

pytestmark = [pytest.mark.security, pytest.mark.integration]

FEED = "practice_code,activity_date,total_requests\nA81001,2026-11-30,5\n"
PLAIN_BROKER_AS_SASL = {
    "INGEST_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    "INGEST_SASL_USERNAME": "admin",
    "INGEST_SASL_PASSWORD": "not-shown",
}

# (case, arguments ({s}: a supplier id of this test, {f}: a good feed file, {d}: a folder),
#  INGEST_* variables over the test stack's, what the line must say)
CASES = [
    (
        "a Kafka port above 65535",
        ["push", "-s", "{s}", "{f}"],
        {"INGEST_KAFKA_BOOTSTRAP": "127.0.0.1:70000"},
        "INGEST_KAFKA_BOOTSTRAP",
    ),
    (
        "a database port above 65535",
        ["status"],
        {"INGEST_DATABASE_URL": "postgresql://triage:not-shown@127.0.0.1:70000/triage"},
        "INGEST_DATABASE_URL",
    ),
    (
        "a database URL that cannot be parsed",
        ["status"],
        {"INGEST_DATABASE_URL": "postgresql://triage:not-shown@[127.0.0.1/triage"},
        "INGEST_DATABASE_URL",
    ),
    (
        "a broker nobody listens on",
        ["suppliers", "add", "{s}", "--name", "X"],
        {"INGEST_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
        "127.0.0.1:1",
    ),
    (
        "suppliers add --credentials over SASL to a plain broker",
        ["suppliers", "add", "{s}", "--name", "X", "--credentials"],
        PLAIN_BROKER_AS_SASL,
        "Kafka at",
    ),
    (
        "dlq replay with a broker nobody listens on",
        ["dlq", "replay", "--limit", "1"],
        {"INGEST_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
        "127.0.0.1:1",
    ),
    (
        "the demo with a broker nobody listens on",
        ["demo", "--prefix", "{s}-"],
        {"INGEST_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
        "127.0.0.1:1",
    ),
    ("a negative --limit", ["dlq", "list", "--limit", "-1"], {}, "--limit"),
    ("a --limit beyond 64 bits", ["dlq", "list", "--limit", "9" * 23], {}, "--limit"),
    ("a missing required option", ["suppliers", "add", "{s}"], {}, "--name"),
    (
        "--out a directory",
        [
            "export",
            "--by",
            "practice",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-02",
            "--out",
            "{d}",
        ],
        {},
        "is a directory",
    ),
    (
        "a huge duration",
        ["suppliers", "add", "{s}", "--name", "X", "--warn-after", "99999999999999d"],
        {},
        "longer than",
    ),
    ("a push to an unregistered supplier", ["push", "-s", "{s}", "{f}"], {}, "register"),
    ("an unknown --format", ["push", "-s", "{s}", "{f}", "--format", "xml"], {}, "'xml'"),
    (
        "schemas --register without a registry",
        ["schemas", "--register", "triage.daily.{s}-value"],
        {},
        "INGEST_SCHEMA_REGISTRY_URL",
    ),
    (
        "schemas --register with a registry that does not answer",
        ["schemas", "--register", "triage.daily.{s}-value"],
        {"INGEST_SCHEMA_REGISTRY_URL": "http://127.0.0.1:9/apis/ccompat/v7"},
        "cannot reach the schema registry",
    ),
]


@pytest.mark.parametrize(("args", "env", "said"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_unusable_input_is_one_line_and_exit_2(
    args: list[str],
    env: dict[str, str],
    said: str,
    settings: Settings,
    token: str,
    tmp_path: Path,
) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(FEED)
    filled = [a.format(s=f"{token}-x", f=feed, d=tmp_path) for a in args]

    result = await run_cli(*filled, env=cli_env(settings) | env)

    assert result.code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert said in result.stderr
    assert "not-shown" not in result.output


async def test_credentials_a_plain_broker_cannot_hold_are_refused_before_anything_is_created(
    settings: Settings, token: str, pg: asyncpg.Connection, kafka_admin: AIOKafkaAdminClient
) -> None:
    """``suppliers add --credentials`` on a broker without an authorizer (the plain stack):
    one line, exit 2, and nothing left behind: no supplier registered, neither of its topics."""
    supplier = f"{token}-x"
    result = await run_cli(
        "suppliers", "add", supplier, "--name", "X", "--credentials", env=cli_env(settings)
    )
    assert result.code == 2, result.output
    assert "without an authorizer" in result.stderr
    assert "nothing created" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    registered = await pg.fetchval(
        "SELECT count(*) FROM triage.suppliers WHERE supplier_id = $1", supplier
    )
    assert registered == 0
    topics = set(await kafka_admin.list_topics())
    assert {topic_for(supplier), feedback_topic(supplier)} & topics == set()


async def test_a_reference_file_with_an_enormous_line_is_one_line_and_exit_2(
    settings: Settings, tmp_path: Path
) -> None:
    """Reproduction (security review): a reference file with one enormous line was read and
    split whole; under a memory limit that ended in a MemoryError traceback. Now a line longer
    than the bound is refused in one line, exit 2, nothing loaded."""
    participation = tmp_path / "participation.csv"
    participation.write_text(
        "practice_code,participating_from,participating_to\n"
        f"A81001,2024-01-01,,{'x' * (MAX_LINE_CHARS + 1)}\n"
    )
    result = await run_cli("reference", "participation", str(participation), env=cli_env(settings))
    assert result.code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "line 2: line longer than" in result.stderr
