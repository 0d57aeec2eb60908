"""The throwaway test PKI: generated once, private, coherent, safe under concurrent first use,
and recognisable as a test PKI."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import ssl
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from uwvcli.errors import SigningError
from uwvcli.messages.signing import is_test_certificate
from uwvcli.simulator.pki import TestPki, ensure_test_pki, simulator_pki_folder


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return ensure_test_pki(tmp_path_factory.mktemp("state") / "test-pki")


def test_files_are_private(pki: TestPki) -> None:
    folder = pki.ca_cert.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in pki.paths():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in pki.paths())


def test_every_certificate_is_issued_by_the_marked_test_ca(pki: TestPki) -> None:
    ca = load(pki.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "uwvcli test PKI" in ca.subject.rfc4514_string()
    assert "NOT FOR PRODUCTION" in ca.subject.rfc4514_string()
    for path in (pki.sender_cert, pki.server_cert, pki.service_cert):
        cert = load(path)
        cert.verify_directly_issued_by(ca)
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert isinstance(cert.public_key(), rsa.RSAPublicKey) and cert.public_key().key_size == 2048
        assert is_test_certificate(cert)
    assert is_test_certificate(ca)


def test_usages_fit_each_role(pki: TestPki) -> None:
    def usages(path: Path) -> list:
        return list(load(path).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)

    assert usages(pki.sender_cert) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert usages(pki.server_cert) == [ExtendedKeyUsageOID.SERVER_AUTH]
    san = load(pki.server_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }


def test_certificates_of_other_cas_are_not_test_certificates() -> None:
    other = trustme.CA(organization_name="Staat der Nederlanden PKIoverheid (imitation)")
    leaf = other.issue_cert("digipoort.example")
    assert not is_test_certificate(x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()))
    assert not is_test_certificate(x509.load_pem_x509_certificate(other.cert_pem.bytes()))


def test_reused_when_present(pki: TestPki) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in pki.paths()}
    again = ensure_test_pki(pki.ca_cert.parent)
    assert again == pki
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in again.paths()} == before


def test_incomplete_pki_is_replaced_by_a_complete_one(tmp_path: Path) -> None:
    first = ensure_test_pki(tmp_path / "test-pki")
    old_ca = first.ca_cert.read_bytes()
    first.sender_key.unlink()
    second = ensure_test_pki(tmp_path / "test-pki")
    assert all(p.is_file() for p in second.paths())
    assert second.ca_cert.read_bytes() != old_ca  # a coherent new set, not a patched one
    load(second.sender_cert).verify_directly_issued_by(load(second.ca_cert))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".test-pki.lock", "test-pki"]  # no leftovers


def test_concurrent_first_use_gives_every_process_the_same_pki(tmp_path: Path) -> None:
    folder = tmp_path / "state" / "test-pki"
    script = (
        "import hashlib, sys; from pathlib import Path; from uwvcli.simulator.pki import ensure_test_pki;"
        "p = ensure_test_pki(Path(sys.argv[1]));"
        "print(hashlib.sha256(p.ca_cert.read_bytes() + p.sender_key.read_bytes()).hexdigest())"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(folder)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    digests = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    final = TestPki.in_folder(folder)
    assert digests == {hashlib.sha256(final.ca_cert.read_bytes() + final.sender_key.read_bytes()).hexdigest()}
    assert sorted(p.name for p in folder.parent.iterdir()) == [".test-pki.lock", "test-pki"]


def test_simulator_pki_lives_in_the_state_folder(tmp_path: Path) -> None:
    assert simulator_pki_folder(tmp_path) == tmp_path / "test-pki"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_server_certificate_serves_tls_on_loopback(pki: TestPki, host: str) -> None:
    family = socket.AF_INET6 if host == "::1" else socket.AF_INET
    try:
        listener = socket.socket(family)
        listener.bind(("::1" if host == "::1" else "127.0.0.1", 0))
    except OSError:
        pytest.skip(f"no loopback for {host} on this machine")
    listener.listen(1)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki.server_cert, pki.server_key)

    def serve() -> None:
        connection, _ = listener.accept()
        with server_context.wrap_socket(connection, server_side=True) as tls:
            tls.sendall(b"ok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cafile=str(pki.ca_cert))  # verification on
    with (
        socket.create_connection((host, listener.getsockname()[1]), timeout=10) as raw,
        client_context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        assert tls.recv(2) == b"ok"
    thread.join(timeout=10)
    listener.close()


def test_keys_are_not_readable_by_others_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        pki = ensure_test_pki(tmp_path / "test-pki")
    finally:
        os.umask(old)
    assert stat.S_IMODE(pki.sender_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(pki.ca_cert.parent.stat().st_mode) == 0o700


def test_unusable_state_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be\n")
    with pytest.raises(
        SigningError,
        match=r"test-pki: .*state: File exists; check that the state",
    ):
        ensure_test_pki(blocker / "test-pki")
