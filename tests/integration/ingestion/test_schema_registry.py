"""The Confluent wire format through a real schema registry (Apicurio Registry of the stack):
which registry schemas are accepted, unknown ids asked again, outages and id floods."""

from __future__ import annotations

import asyncio
import re
import resource
import time
import uuid
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import pytest

from ingest.contract.encoding import encode_confluent
from ingest.contract.model import BAND_FIELDS
from ingest.contract.schemas import released_versions, version
from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import produce, produce_unacknowledged
from tests.support.polling import wait_until
from tests.support.schema_registry import (
    is_compatible,
    register_schema,
    registration_status,
    renamed,
    set_compatibility,
)
from tests.support.service import running, sample, wait_consumed
from tests.support.suppliers import register_with_topic as register
from tests.support.tcp_proxy import tcp_proxy

pytestmark = pytest.mark.integration


def with_registry(settings: Settings, url: str, **more: object) -> Settings:
    return settings.model_copy(update={"schema_registry_url": url, **more})


def confluent_v1(supplier: str, practice: str, schema_id: int, total: int = 10) -> bytes:
    v1 = version(1)
    payload = {
        k: v
        for k, v in event(supplier, practice, yesterday(), total=total).items()
        if k in v1.field_names
    }
    return encode_confluent(payload, v1, schema_id)


async def stored(pg: asyncpg.Connection, supplier: str) -> list[str]:
    rows = await pg.fetch(
        "SELECT practice_code FROM triage.daily_requests WHERE supplier_id = $1"
        " ORDER BY practice_code",
        supplier,
    )
    return [r[0] for r in rows]


async def test_a_released_version_under_any_subject_and_record_name_is_stored(
    settings: Settings, pg: asyncpg.Connection, token: str, schema_registry_url: str
) -> None:
    supplier = f"{token}-confluent"
    topic = await register(pg, settings, supplier)
    own_name = renamed(version(1).source, "Counts", f"com.example.{token}")
    accepted = await register_schema(schema_registry_url, f"{token}-anything", own_name)
    extra = {**own_name, "fields": [*own_name["fields"], {"name": "site", "type": "string"}]}
    refused = await register_schema(schema_registry_url, f"{topic}-value", extra)
    records = [
        (None, confluent_v1(supplier, "H88001", accepted)),
        (None, b"\x00" + refused.to_bytes(4, "big") + b"\x00"),
    ]
    await produce(settings, topic, records, partition=0)
    async with running(with_registry(settings, schema_registry_url)):
        await wait_consumed(pg, settings, [topic])
    assert await stored(pg, supplier) == ["H88001"]
    rows = await pg.fetch("SELECT reason, detail FROM triage.rejected_events")
    assert [r["reason"] for r in rows] == ["unknown_schema"]
    assert f"registry schema id {refused} is not a released version" in rows[0]["detail"]
    assert "field site is not in v1" in rows[0]["detail"]


@pytest.mark.parametrize("rule", ["BACKWARD", "BACKWARD_TRANSITIVE"])
async def test_released_versions_register_in_order_under_the_registrys_backward_rule(
    token: str, schema_registry_url: str, rule: str
) -> None:
    """v2 reads v1's data and v3 reads v1's and v2's, as the registry itself judges it; the
    rule bites (a v3 whose new field has no default is refused)."""
    subject = f"triage.daily.{token}-value"
    await set_compatibility(schema_registry_url, subject, rule)
    first, *later = released_versions()
    await register_schema(schema_registry_url, subject, first.source)
    for newer in later:
        assert await is_compatible(schema_registry_url, subject, newer.source), newer.version
        await register_schema(schema_registry_url, subject, newer.source)
    required = {**version(3).source}
    required["fields"] = [
        {k: v for k, v in f.items() if k != "default"}
        | ({"type": "int"} if f["name"] in BAND_FIELDS else {})
        for f in required["fields"]
    ]
    assert not await is_compatible(schema_registry_url, subject, required)
    assert await registration_status(schema_registry_url, subject, required) == 409


async def test_ingest_schemas_register_puts_every_released_version_under_backward(
    settings: Settings, token: str, schema_registry_url: str
) -> None:
    subject = f"triage.daily.{token}-value"
    env = cli_env(settings) | {"INGEST_SCHEMA_REGISTRY_URL": schema_registry_url}

    first = await run_cli("schemas", "--register", subject, env=env)
    again = await run_cli("schemas", "--register", subject, env=env)

    assert first.code == 0, first.output
    assert again.code == 0, again.output
    ids = re.findall(r"v(\d+) = id (\d+)", first.stdout)
    assert [int(v) for v, _ in ids] == [s.version for s in released_versions()]
    assert re.findall(r"v(\d+) = id (\d+)", again.stdout) == ids  # nothing new registered
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{schema_registry_url}/config/{subject}") as response,
    ):
        config = await response.json(content_type=None)
    assert config["compatibilityLevel"] == "BACKWARD"


