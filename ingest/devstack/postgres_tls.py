"""TLS on the secure stack's PostgreSQL: ``ssl = on`` with a certificate of the stack's CA
(:mod:`ingest.devstack.tls`; SAN 127.0.0.1 and localhost), ``hostssl`` lines only in
``pg_hba.conf`` (a connection without TLS matches no line and is refused), and client URLs
with ``sslmode=verify-full`` and ``sslrootcert`` = the stack's CA (asyncpg and libpq read both
from the URL)."""

from __future__ import annotations

from urllib.parse import quote

from ingest.devstack.paths import StackPaths

SERVER_CERT_NAME = "server"  # server.crt / server.key in the data folder
HBA_TLS = """\
# written by `ingest stack up --secure`; edits are overwritten. TLS and passwords only
# (SCRAM-SHA-256): no `host` line, so a connection without TLS is refused.
hostssl all   all   127.0.0.1/32  scram-sha-256
"""
TLS_SETTINGS = {
    "ssl": "on",
    "ssl_cert_file": f"'{SERVER_CERT_NAME}.crt'",
    "ssl_key_file": f"'{SERVER_CERT_NAME}.key'",
    "ssl_min_protocol_version": "'TLSv1.2'",
}


def ca_file(paths: StackPaths) -> str:
    return str(paths.tls / "ca.pem")


def tls_query(paths: StackPaths) -> str:
    """The URL query that makes clients use TLS and verify the server's certificate and host
    name against the stack's CA."""
    return f"?sslmode=verify-full&sslrootcert={quote(ca_file(paths), safe='/')}"


def install_server_certificate(paths: StackPaths, uid: int | None, gid: int | None) -> None:
    """A new server certificate from the stack's CA (the CA made first when missing) in the
    data folder, readable by the server's system user only (written through the folder's
    descriptor: a link that account planted there is replaced, never followed)."""
    from ingest.devstack.tls import TlsFiles, issue_certificate  # cryptography: [stack] extra

    owner = None if uid is None or gid is None else (uid, gid)
    issue_certificate(
        TlsFiles(paths.tls), SERVER_CERT_NAME, paths.pg_data, common_name="localhost", owner=owner
    )
