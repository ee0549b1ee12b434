"""TLS for the secure local stack: a certificate authority of its own and the broker's
certificate, made with the ``cryptography`` package on the first ``up --secure``::

    tls/ca.pem        the CA certificate: what every client trusts (INGEST_KAFKA_SSL_CAFILE)
    tls/ca-key.pem    the CA's private key (0600): signs the broker's certificate, nothing else
    tls/broker.pem    the broker's private key and certificate chain (0600; a PEM keystore)

The secure stack's PostgreSQL gets a certificate of its own from the same CA, issued into its
data folder on every start (``postgres/data/server.crt`` and ``server.key``, owned by the
server's system user, 0600).

The broker's certificate names ``127.0.0.1`` and ``localhost`` (clients verify the host name).
Both last ten years: it is a development stack; ``rm -rf .ingest/tls`` makes new ones.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ingest.devstack.safe_files import Owner, write_in
from ingest.devstack.safe_files import folder as safe_folder

VALID_FOR = dt.timedelta(days=3650)
_MAKING = threading.Lock()  # the broker and Postgres ask at once on the first `up --secure`


@dataclass(frozen=True)
class TlsFiles:
    """The stack's TLS files."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca-key.pem"

    @property
    def broker(self) -> Path:
        return self.folder / "broker.pem"

    def complete(self) -> bool:
        return all(p.exists() for p in (self.ca, self.ca_key, self.broker))


def _write(path: Path, data: bytes, mode: int, owner: Owner = None) -> None:
    """``path`` replaced whole, through its folder's descriptor (no link followed)."""
    with safe_folder(path.parent) as parent:
        write_in(parent, path.name, data, mode, owner)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _leaf(
    ca_key: rsa.RSAPrivateKey, ca_name: x509.Name, start: dt.datetime, common_name: str
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A certificate for 127.0.0.1 and localhost (server and client use), signed by the CA."""
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALID_FOR)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def issue_certificate(
    files: TlsFiles,
    name: str,
    folder: Path,
    common_name: str | None = None,
    owner: Owner = None,
) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost signed by the stack's CA (made first when
    missing): ``<folder>/<name>.crt`` and ``<name>.key`` (0600), given to ``owner`` (uid,
    gid) when set."""
    ensure_tls(files)
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    if not isinstance(ca_key, rsa.RSAPrivateKey):
        raise TypeError(f"{files.ca_key} is not the RSA key this module makes")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    key, cert = _leaf(ca_key, ca.subject, start, common_name or name)
    folder.mkdir(parents=True, exist_ok=True)
    crt_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    _write(key_path, _pem_key(key), 0o600, owner)
    _write(crt_path, cert.public_bytes(serialization.Encoding.PEM), 0o644, owner)
    return crt_path, key_path


def issue_client_certificate(files: TlsFiles, name: str, folder: Path) -> tuple[Path, Path]:
    """A client certificate for mutual TLS, signed by the stack's CA (made first when
    missing): ``<folder>/<name>.crt`` and ``<name>.key`` (0600), for INGEST_KAFKA_SSL_CERTFILE
    and INGEST_KAFKA_SSL_KEYFILE."""
    return issue_certificate(files, name, folder)


def ensure_tls(files: TlsFiles, now: dt.datetime | None = None) -> bool:
    """Make the CA and the broker's certificate unless they exist; True when made now."""
    with _MAKING:
        return _ensure_tls(files, now)


def _ensure_tls(files: TlsFiles, now: dt.datetime | None) -> bool:
    if files.complete():
        return False
    files.folder.mkdir(parents=True, exist_ok=True)
    files.folder.chmod(0o700)
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "triage-ingest local stack CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    broker_key, broker = _leaf(ca_key, ca_name, start, "localhost")
    pem = serialization.Encoding.PEM
    _write(files.ca_key, _pem_key(ca_key), 0o600)
    _write(
        files.broker, _pem_key(broker_key) + broker.public_bytes(pem) + ca.public_bytes(pem), 0o600
    )
    _write(files.ca, ca.public_bytes(pem), 0o644)
    return True
