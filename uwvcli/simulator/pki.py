"""A throwaway test PKI for the local Digipoort simulator and the test suite.

Real Digipoort needs a PKIoverheid certificate; to try uwvcli on a fresh machine (and to test it)
the simulator needs the same cast of certificates: a CA, the sender's client certificate, the
simulator's TLS server certificate and its response-signing ("service") certificate. They are
generated once with `cryptography`, reused afterwards, and marked so clearly (``O=uwvcli test PKI``)
that `signing.is_test_certificate` lets preprod and production refuse them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from uwvcli.errors import SigningError
from uwvcli.messages.signing import TEST_PKI_ORGANIZATION

TEST_PKI_FOLDER = "test-pki"  # inside the state folder (next to the journal)
_WARNING = "NOT FOR PRODUCTION"
_CA_YEARS = 10
_LEAF_YEARS = 5
_MIN_REMAINING = dt.timedelta(days=31)  # regenerate before the sender certificate would warn


@dataclass(frozen=True)
class TestPki:
    """Paths of the test PKI's files (PEM; keys unencrypted, 0600, in a 0700 folder)."""

    __test__ = False  # not a pytest test class, despite the name

    ca_cert: Path
    ca_key: Path
    sender_cert: Path
    sender_key: Path
    server_cert: Path  # TLS for 127.0.0.1, ::1 and localhost
    server_key: Path
    service_cert: Path  # signs the simulator's SOAP responses, like Digipoort's service certificate
    service_key: Path

    @classmethod
    def in_folder(cls, folder: Path) -> TestPki:
        names = {f.name: folder / f"{f.name.replace('_', '-')}.pem" for f in fields(cls)}
        return cls(**names)

    def paths(self) -> list[Path]:
        return [getattr(self, f.name) for f in fields(self)]


def simulator_pki_folder(state_dir: Path) -> Path:
    """Where `environment: simulator` keeps its test PKI: one per state folder, shared by the
    in-process simulator and the sender credentials that go with it."""
    return state_dir / TEST_PKI_FOLDER


def ensure_test_pki(folder: Path) -> TestPki:
    """Return the test PKI in `folder`, generating it first when it is missing, incomplete or
    about to expire.

    Processes may race here (a simulator service and a run starting at the same time). Generation
    happens under an exclusive lock next to the folder, into a temporary folder that is renamed
    into place, so a reader never sees half a PKI and every process ends up with the same one.
    """
    pki = TestPki.in_folder(folder)
    if _usable(pki):
        return pki
    try:
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _exclusive(folder.parent / f".{folder.name}.lock"):
            if not _usable(pki):  # else another process made it while we waited
                _replace(folder)
    except OSError as error:
        raise SigningError(
            f"the test PKI cannot be created in {folder}: {error.filename}: {error.strerror}; "
            "check that the state folder is a writable folder"
        ) from None
    return pki


def _replace(folder: Path) -> None:
    """Generate a complete new PKI next to `folder` and rename it into place."""
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        _generate(TestPki.in_folder(staging))
        if folder.exists():
            _retire(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if the process dies
        yield
    finally:
        os.close(fd)


# ---------------------------------------------------------------- internals


def _usable(pki: TestPki) -> bool:
    """All files present and every certificate valid for a while yet."""
    try:
        certs = [
            x509.load_pem_x509_certificate(path.read_bytes())
            for path in (pki.ca_cert, pki.sender_cert, pki.server_cert, pki.service_cert)
        ]
        keys = (pki.ca_key, pki.sender_key, pki.server_key, pki.service_key)
        keys_present = all(path.is_file() for path in keys)
    except (OSError, ValueError):
        return False
    now = dt.datetime.now(dt.UTC)
    return keys_present and all(cert.not_valid_after_utc - now > _MIN_REMAINING for cert in certs)


def _retire(folder: Path) -> None:
    """Move an unusable old PKI out of the way in one rename (so no process ever sees a half-deleted
    folder), then delete it."""
    graveyard = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
    folder.rename(graveyard / folder.name)
    shutil.rmtree(graveyard, ignore_errors=True)


def _generate(pki: TestPki) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock differences
    ca_key = _new_key()
    ca_name = _name("uwvcli test CA")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key, now, years=_CA_YEARS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(common_name: str, usage: x509.ObjectIdentifier, *extensions: x509.ExtensionType):
        key = _new_key()
        builder = (
            _builder(_name(common_name), ca_name, key, now, years=_LEAF_YEARS)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    sender_cert, sender_key = issue("uwvcli test sender", ExtendedKeyUsageOID.CLIENT_AUTH)
    server_cert, server_key = issue(
        "localhost",
        ExtendedKeyUsageOID.SERVER_AUTH,
        x509.SubjectAlternativeName(
            [
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]
        ),
    )
    service_cert, service_key = issue("uwvcli test Digipoort service", ExtendedKeyUsageOID.CLIENT_AUTH)

    for path, item in [
        (pki.ca_cert, ca_cert),
        (pki.ca_key, ca_key),
        (pki.sender_cert, sender_cert),
        (pki.sender_key, sender_key),
        (pki.server_cert, server_cert),
        (pki.server_key, server_key),
        (pki.service_cert, service_cert),
        (pki.service_key, service_key),
    ]:
        _write_private(path, _pem(item))


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_PKI_ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _WARNING),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey, start: dt.datetime, *, years: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * years))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(item: x509.Certificate | rsa.RSAPrivateKey) -> bytes:
    if isinstance(item, x509.Certificate):
        return item.public_bytes(serialization.Encoding.PEM)
    return item.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
