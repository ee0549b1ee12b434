"""Pinned stack ports (``INGEST_STACK_KAFKA_PORT``, ``INGEST_STACK_POSTGRES_PORT``): a value
that is not a TCP port is refused with one line naming the variable, never a traceback."""

from __future__ import annotations

import pytest

from ingest.devstack.ports import _pinned_port
from ingest.errors import StackError

pytestmark = pytest.mark.unit


def test_a_pinned_port_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_STACK_KAFKA_PORT", " 19092 ")
    assert _pinned_port("kafka") == 19092


def test_no_pin_means_any_free_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INGEST_STACK_KAFKA_PORT", raising=False)
    assert _pinned_port("kafka") is None


@pytest.mark.parametrize(
    "raw", ["0", "65536", "-1", "port", "9 092", "\u0661\u0662\u0663", "\u00b2"]
)
def test_a_value_that_is_not_a_port_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("INGEST_STACK_POSTGRES_PORT", raw)
    with pytest.raises(StackError, match=r"INGEST_STACK_POSTGRES_PORT=.* is not a TCP port"):
        _pinned_port("postgres")