async def test_confluent_framed_v3_events_land_with_their_time_bands(
    settings: Settings, pg: asyncpg.Connection, token: str, schema_registry_url: str
) -> None:
    supplier = f"{token}-bands"
    topic = await register(pg, settings, supplier)
    schema_id = await register_schema(schema_registry_url, f"{topic}-value", version(3).source)
    bands = (0, 1, 5, 4, 2, 3, 1, 2, 0)
    good = event(supplier, "G87001", yesterday(), total=sum(bands), bands=bands)
    bad = event(supplier, "G87002", yesterday(), total=sum(bands) + 1, bands=bands)
    records = [(key_of(e), encode_confluent(e, version(3), schema_id)) for e in (good, bad)]
    await produce(settings, topic, records, partition=0)
    async with running(with_registry(settings, schema_registry_url)):
        await wait_consumed(pg, settings, [topic])
    row = await pg.fetchrow(
        f"SELECT {', '.join(BAND_FIELDS)} FROM triage.daily_requests WHERE practice_code = 'G87001'"
    )
    assert tuple(row) == bands
    rejected = await pg.fetch("SELECT reason, detail FROM triage.rejected_events")
    assert [r["reason"] for r in rejected] == ["inconsistent_breakdown"]
    assert f"= {sum(bands)}, not total_requests {sum(bands) + 1}" in rejected[0]["detail"]


async def test_a_schema_registered_after_its_id_was_first_seen_is_picked_up_without_restart(
    settings: Settings, pg: asyncpg.Connection, token: str, schema_registry_url: str
) -> None:
    supplier = f"{token}-late"
    topic = await register(pg, settings, supplier)
    # ids are given in order: the next schema registered takes the id after this one
    probe = await register_schema(
        schema_registry_url, f"{token}-probe", renamed(version(1).source, "P", f"p.{token}")
    )
    next_id = probe + 1
    fast = with_registry(settings, schema_registry_url, schema_registry_unknown_ttl_seconds=1.0)
    async with running(fast) as service:
        await produce(settings, topic, [(None, confluent_v1(supplier, "A81001", next_id))], 0)
        await wait_consumed(pg, settings, [topic])
        first = await pg.fetch("SELECT reason, detail FROM triage.rejected_events")
        assert [(r["reason"], r["detail"]) for r in first] == [
            ("unknown_schema", f"schema id {next_id} is unknown to the registry")
        ]
        registered = await register_schema(
            schema_registry_url, f"{token}-late", renamed(version(1).source, "L", f"l.{token}")
        )
        assert registered == next_id
        await asyncio.sleep(1.2)  # the unknown answer's time to live
        await produce(settings, topic, [(None, confluent_v1(supplier, "A81002", next_id))], 0)
        await wait_consumed(pg, settings, [topic])
        assert not service.forced_stop
    assert await stored(pg, supplier) == ["A81002"]


