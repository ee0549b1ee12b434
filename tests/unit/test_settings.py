"""Settings: documented defaults, INGEST_* overrides, the local stack's stack.env fallback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from ingest.devstack.stack import StackAddresses
from ingest.errors import ConfigurationError
from ingest.settings import STACK_ENV_FILE, Settings, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No INGEST_* variable from the caller (make test exports some), and a cwd without
    a .ingest/ folder, so only what each test sets counts."""
    for name in list(os.environ):
        if name.startswith("INGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_are_the_documented_ones() -> None:
    s = Settings()
    assert s.kafka_bootstrap is None and s.database_url is None
    assert s.consumer_group == "triage-ingest"
    assert s.dlq_topic == "triage.dlq"
    assert s.topic_pattern == r"^triage\.daily\..+$"
    assert s.metrics_port == 9108
    assert s.state_dir == Path(".ingest")
    assert (s.date_horizon_days, s.plausibility_cap) == (400, 100000)
    assert (s.default_warn_after, s.default_error_after) == ("26h", "50h")
    assert s.timezone == "Europe/London"


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_KAFKA_BOOTSTRAP", "broker:9092")
    monkeypatch.setenv("INGEST_DATABASE_URL", "postgresql://u@db/triage")
    monkeypatch.setenv("INGEST_CONSUMER_GROUP", "other-group")
    monkeypatch.setenv("INGEST_METRICS_PORT", "9200")
    monkeypatch.setenv("INGEST_SASL_PASSWORD", "s3cret")
    s = Settings()
    assert s.kafka() == "broker:9092"
    assert s.database() == "postgresql://u@db/triage"
    assert s.consumer_group == "other-group"
    assert s.metrics_port == 9200
    assert s.sasl_password is not None and "s3cret" not in repr(s)


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_METRICS_PORT", "70000")
    with pytest.raises(ValidationError, match="metrics_port"):
        Settings()


def test_the_local_stack_is_the_fallback(clean_env: Path) -> None:
    state = clean_env / ".ingest"
    state.mkdir()
    (state / STACK_ENV_FILE).write_text(
        "INGEST_KAFKA_BOOTSTRAP=127.0.0.1:39092\n"
        "INGEST_DATABASE_URL=postgresql://postgres@127.0.0.1:35432/triage\n"
    )
    s = Settings()
    assert s.kafka() == "127.0.0.1:39092"
    assert s.database() == "postgresql://postgres@127.0.0.1:35432/triage"


def test_a_set_address_wins_over_the_local_stack(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = clean_env / "elsewhere"
    state.mkdir()
    (state / STACK_ENV_FILE).write_text("INGEST_KAFKA_BOOTSTRAP=127.0.0.1:1\n")
    monkeypatch.setenv("INGEST_STATE_DIR", str(state))
    monkeypatch.setenv("INGEST_KAFKA_BOOTSTRAP", "broker:9092")
    assert Settings().kafka() == "broker:9092"


def test_nothing_set_and_no_stack_is_a_clear_error() -> None:
    s = Settings()
    with pytest.raises(ConfigurationError) as kafka_error:
        s.kafka()
    assert "INGEST_KAFKA_BOOTSTRAP" in str(kafka_error.value)
    assert "ingest stack up" in str(kafka_error.value)
    with pytest.raises(ConfigurationError, match="INGEST_DATABASE_URL"):
        s.database()


@pytest.mark.security
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INGEST_KAFKA_BOOTSTRAP", "broker:70000"),
        ("INGEST_KAFKA_BOOTSTRAP", "a:9092,b:0"),
        ("INGEST_KAFKA_BOOTSTRAP", "broker:\uff19\uff10\uff19\uff12"),  # fullwidth 9092
        ("INGEST_DATABASE_URL", "postgresql://u:secret@db:70000/triage"),
        ("INGEST_MIGRATION_DATABASE_URL", "postgresql://db:5432,db2:99999/triage"),
    ],
)
def test_a_port_outside_1_to_65535_is_one_clear_error(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"{name}.*not 1-65535") as raised:
        load_settings()
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INGEST_KAFKA_BOOTSTRAP", "a:9092, b:9093,[::1]:9094,broker"),
        ("INGEST_DATABASE_URL", "postgresql://u:p@db:5432,db2:65535/triage?sslmode=require"),
        ("INGEST_DATABASE_URL", "postgresql:///triage?host=/run/postgresql"),
    ],
)
def test_usable_addresses_pass(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, value)
    assert load_settings().model_dump()[name.removeprefix("INGEST_").lower()] == value


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://svc:pw-in-userinfo@db:5432/triage",
        "postgresql://svc@db/t?password=pw-in-query",
    ],
)
def test_the_settings_repr_and_str_show_no_password_of_a_url(url: str) -> None:
    """A failing test once printed ``Settings(... database_url='postgresql://triage_owner:<the
    password>@...``: pytest shows the repr of what an assertion names."""
    settings = Settings(database_url=url, migration_database_url=url, schema_registry_url=url)
    secret = "pw-in-userinfo" if "pw-in-userinfo" in url else "pw-in-query"
    for shown in (repr(settings), str(settings)):
        assert secret not in shown
        assert shown.count("***") == 3
    assert settings.database() == url  # the value itself is whole for the clients


def test_the_stack_addresses_repr_shows_no_password() -> None:
    addresses = StackAddresses(
        "127.0.0.1:9092",
        "postgresql://triage_ingest:service-pw@127.0.0.1:5432/triage",
        None,
        "postgresql://triage_owner:owner-pw@127.0.0.1:5432/triage",
    )
    shown = repr(addresses)
    assert "service-pw" not in shown and "owner-pw" not in shown
    assert "triage_ingest:***@127.0.0.1:5432/triage" in shown
