"""A user and its password, as client settings and as an env file (``<state_dir>/secrets/*.env``,
mode 0600) of the local secure stack."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from ingest.errors import ConfigurationError
from ingest.settings import Settings

SECRETS_DIR = "secrets"
ADMIN_ENV = "admin.env"
CONSUMER_ENV = "consumer.env"


@dataclass(frozen=True)
class Credentials:
    """A user and its password (it prints as ``**********``), and the CA that signs the
    broker's certificate when the broker speaks TLS (SASL_SSL; else SASL_PLAINTEXT)."""

    username: str
    password: SecretStr
    cafile: Path | None = None

    @property
    def protocol(self) -> str:
        return "SASL_SSL" if self.cafile is not None else "SASL_PLAINTEXT"

    def settings(self, base: Settings) -> Settings:
        """``base`` with these credentials over SASL/SCRAM-SHA-512 (TLS with ``cafile``)."""
        update: dict[str, object] = {
            "security_protocol": self.protocol,
            "sasl_username": self.username,
            "sasl_password": self.password,
        }
        if self.cafile is not None:
            update["kafka_ssl_cafile"] = self.cafile
        return base.model_copy(update=update)

    def env_lines(self) -> list[str]:
        """INGEST_* lines of an env file (holds the password: write it 0600)."""
        lines = [
            f"INGEST_SECURITY_PROTOCOL={self.protocol}",
            f"INGEST_SASL_USERNAME={self.username}",
            f"INGEST_SASL_PASSWORD={self.password.get_secret_value()}",
        ]
        if self.cafile is not None:
            lines.append(f"INGEST_KAFKA_SSL_CAFILE={self.cafile}")
        return lines


def secrets_dir(state_dir: Path) -> Path:
    return state_dir / SECRETS_DIR


def write_env_file(path: Path, credentials: Credentials) -> None:
    """Write an env file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(credentials.env_lines()) + "\n")
    path.with_suffix(".tmp").replace(path)


def read_env_file(path: Path) -> Credentials | None:
    """The credentials in an env file written by :func:`write_env_file` (None if absent)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    values = dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )
    user, password = values.get("INGEST_SASL_USERNAME"), values.get("INGEST_SASL_PASSWORD")
    if not user or not password:
        raise ConfigurationError(f"{path} lacks INGEST_SASL_USERNAME or INGEST_SASL_PASSWORD")
    cafile = values.get("INGEST_KAFKA_SSL_CAFILE")
    return Credentials(user, SecretStr(password), Path(cafile) if cafile else None)


def local_admin(state_dir: Path) -> Credentials | None:
    """The super user of the local secure stack (None when the stack is not secure)."""
    return read_env_file(secrets_dir(state_dir) / ADMIN_ENV)


def admin_settings(settings: Settings) -> Settings:
    """Settings fit for admin work: as given when they carry SASL credentials; else, on a local
    secure stack, its super user's; else as given (a plain broker)."""
    if settings.sasl_username:
        return settings
    admin = local_admin(settings.state_dir) if settings.kafka_bootstrap is None else None
    return admin.settings(settings) if admin else settings
