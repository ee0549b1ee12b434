"""SCRAM-SHA-512 credentials (pure): random passwords and the salted password the broker
stores (RFC 5802; PBKDF2-HMAC-SHA-512). Passwords are :class:`~pydantic.SecretStr`, never logged."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from pydantic import SecretStr

from ingest.security.acls import AclError

SCRAM_MECHANISM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192  # Kafka accepts 4096..16384 for SCRAM-SHA-512


def new_password() -> SecretStr:
    """A random password (32 URL-safe characters, 192 bits)."""
    return SecretStr(secrets.token_urlsafe(24))


@dataclass(frozen=True)
class ScramCredential:
    """What the broker stores for a user: salt, iterations and the salted password."""

    user: str
    salt: bytes
    iterations: int
    salted_password: bytes

    def __repr__(self) -> str:  # keeps the salted password out of logs and tracebacks
        return f"ScramCredential(user={self.user!r}, iterations={self.iterations})"


def scram_credential(
    user: str, password: SecretStr, iterations: int = SCRAM_ITERATIONS, salt: bytes | None = None
) -> ScramCredential:
    """SCRAM-SHA-512 SaltedPassword = Hi(password, salt, i) (RFC 5802; PBKDF2-HMAC-SHA-512)."""
    if "," in user or "=" in user:
        raise AclError(f"SCRAM user name {user!r} must not contain ',' or '='")
    chosen = salt if salt is not None else secrets.token_bytes(32)
    salted = hashlib.pbkdf2_hmac("sha512", password.get_secret_value().encode(), chosen, iterations)
    return ScramCredential(user, chosen, iterations, salted)
