"""Where the local stack keeps its files (one state folder) and the progress callback."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.devstack.safe_files import TRAVERSE_ONLY, set_owner_and_mode
from ingest.security.credentials import ADMIN_ENV, CONSUMER_ENV, secrets_dir
from ingest.settings import STACK_ENV_FILE, Settings

HOST = "127.0.0.1"
Report = Callable[[str], None]


def no_report(_: str) -> None:
    """Default progress callback: silent."""


@dataclass(frozen=True)
class StackPaths:
    """Every file of the stack, under one absolute state folder."""

    root: Path

    @classmethod
    def of(cls, state_dir: Path | None = None) -> StackPaths:
        folder = Settings().state_dir if state_dir is None else state_dir
        return cls(folder.expanduser().resolve())

    @property
    def stack_env(self) -> Path:
        return self.root / STACK_ENV_FILE

    @property
    def lock(self) -> Path:
        return self.root / "stack.lock"

    @property
    def ports(self) -> Path:
        return self.root / "ports.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def kafka(self) -> Path:
        return self.root / "kafka"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka / "libs"

    @property
    def kafka_config(self) -> Path:
        return self.kafka / "server.properties"

    @property
    def kafka_log4j(self) -> Path:
        return self.kafka / "log4j2.properties"

    @property
    def kafka_data(self) -> Path:
        return self.kafka / "data"

    @property
    def kafka_pid(self) -> Path:
        return self.kafka / "kafka.pid"

    @property
    def kafka_cluster_id(self) -> Path:
        return self.kafka / "cluster.id"

    @property
    def kafka_log(self) -> Path:
        return self.logs / "kafka.log"

    @property
    def kafka_console(self) -> Path:
        return self.logs / "kafka-console.log"

    @property
    def kafka_format_log(self) -> Path:
        return self.logs / "kafka-format.log"

    @property
    def mvn_log(self) -> Path:
        return self.logs / "mvn.log"

    @property
    def kafka_mode(self) -> Path:
        return self.kafka / "mode"

    @property
    def kafka_secure_marker(self) -> Path:
        """Written into the data folder when it was formatted with the admin SCRAM user."""
        return self.kafka_data / "triage-secure-format"

    @property
    def secrets(self) -> Path:
        return secrets_dir(self.root)

    @property
    def admin_env(self) -> Path:
        return self.secrets / ADMIN_ENV

    @property
    def consumer_env(self) -> Path:
        return self.secrets / CONSUMER_ENV

    @property
    def controller_password(self) -> Path:
        return self.secrets / "controller.password"

    @property
    def tls(self) -> Path:
        """The secure stack's CA and broker certificate (see :mod:`ingest.devstack.tls`)."""
        return self.root / "tls"

    @property
    def pg(self) -> Path:
        return self.root / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg / "data"

    @property
    def pg_mode(self) -> Path:
        """``secure`` (served over TLS by a PostgreSQL built with SSL) or ``plain``."""
        return self.pg / "mode"

    @property
    def pg_log(self) -> Path:
        return self.logs / "postgres.log"

    @property
    def pg_ctl_log(self) -> Path:
        return self.logs / "pg_ctl.log"


def make_dirs(paths: StackPaths) -> None:
    """The state folders, closed to other accounts: 0700, or 0711 (passable, not listable)
    for the two the PostgreSQL system account must pass through when run as root (the root
    folder to its own ``postgres/``, and ``logs/`` to its log files); files in ``logs/`` and at
    the top 0600. Modes of an existing folder are corrected (earlier releases left them
    world-readable)."""
    passable = TRAVERSE_ONLY if os.geteuid() == 0 else 0o700
    for folder, mode in (
        (paths.root, passable),
        (paths.logs, passable),
        (paths.kafka, 0o700),
        (paths.pg, 0o700),
    ):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder != paths.pg:  # the PostgreSQL account's own: given to it with its data
            set_owner_and_mode(folder, None, mode)
    for parent in (paths.root, paths.logs):
        for entry in parent.iterdir():
            if entry.is_file() and not entry.is_symlink() and entry.stat().st_mode & 0o077:
                set_owner_and_mode(entry, None, 0o600)