async def test_a_registry_outage_holds_only_confluent_framed_records_and_loses_nothing(
    settings: Settings, pg: asyncpg.Connection, token: str, schema_registry_url: str
) -> None:
    framed, plain = f"{token}-framed", f"{token}-plain"
    framed_topic = await register(pg, settings, framed)
    plain_topic = await register(pg, settings, plain)
    schema_id = await register_schema(
        schema_registry_url, f"{token}-out", renamed(version(1).source, "O", f"o.{token}")
    )
    target = urlsplit(schema_registry_url)
    assert target.hostname and target.port
    async with tcp_proxy(target.hostname, target.port) as proxy:
        url = f"http://127.0.0.1:{proxy.port}{target.path}"
        await proxy.cut()
        async with running(with_registry(settings, url)) as service:
            framed_records = [
                (None, confluent_v1(framed, f"B8200{i}", schema_id)) for i in range(5)
            ]
            # behind them on the same partition, a single-object restatement: it waits too
            restated = event(framed, "B82000", yesterday(), 2, 99)
            framed_records.append((key_of(restated), encoded(restated)))
            await produce(settings, framed_topic, framed_records, partition=0)
            plain_events = [event(plain, f"C8100{i}", yesterday()) for i in range(5)]
            await produce(settings, plain_topic, [(key_of(e), encoded(e)) for e in plain_events])
            await wait_consumed(pg, settings, [plain_topic])
            assert await stored(pg, framed) == []
            assert sample(service, "triage_schema_registry_up") == 0
            assert service.readiness.ready and not service.readiness.registry
            await proxy.restore()
            await wait_consumed(pg, settings, [framed_topic], timeout=90)
            assert sample(service, "triage_schema_registry_up") == 1
            assert service.readiness.registry
            # the partition's order was kept: revision 1, then 2, each accepted
            accepted = sample(service, "triage_events_total", supplier=framed, outcome="accepted")
            assert accepted == 6
            superseded = sample(
                service, "triage_events_total", supplier=framed, outcome="superseded"
            )
            assert superseded == 0
    assert await stored(pg, framed) == [f"B8200{i}" for i in range(5)]
    current = await pg.fetchrow(
        "SELECT revision, total_requests FROM triage.daily_requests WHERE practice_code = 'B82000'"
    )
    assert tuple(current) == (2, 99)
    assert await stored(pg, plain) == [f"C8100{i}" for i in range(5)]
    assert await pg.fetchval("SELECT count(*) FROM triage.rejected_events") == 0


FLOOD_IDS = 4_000


@pytest.mark.slow
async def test_a_flood_of_schema_ids_delays_only_its_supplier_bounded_in_time_and_memory(
    settings: Settings, pg: asyncpg.Connection, token: str, schema_registry_url: str
) -> None:
    flooder, other = f"{token}-flood", f"{token}-calm"
    flood_topic = await register(pg, settings, flooder, partitions=1)
    other_topic = await register(pg, settings, other)
    schema_id = await register_schema(
        schema_registry_url, f"{token}-fl", renamed(version(1).source, "F", f"f.{token}")
    )
    base = 1_000_000_000 + int(uuid.uuid4().int % 1_000_000) * 1000  # ids nobody registered
    body = confluent_v1(flooder, "D8000" + "1", schema_id)[5:]
    flood = [(None, b"\x00" + (base + i).to_bytes(4, "big") + body) for i in range(FLOOD_IDS)]
    good_after = [(None, confluent_v1(flooder, f"E8000{i}", schema_id)) for i in range(3)]
    await produce_unacknowledged(settings, flood_topic, [*flood, *good_after], partition=0)
    cache_size = 2_000
    bounded = with_registry(settings, schema_registry_url, schema_registry_cache_size=cache_size)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.monotonic()
    async with running(bounded) as service:
        calm = [event(other, f"F8100{i}", yesterday()) for i in range(5)]
        await asyncio.sleep(2)  # the flood is being looked up
        produced_calm = time.monotonic()
        await produce(settings, other_topic, [(key_of(e), encoded(e)) for e in calm])
        await wait_until(lambda: _count(pg, other), 60, "the calm supplier's events to be stored")
        calm_delay = time.monotonic() - produced_calm
        flood_done_within = 600.0
        await wait_consumed(pg, settings, [flood_topic], timeout=flood_done_within)
        flood_seconds = time.monotonic() - began
        client = service.registry.client
        assert client is not None
        cached = client.cached
        lookups = sum(
            sample(service, "triage_schema_registry_lookups_total", result=r)
            for r in ("accepted", "refused", "unknown", "failed")
        )
    rss_growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    print(
        f"\nflood of {FLOOD_IDS} unknown schema ids: all resolved in {flood_seconds:.1f} s,"
        f" {lookups:.0f} registry lookups, calm supplier stored {calm_delay:.2f} s after it was"
        f" produced, ids cached at the end {cached} (bound {3 * cache_size}), peak RSS growth"
        f" {rss_growth_kb / 1024:.1f} MiB"
    )
    assert calm_delay < 10
    assert cached <= 3 * cache_size
    assert await stored(pg, flooder) == ["E80000", "E80001", "E80002"]
    reasons = await pg.fetch(
        "SELECT reason, count(*) AS n FROM triage.rejected_events GROUP BY reason"
    )
    assert {r["reason"]: r["n"] for r in reasons} == {"unknown_schema": FLOOD_IDS}


async def _count(pg: asyncpg.Connection, supplier: str) -> bool:
    n = await pg.fetchval(
        "SELECT count(*) FROM triage.daily_requests WHERE supplier_id = $1", supplier
    )
    return bool(n == 5)
