"""``ingest schemas``: the released fingerprints in both byte orders, as suppliers meet them."""

from __future__ import annotations

import json

import pytest

from ingest.cli.schemas_cmd import fingerprint_facts
from ingest.contract.schemas import released_versions, version
from tests.support.cli import run_cli

pytestmark = pytest.mark.unit


def test_v1_in_the_header_byte_order_and_as_javas_64_bit_number() -> None:
    facts = fingerprint_facts(version(1))
    assert facts["single_object_header_hex"] == "b441d4a34b7e462b"
    # what Avro for Java's SchemaNormalization.parsingFingerprint64 prints for v1
    assert facts["fingerprint64_hex"] == "2b467e4ba3d441b4"
    assert facts["fingerprint64_signed"] == 0x2B467E4BA3D441B4


def test_a_fingerprint_above_2_63_is_negative_as_a_java_long() -> None:
    facts = fingerprint_facts(version(2))
    assert facts["fingerprint64_hex"] == "b284574e8a90d05d"
    assert facts["fingerprint64_signed"] == 0xB284574E8A90D05D - (1 << 64)


async def test_the_command_prints_every_released_version() -> None:
    result = await run_cli("schemas", "--json", env={}, within=60)
    assert result.code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["version"] for p in printed] == [v.version for v in released_versions()]
    assert printed[0]["canonical_form"] == version(1).canonical_form
