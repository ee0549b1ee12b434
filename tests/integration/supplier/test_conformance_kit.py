"""The supplier conformance kit, run as a supplier would against the real stack: the kit's
rows sent by three clients nobody here wrote the libraries of (Apache Avro for Java with the
Kafka Java producer; confluent-kafka's AvroSerializer with the real schema registry) and by
the project's own producer, then every row's outcome read back from the supplier's feedback
topic and checked row by row.

The kit's expected outcomes depend on order only between rows of one practice-day (a
restatement after its first send, a late lower revision, a re-send): every client keys a row
``<practice_code>:<activity_date>`` and partitions by that key, so those rows share a partition
and are read in the order sent (the contract's per-key order). Rows of different practice-days
may be read in any order, and each row's outcome is read back by its event id, not its place."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from ingest.cli.schemas_cmd import fingerprint_facts
from ingest.clock import local_today, system_clock
from ingest.contract.model import BAND_FIELDS, Reason
from ingest.contract.schemas import schemas_dir, version
from ingest.kafka import ensure_topics
from ingest.settings import Settings
from ingest.supplier.conformance import KitRow, make_rows, verdicts, write_rows
from ingest.supplier.counts import DailyCounts
from ingest.supplier.feedback import outcomes_of
from ingest.supplier.producer import DeliveryStatus, SupplierProducer
from tests.conftest import REPO_ROOT
from tests.support.outcomes import wait_outbox_empty
from tests.support.service import running, wait_consumed

from .conftest import SecureBroker, add_with_credentials, cli_env, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]

JAVA_KIT = REPO_ROOT / "examples" / "java"
CONFLUENT_KIT = REPO_ROOT / "examples" / "python-confluent" / "send_rows.py"
SCHEMA_V1 = schemas_dir() / "daily_practice_requests.v1.avsc"
SCHEMA_V3 = schemas_dir() / "daily_practice_requests.v3.avsc"


async def _run(
    *cmd: str, cwd: Path | None = None, within: float = 300, env: dict[str, str] | None = None
) -> str:
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        cwd=cwd,
        env=None if env is None else os.environ | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )
    async with asyncio.timeout(within):
        out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{text[-3000:]}"
    return text


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def java_kit() -> Path:
    """The Java client, built with mvn (its jars come from Maven Central, cached in ~/.m2)."""
    mvn = shutil.which("mvn")
    assert mvn is not None, "mvn is needed to build examples/java (apt-get install maven)"
    await _run(mvn, "-q", "-B", "package", cwd=JAVA_KIT)
    return JAVA_KIT / "target" / "triage-kit-java.jar"


async def _add_supplier(settings: Settings, supplier: str) -> str:
    added = await run_cli("suppliers", "add", supplier, "--name", supplier, env=cli_env(settings))
    assert added.code == 0, added.output
    return f"triage.daily.{supplier}"


def _rows(supplier: str, folder: Path, schema_version: int = 1) -> tuple[list[KitRow], Path]:
    rows = make_rows(supplier, local_today(system_clock(), "Europe/London"), schema_version)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rows.csv"
    write_rows(rows, path)
    return rows, path


async def _consume(settings: Settings, pg: asyncpg.Connection, topic: str) -> None:
    async with running(settings):
        await wait_consumed(pg, settings, [topic])
        await wait_outbox_empty(pg)


async def _check_with_the_cli(
    settings: Settings, supplier: str, rows_file: Path, rows: int = 15
) -> None:
    checked = await run_cli(
        "conformance", "check", str(rows_file), "--supplier", supplier, "--within", "30",
        env=cli_env(settings),
    )  # fmt: skip
    assert checked.code == 0, checked.output
    assert f"{rows} of {rows} rows as the contract says" in checked.stdout


async def test_java_avro_single_object_encoder_and_kafka_producer_pass_row_by_row(
    settings: Settings, pg: asyncpg.Connection, token: str, tmp_path: Path, java_kit: Path
) -> None:
    """Schema v3, with the time-band rows (older writers: the secure-stack test below)."""
    supplier = f"{token}-java"
    topic = await _add_supplier(settings, supplier)
    rows, rows_file = _rows(supplier, tmp_path, schema_version=3)
    sent = await _run(
        "java", "-jar", str(java_kit), "--bootstrap", settings.kafka(), "--topic", topic,
        "--schema", str(SCHEMA_V3), "--rows", str(rows_file),
    )  # fmt: skip
    assert f"sent {len(rows)} records" in sent
    # Apache Avro's own fingerprint of v3 is the one `ingest schemas` prints (the number is
    # the other byte order of the single-object header)
    java_hex = fingerprint_facts(version(3))["fingerprint64_hex"]
    assert f"fingerprint (parsingFingerprint64) {java_hex}" in sent
    await _consume(settings, pg, topic)
    await _check_with_the_cli(settings, supplier, rows_file, len(rows))
    bands = await pg.fetch(
        "SELECT practice_code, revision, requests_08_10 FROM triage.daily_request_revisions"
        " WHERE requests_08_10 IS NOT NULL ORDER BY practice_code, revision"
    )
    expected = [
        (r.practice_code, r.revision, r.bands[2])
        for r in rows
        if r.expected_outcome.value == "accepted" and r.bands[2] is not None
    ]
    assert [tuple(b) for b in bands] == sorted(expected)


async def test_confluent_kafka_avro_serializer_with_the_real_registry_passes_row_by_row(
    settings: Settings,
    pg: asyncpg.Connection,
    token: str,
    tmp_path: Path,
    schema_registry_url: str,
) -> None:
    """Schema v3, with the time-band rows (older writers: the secure-stack test below)."""
    supplier = f"{token}-ck"
    topic = await _add_supplier(settings, supplier)
    rows, rows_file = _rows(supplier, tmp_path, schema_version=3)
    sent = await _run(
        sys.executable, str(CONFLUENT_KIT), "--bootstrap", settings.kafka(), "--topic", topic,
        "--registry", schema_registry_url, "--schema", str(SCHEMA_V3), "--rows", str(rows_file),
    )  # fmt: skip
    assert f"sent {len(rows)} records" in sent
    with_registry = settings.model_copy(update={"schema_registry_url": schema_registry_url})
    await _consume(with_registry, pg, topic)
    await _check_with_the_cli(settings, supplier, rows_file, len(rows))


def _counts(row: KitRow) -> DailyCounts:
    total, clinical, admin, other = row.counts
    assert total is not None
    return DailyCounts(
        row.practice_code,
        row.activity_date,
        total,
        clinical,
        admin,
        other,
        row.revision,
        **dict(zip(BAND_FIELDS, row.bands, strict=True)),
    )


async def test_the_projects_producer_sends_or_refuses_each_row_as_the_contract_says(
    settings: Settings, pg: asyncpg.Connection, token: str, tmp_path: Path
) -> None:
    supplier = f"{token}-own"
    topic = await _add_supplier(settings, supplier)
    rows, _ = _rows(supplier, tmp_path, schema_version=3)
    # it writes its own supplier id into every event: the mismatch row cannot be expressed
    rows = [r for r in rows if r.supplier_id == supplier]
    async with SupplierProducer(supplier, settings, schema_version=3) as producer:
        deliveries = [
            d
            async for d in producer.deliveries(
                [_counts(r) for r in rows],
                event_ids=[r.event_id for r in rows],
            )
        ]
    refused = {
        d.event_id: Reason(d.problems[0].reason)
        for d in deliveries
        if d.status is DeliveryStatus.INVALID
    }
    assert all(d.ok for d in deliveries if d.event_id not in refused)
    await _consume(settings, pg, topic)
    found = await outcomes_of(
        settings, supplier, [r.event_id for r in rows if r.event_id not in refused]
    )
    results = verdicts(rows, found, refused)
    wrong = [f"{v.row.case}: expected {v.row.expected}, got {v.got}" for v in results if not v.ok]
    assert not wrong, wrong
    assert len(results) == len(rows)


def _supplier_env(as_supplier: Settings) -> dict[str, str]:
    """The examples' own variables: the supplier's user and password, the broker's CA."""
    assert as_supplier.sasl_username and as_supplier.sasl_password
    assert as_supplier.kafka_ssl_cafile is not None
    return {
        "TRIAGE_KAFKA_USERNAME": as_supplier.sasl_username,
        "TRIAGE_KAFKA_PASSWORD": as_supplier.sasl_password.get_secret_value(),
        "TRIAGE_KAFKA_CA_FILE": str(as_supplier.kafka_ssl_cafile),
    }


