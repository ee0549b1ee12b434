"""Configuration from ``INGEST_*`` environment variables (pydantic-settings).

Every setting has one documented default. With neither ``INGEST_KAFKA_BOOTSTRAP`` nor
``INGEST_DATABASE_URL`` set, commands use the local stack started by ``ingest stack up``,
whose addresses are kept in ``<state_dir>/stack.env``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.errors import ConfigurationError
from ingest.redaction import redact_text, redact_url

STACK_ENV_FILE = "stack.env"
# Settings whose values are URLs that may carry a password (in the user-info or a query
# parameter): shown redacted by repr and str, so no log line, assertion message or traceback
# that prints the settings prints a password.
URL_SETTINGS = frozenset({"database_url", "migration_database_url", "schema_registry_url"})


class Settings(BaseSettings):
    """All settings of the service; environment variable = ``INGEST_`` + upper-case name."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore")

    # --- addresses -------------------------------------------------------------------
    kafka_bootstrap: str | None = Field(
        None, description="Kafka bootstrap servers; default: the local stack's broker."
    )
    database_url: str | None = Field(
        None, description="Postgres URL; default: the local stack's database."
    )
    migration_database_url: str | None = Field(
        None,
        description=(
            "Postgres URL of the role that owns the schema and runs `ingest migrate`; default: "
            "INGEST_DATABASE_URL when set, else the local stack's owner role."
        ),
    )
    schema_registry_url: str | None = Field(
        None, description="Confluent-compatible schema registry; unset = wire format refused."
    )
    schema_registry_timeout_seconds: float = Field(
        5.0, gt=0, description="Bound on one schema registry request."
    )
    schema_registry_cache_size: int = Field(
        10_000, ge=1, description="Schema ids kept (found; unknown ones in a cache as large)."
    )
    schema_registry_unknown_ttl_seconds: float = Field(
        30.0, ge=0, description="How long an id the registry does not know stays unknown."
    )
    schema_registry_concurrency: int = Field(
        8, ge=1, description="Schema registry requests in flight at once."
    )
    schema_registry_lookups_per_batch: int = Field(
        64, ge=1, description="New schema ids asked per batch; the rest wait for the next."
    )
    state_dir: Path = Field(Path(".ingest"), description="Local stack state folder.")

    # --- Kafka -----------------------------------------------------------------------
    consumer_group: str = Field("triage-ingest", description="Consumer group id.")
    topic_pattern: str = Field(
        r"^triage\.daily\..+$", description="Regex of the feed topics subscribed to."
    )
    dlq_topic: str = Field("triage.dlq", description="Dead-letter topic.")
    topic_partitions: int = Field(6, ge=1, description="Partitions of a new supplier topic.")
    topic_replication: int = Field(1, ge=1, description="Replication factor of new topics.")
    metadata_max_age_ms: int = Field(
        5000, ge=100, description="How often topic metadata is refreshed (new topics seen)."
    )
    batch_max_records: int = Field(20000, ge=1, description="Max records per getmany batch.")
    batch_timeout_ms: int = Field(500, ge=1, description="Max wait for a batch to fill.")
    overlap_batches: bool = Field(
        False,
        description="Triage the next batch while the previous one is written to Postgres "
        "(batches are still stored one at a time, in order).",
    )
    max_partition_fetch_bytes: int = Field(
        2 * 1024 * 1024, ge=1024, description="Max bytes fetched per partition per request."
    )
    fetch_max_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Max bytes of one fetch response."
    )
    security_protocol: str = Field(
        "PLAINTEXT",
        description="PLAINTEXT, SASL_PLAINTEXT or SASL_SSL (SCRAM-SHA-512; SSL: TLS only).",
    )
    kafka_ssl_cafile: Path | None = Field(
        None,
        description="PEM file of the CA that signs the broker's certificate (TLS); unset: "
        "the system's CAs. The broker's certificate and host name are always verified.",
    )
    kafka_ssl_certfile: Path | None = Field(
        None, description="PEM client certificate for mutual TLS (with INGEST_KAFKA_SSL_KEYFILE)."
    )
    kafka_ssl_keyfile: Path | None = Field(None, description="PEM private key of that certificate.")
    supplier_produce_bytes_per_second: int = Field(
        1024 * 1024,
        ge=1024,
        description="Produce quota of each supplier's Kafka user (set by suppliers add"
        " --credentials and credentials rotate); the broker throttles beyond it.",
    )
    sasl_username: str | None = Field(None, description="SASL/SCRAM user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL/SCRAM password.")

    # --- validation ------------------------------------------------------------------
    date_horizon_days: int = Field(400, ge=1, description="Oldest activity_date accepted.")
    plausibility_cap: int = Field(100000, ge=1, description="Largest count accepted.")
    timezone: str = Field("Europe/London", description="Time zone of 'today'.")

    # --- participation (contract v1.1 section 6) --------------------------------------
    participation_check_seconds: float = Field(
        30.0,
        gt=0,
        le=60,
        description="How often the consumer checks for a newly loaded participation list.",
    )
    not_participating_retention_days: int = Field(
        30,
        ge=0,
        description="Days the key and value of a practice_not_participating rejection are kept"
        " (then purged; the row and reason stay).",
    )
    rejection_bytes_retention_days: int = Field(
        90,
        ge=1,
        description="Days the key and value of every other rejection are kept (then purged;"
        " the row, reason and detail stay; the DLQ topic keeps its own copy for its retention).",
    )
    purge_interval_seconds: float = Field(
        3600.0, gt=0, description="How often the service purges expired rejection bytes."
    )

    # --- submission outcomes (contract v1.1 section 6) -----------------------------------
    feedback_retention_days: float = Field(
        14.0, gt=0, description="Retention of a supplier's feedback topic (outcomes)."
    )
    outcome_relay_interval_seconds: float = Field(
        0.5, gt=0, description="How often an idle outcome relay looks for new outcomes."
    )
    outbox_park_after_seconds: float = Field(
        86400.0,
        gt=0,
        description="An outcome of a supplier the relay cannot deliver to, still waiting this"
        " long after it was stored, is parked (left in triage.outcome_outbox, no longer sent;"
        " triage_outcome_outbox_parked).",
    )

    # --- volume anomalies (flagged, never rejected) ------------------------------------
    volume_refresh_seconds: float = Field(
        300.0, gt=0, description="How often the volume-anomaly gauges are re-read."
    )

    # --- freshness -------------------------------------------------------------------
    default_warn_after: str = Field("26h", description="warn_after of a new supplier.")
    default_error_after: str = Field("50h", description="error_after of a new supplier.")
    freshness_refresh_seconds: float = Field(
        15.0, gt=0, description="How often freshness gauges are re-read from Postgres."
    )

    # --- service ---------------------------------------------------------------------
    metrics_port: int = Field(9108, ge=0, le=65535, description="HTTP port of /metrics etc.")
    metrics_host: str = Field(
        "127.0.0.1",
        description="HTTP bind address (0.0.0.0: every interface, e.g. inside a container).",
    )
    http_idle_timeout_seconds: float = Field(
        15.0,
        gt=0,
        description="An HTTP connection that sends no complete request for this long (slow"
        " headers, or idle between requests) is closed.",
    )
    http_max_connections: int = Field(
        100, ge=1, description="Open HTTP connections at most; more are refused with 503."
    )
    http_allowed_hosts: str = Field(
        "localhost",
        description="Comma-separated host names the HTTP server answers to in the Host header,"
        " besides IP addresses and this machine's name (DNS rebinding); * for any.",
    )
    db_retry_max_seconds: float = Field(
        30.0, gt=0, description="Cap of the backoff while Postgres is unreachable."
    )
    shutdown_timeout_seconds: float = Field(30.0, gt=0, description="Bound on a graceful shutdown.")
    log_level: str = Field("INFO", description="Logging level.")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name in URL_SETTINGS and isinstance(value, str):
                yield name, redact_url(value)
            else:
                yield name, value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_ports(cls, value: str | None) -> str | None:
        if value:
            for server in value.split(","):
                check_port(server.strip())
        return value

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _database_ports(cls, value: str | None) -> str | None:
        if value:
            try:
                parts = urlsplit(value)
            except ValueError as exc:
                raise ValueError(f"not a database URL ({exc})") from None
            if parts.scheme not in ("postgresql", "postgres"):
                raise ValueError("not a database URL (postgresql://USER@HOST:PORT/DATABASE)")
        _scheme, sep, rest = (value or "").partition("://")
        if sep:  # host[:port][,host[:port]...] between the user-info and the path
            hosts = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
            for server in hosts.split(","):
                check_port(server)
        return value

    def stack_env(self) -> dict[str, str]:
        """Addresses written by ``ingest stack up`` (empty when the stack never ran)."""
        path = self.state_dir / STACK_ENV_FILE
        if not path.exists():
            return {}
        values: dict[str, str] = {}
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip():
                values[name.strip()] = value.strip()
        return values

    def kafka(self) -> str:
        """Kafka bootstrap servers: the setting, else the local stack's broker."""
        return self._address(self.kafka_bootstrap, "INGEST_KAFKA_BOOTSTRAP")

    def database(self) -> str:
        """Postgres URL: the setting, else the local stack's database."""
        return self._address(self.database_url, "INGEST_DATABASE_URL")

    def migration_database(self) -> str:
        """Postgres URL for migrations: the setting; else INGEST_DATABASE_URL when set (one
        role for both); else the local stack's owner role; else its database."""
        if self.migration_database_url:
            return self.migration_database_url
        if self.database_url:
            return self.database_url
        return self.stack_env().get("INGEST_MIGRATION_DATABASE_URL") or self.database()

    def _address(self, value: str | None, name: str) -> str:
        if value:
            return value
        fallback = self.stack_env().get(name)
        if fallback:
            return fallback
        raise ConfigurationError(
            f"{name} is not set and no local stack is known in {self.state_dir}/; "
            "run `ingest stack up` or set it"
        )


def check_port(server: str) -> None:
    """ValueError unless ``server`` (``host``, ``host:port`` or ``[v6]:port``) has no port or
    a port from 1 to 65535 in ASCII digits (a larger one ended in an OverflowError deep in
    the client)."""
    if not server or server.endswith("]"):
        return
    host, colon, port = server.rpartition(":")
    if not colon or (":" in host and not host.endswith("]")):
        return  # no port, or a bare IPv6 address
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError(f"port {port[:SHOWN_VALUE_CHARS]!r} of {host!r} is not 1-65535")


def load_settings() -> Settings:
    """Settings from the environment; ConfigurationError (one line naming each bad
    variable) when a value is unusable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(settings_problems(exc)) from None


SHOWN_VALUE_CHARS = 60


def settings_problems(error: ValidationError) -> str:
    """One line: each bad INGEST_* variable, its value (secrets not shown) and the problem."""
    parts = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem.get("loc") else "?"
        value = redact_text(str(problem.get("input")))
        shown = "" if "password" in name else f"={value[:SHOWN_VALUE_CHARS]!r}"
        parts.append(f"INGEST_{name.upper()}{shown}: {problem['msg']}")
    return "bad settings: " + "; ".join(parts)