@pytest.mark.security
async def test_both_example_clients_send_over_sasl_ssl_with_the_supplier_s_credentials(
    settings: Settings,
    pg: asyncpg.Connection,
    token: str,
    tmp_path: Path,
    java_kit: Path,
    schema_registry_url: str,
    secure_broker: SecureBroker,
) -> None:
    """The secure stack serves suppliers SASL_SSL only: the Java and confluent-kafka examples
    connect with the supplier's user, verify the broker against its CA, and every row passes."""
    java, ck = f"{token}-java", f"{token}-ck"
    as_java = await add_with_credentials(settings, secure_broker, java)
    as_ck = await add_with_credentials(settings, secure_broker, ck)
    await ensure_topics(secure_broker.admin(settings), [settings.dlq_topic], 1)
    java_rows, java_file = _rows(java, tmp_path / "java")
    ck_rows, ck_file = _rows(ck, tmp_path / "ck")
    sent = await _run(
        "java", "-jar", str(java_kit), "--bootstrap", secure_broker.bootstrap,
        "--topic", f"triage.daily.{java}", "--schema", str(SCHEMA_V1), "--rows", str(java_file),
        env=_supplier_env(as_java),
    )  # fmt: skip
    assert "sent 15 records" in sent
    sent = await _run(
        sys.executable, str(CONFLUENT_KIT), "--bootstrap", secure_broker.bootstrap,
        "--topic", f"triage.daily.{ck}", "--registry", schema_registry_url,
        "--schema", str(SCHEMA_V1), "--rows", str(ck_file),
        env=_supplier_env(as_ck),
    )  # fmt: skip
    assert "sent 15 records" in sent
    service = secure_broker.consumer(settings).model_copy(
        update={"schema_registry_url": schema_registry_url}
    )
    admin = secure_broker.admin(settings)
    async with running(service):
        await wait_consumed(pg, admin, [f"triage.daily.{java}", f"triage.daily.{ck}"])
        await wait_outbox_empty(pg)
    for supplier, as_supplier, rows_file in ((java, as_java, java_file), (ck, as_ck, ck_file)):
        env = cli_env(as_supplier)
        del env["INGEST_DATABASE_URL"]  # the supplier's credentials alone
        checked = await run_cli(
            "conformance", "check", str(rows_file), "--supplier", supplier, "--within", "30",
            env=env,
        )  # fmt: skip
        assert checked.code == 0, checked.output
        assert "15 of 15 rows as the contract says" in checked.stdout
    assert len(java_rows) == len(ck_rows) == 15
