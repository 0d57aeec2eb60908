"""The sender's credentials and the signed outbox files: every accepted key format works, every
unusable key or certificate is refused with a clear message, signed files verify with independent
tools, and any change to a signed file is caught."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import socket
import ssl
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.message_samples import CASES, build
from uwvcli.app.credentials import load_credentials
from uwvcli.domain.models import Sender
from uwvcli.errors import SigningError
from uwvcli.messages.build import check_message
from uwvcli.messages.signing import Credentials, sign_document, verify_document
from uwvcli.simulator.pki import TestPki, ensure_test_pki, simulator_pki_folder

DS = "http://www.w3.org/2000/09/xmldsig#"
PASSWORD = "Kaas-en-Broodje-42!"  # distinctive, so we can prove it never shows up in a message
PASSWORD_ENV = "UWVCLI_TEST_KEY_PASSWORD"
NOW = dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- a non-test CA, like PKIoverheid


@dataclass(frozen=True)
class Issued:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate


def name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Voorbeeld Private Root (imitation)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def issue(
    common_name: str,
    issuer: Issued | None = None,
    *,
    days: tuple[int, int] = (-1, 365),
    ca: bool = False,
    key: rsa.RSAPrivateKey | None = None,
) -> Issued:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return Issued(key, builder.sign(issuer.key if issuer else key, hashes.SHA256()))


@pytest.fixture(scope="module")
def root() -> Issued:
    return issue("Voorbeeld Root CA", ca=True)


@pytest.fixture(scope="module")
def intermediate(root: Issued) -> Issued:
    return issue("Voorbeeld Services CA", root, ca=True)


@pytest.fixture(scope="module")
def sender_cert(intermediate: Issued) -> Issued:
    return issue("verzuimdiensten.example", intermediate)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return ensure_test_pki(tmp_path_factory.mktemp("pki") / "test-pki")


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, password: str | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def sender(cert: Path | None, key: Path | None, password_env: str | None = None) -> Sender:
    return Sender(
        name="Voorbeeld Verzuimdiensten BV",
        role="Intermediair",
        certificate=cert,
        private_key=key,
        private_key_password_env=password_env,
    )


def pem_files(folder: Path, leaf: Issued, chain: tuple[Issued, ...] = (), password: str | None = None):
    cert = write(folder / "sender.pem", b"".join(pem(c.cert) for c in (leaf, *chain)))
    key = write(folder / "sender.key", key_pem(leaf.key, password))
    return cert, key


def refusal(s: Sender, environment: str = "production", state_dir: Path | None = None) -> str:
    with pytest.raises(SigningError) as caught:
        load_credentials(s, environment=environment, state_dir=state_dir or Path("/nonexistent"))
    message = str(caught.value)
    assert PASSWORD not in message
    return message


# ---------------------------------------------------------------- loading credentials


def test_pem_certificate_and_key_with_chain(
    tmp_path: Path, sender_cert: Issued, intermediate: Issued
) -> None:
    cert, key = pem_files(tmp_path, sender_cert, (intermediate,))
    credentials = load_credentials(sender(cert, key), environment="production", state_dir=tmp_path)
    assert credentials.certificate == sender_cert.cert
    assert credentials.chain == (intermediate.cert,)
    assert credentials.private_key.private_numbers() == sender_cert.key.private_numbers()


def test_chain_order_in_the_file_does_not_matter(
    tmp_path: Path, sender_cert: Issued, intermediate: Issued
) -> None:
    cert = write(tmp_path / "chain.pem", pem(intermediate.cert) + pem(sender_cert.cert))
    key = write(tmp_path / "sender.key", key_pem(sender_cert.key))
    credentials = load_credentials(sender(cert, key), environment="production", state_dir=tmp_path)
    assert credentials.certificate == sender_cert.cert


def test_encrypted_pem_with_password_from_the_environment(
    tmp_path: Path, sender_cert: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = pem_files(tmp_path, sender_cert, password=PASSWORD)
    assert b"ENCRYPTED" in key.read_bytes()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    credentials = load_credentials(sender(cert, key, PASSWORD_ENV), environment="preprod", state_dir=tmp_path)
    assert credentials.certificate == sender_cert.cert


@pytest.mark.parametrize("suffix", [".p12", ".pfx", ".P12"])
def test_pkcs12_bundle(
    tmp_path: Path, sender_cert: Issued, intermediate: Issued, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    bundle = pkcs12.serialize_key_and_certificates(
        b"sender",
        sender_cert.key,
        sender_cert.cert,
        [intermediate.cert],
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    path = write(tmp_path / f"sender{suffix}", bundle)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    credentials = load_credentials(
        sender(None, path, PASSWORD_ENV), environment="production", state_dir=tmp_path
    )
    assert credentials.certificate == sender_cert.cert
    assert credentials.chain == (intermediate.cert,)

    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    assert "does not open sender.private_key" in refusal(sender(None, path, PASSWORD_ENV))


def test_pkcs12_without_password_setting_says_what_to_configure(tmp_path: Path, sender_cert: Issued) -> None:
    bundle = pkcs12.serialize_key_and_certificates(
        b"s",
        sender_cert.key,
        sender_cert.cert,
        None,
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    path = write(tmp_path / "sender.p12", bundle)
    assert "private_key_password_env" in refusal(sender(None, path))


def test_missing_password_variable(
    tmp_path: Path, sender_cert: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = pem_files(tmp_path, sender_cert, password=PASSWORD)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    message = refusal(sender(cert, key, PASSWORD_ENV))
    assert f"environment variable {PASSWORD_ENV}" in message and "is not set" in message


def test_wrong_password(tmp_path: Path, sender_cert: Issued, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = pem_files(tmp_path, sender_cert, password=PASSWORD)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD + "x")
    message = refusal(sender(cert, key, PASSWORD_ENV))
    assert "does not open sender.private_key" in message and PASSWORD + "x" not in message


def test_encrypted_key_without_password_setting(tmp_path: Path, sender_cert: Issued) -> None:
    cert, key = pem_files(tmp_path, sender_cert, password=PASSWORD)
    assert "is encrypted: set sender.private_key_password_env" in refusal(sender(cert, key))


def test_password_for_an_unencrypted_key_is_harmless(
    tmp_path: Path, sender_cert: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = pem_files(tmp_path, sender_cert)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    credentials = load_credentials(
        sender(cert, key, PASSWORD_ENV), environment="production", state_dir=tmp_path
    )
    assert credentials.certificate == sender_cert.cert


def test_key_that_does_not_match_its_certificate(tmp_path: Path, sender_cert: Issued, root: Issued) -> None:
    cert = write(tmp_path / "sender.pem", pem(sender_cert.cert))
    other_key = write(tmp_path / "other.key", key_pem(root.key))
    assert "does not belong to the certificate" in refusal(sender(cert, other_key))


def test_expired_certificate(tmp_path: Path, intermediate: Issued) -> None:
    cert, key = pem_files(tmp_path, issue("old.example", intermediate, days=(-400, -2)))
    message = refusal(sender(cert, key))
    assert "expired on" in message and "configure its successor" in message


def test_not_yet_valid_certificate(tmp_path: Path, intermediate: Issued) -> None:
    cert, key = pem_files(tmp_path, issue("new.example", intermediate, days=(3, 400)))
    assert "is not valid before" in refusal(sender(cert, key))


@pytest.mark.parametrize("environment", ["preprod", "production"])
def test_test_pki_certificate_is_refused_for_the_real_digipoort(pki: TestPki, environment: str) -> None:
    message = refusal(sender(pki.sender_cert, pki.sender_key), environment)
    assert "uwvcli test certificate" in message and environment in message


@pytest.mark.parametrize("environment", ["simulator", "custom"])
def test_test_pki_certificate_is_fine_for_the_simulator(
    pki: TestPki, environment: str, tmp_path: Path
) -> None:
    credentials = load_credentials(
        sender(pki.sender_cert, pki.sender_key), environment=environment, state_dir=tmp_path
    )
    assert credentials.certificate.subject.rfc4514_string().endswith("O=uwvcli test PKI,C=NL")


def test_simulator_without_configured_files_uses_the_test_pki(tmp_path: Path) -> None:
    credentials = load_credentials(sender(None, None), environment="simulator", state_dir=tmp_path)
    generated = x509.load_pem_x509_certificate((tmp_path / "test-pki" / "sender-cert.pem").read_bytes())
    assert credentials.certificate == generated
    assert stat.S_IMODE((tmp_path / "test-pki").stat().st_mode) == 0o700


@pytest.mark.parametrize("environment", ["custom", "preprod", "production"])
def test_other_environments_need_configured_files(tmp_path: Path, environment: str) -> None:
    assert "sender.certificate and sender.private_key are not configured" in refusal(
        sender(None, None), environment, tmp_path
    )
    assert not (tmp_path / "test-pki").exists()


def test_unusable_files_are_clear_errors(tmp_path: Path, sender_cert: Issued) -> None:
    cert, key = pem_files(tmp_path, sender_cert)
    garbage = write(tmp_path / "garbage.pem", b"not a certificate\n")
    assert "is not a PEM certificate" in refusal(sender(garbage, key))
    assert "is not a PEM private key" in refusal(sender(cert, garbage))
    assert "cannot be read" in refusal(sender(tmp_path / "missing.pem", key))
    assert "sender.certificate is not configured" in refusal(sender(None, key))
    assert "sender.private_key is not configured" in refusal(sender(cert, None))


def test_non_rsa_key_is_refused(tmp_path: Path, intermediate: Issued) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("ec.example"))
        .issuer_name(intermediate.cert.subject)
        .public_key(ec_key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=100))
        .sign(intermediate.key, hashes.SHA256())
    )
    cert_path = write(tmp_path / "ec.pem", pem(cert))
    key_path = write(tmp_path / "ec.key", key_pem(ec_key))
    assert "is not an RSA key" in refusal(sender(cert_path, key_path))


# ---------------------------------------------------------------- expiry warning


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (45, None),
        (31, None),
        (30, "in 30 day(s)"),
        (1, "in 1 day(s)"),
        (0, "in 0 day(s)"),
        (-1, "expired on"),
    ],
)
def test_expiry_warning_within_thirty_days(sender_cert: Issued, days_left: int, expected: str | None) -> None:
    credentials = Credentials(sender_cert.key, sender_cert.cert)
    expires = sender_cert.cert.not_valid_after_utc.date()
    warning = credentials.expiry_warning(expires - dt.timedelta(days=days_left))
    if expected is None:
        assert warning is None
    else:
        assert warning is not None and expected in warning
        assert expires.isoformat() in warning


# ---------------------------------------------------------------- mutual TLS


class RecordingContext(ssl.SSLContext):
    """Notes what `load_into` hands to OpenSSL, to prove no plain key touches the disk."""

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        key = Path(keyfile)
        self.seen = {
            "key": key.read_bytes(),
            "key_mode": stat.S_IMODE(key.stat().st_mode),
            "folder": key.parent,
            "folder_mode": stat.S_IMODE(key.parent.stat().st_mode),
        }
        super().load_cert_chain(certfile, keyfile, password)


def handshake(pki: TestPki, client: ssl.SSLContext, client_ca: x509.Certificate, tmp_path: Path) -> bytes:
    """A real TLS server on loopback that requires a client certificate; returns the one it got."""
    ca_file = write(tmp_path / "client-ca.pem", pem(client_ca))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki.server_cert, pki.server_key)
    server.verify_mode = ssl.CERT_REQUIRED
    server.load_verify_locations(cafile=str(ca_file))
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        connection, _ = listener.accept()
        with server.wrap_socket(connection, server_side=True) as tls:
            received.append(tls.getpeercert(binary_form=True))
            tls.sendall(b"ok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with (
        socket.create_connection(listener.getsockname(), timeout=10) as raw,
        client.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.recv(2) == b"ok"
    thread.join(timeout=10)
    listener.close()
    return received[0]


@pytest.mark.parametrize("source", ["pem", "encrypted-pem", "pkcs12"])
def test_credentials_do_mutual_tls_without_a_plain_key_on_disk(
    tmp_path: Path,
    pki: TestPki,
    root: Issued,
    intermediate: Issued,
    sender_cert: Issued,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    if source == "pkcs12":
        bundle = pkcs12.serialize_key_and_certificates(
            b"s",
            sender_cert.key,
            sender_cert.cert,
            [intermediate.cert],
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
        configured = sender(None, write(tmp_path / "s.p12", bundle), PASSWORD_ENV)
    else:
        password = PASSWORD if source == "encrypted-pem" else None
        configured = sender(*pem_files(tmp_path, sender_cert, (intermediate,), password), PASSWORD_ENV)
    credentials = load_credentials(configured, environment="production", state_dir=tmp_path)

    client = RecordingContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cafile=str(pki.ca_cert))
    credentials.load_into(client)

    assert client.seen["key"].startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert client.seen["key_mode"] == 0o600 and client.seen["folder_mode"] == 0o700
    assert not client.seen["folder"].exists()  # removed straight after loading
    # The server trusts only the root: the intermediate must travel with the client certificate.
    assert handshake(pki, client, root.cert, tmp_path) == sender_cert.cert.public_bytes(
        serialization.Encoding.DER
    )


# ---------------------------------------------------------------- signing and verifying


@pytest.fixture(scope="module")
def simulator_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def credentials(simulator_state: Path) -> Credentials:
    """The sender of `environment: simulator` without configured files: the test PKI's."""
    return load_credentials(sender(None, None), environment="simulator", state_dir=simulator_state)


@pytest.fixture(scope="module")
def ca_file(credentials: Credentials, simulator_state: Path) -> Path:
    return TestPki.in_folder(simulator_pki_folder(simulator_state)).ca_cert


MESSAGE = build(*CASES["zw-direct-payment"])


@pytest.fixture(scope="module")
def signed(credentials: Credentials) -> bytes:
    return sign_document(MESSAGE, credentials)


def test_signature_is_enveloped_rsa_sha256_exc_c14n_with_certificate(
    signed: bytes, credentials: Credentials
) -> None:
    root = etree.fromstring(signed)
    signature = root[-1]
    assert signature.tag == f"{{{DS}}}Signature"
    ns = {"ds": DS}
    assert signature.xpath("ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm", namespaces=ns) == [
        "http://www.w3.org/2001/10/xml-exc-c14n#"
    ]
    assert signature.xpath("ds:SignedInfo/ds:SignatureMethod/@Algorithm", namespaces=ns) == [
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    ]
    assert signature.xpath("ds:SignedInfo/ds:Reference/ds:DigestMethod/@Algorithm", namespaces=ns) == [
        "http://www.w3.org/2001/04/xmlenc#sha256"
    ]
    assert signature.xpath("ds:SignedInfo/ds:Reference/@URI", namespaces=ns) == [""]
    assert f"{DS}enveloped-signature" in signature.xpath(".//ds:Transform/@Algorithm", namespaces=ns)
    embedded = "".join(signature.findtext(f".//{{{DS}}}X509Certificate").split())
    assert base64.b64decode(embedded) == credentials.certificate.public_bytes(serialization.Encoding.DER)


def test_signing_is_deterministic(signed: bytes, credentials: Credentials) -> None:
    assert sign_document(MESSAGE, credentials) == signed


def test_credentials_never_show_the_key(credentials: Credentials) -> None:
    assert "private_key" not in repr(credentials) and "PRIVATE" not in repr(credentials)


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="the xmlsec1 binary is not installed")
def test_signed_file_verifies_with_the_xmlsec1_binary(signed: bytes, ca_file: Path, tmp_path: Path) -> None:
    def xmlsec1(data: bytes, *trust: str) -> subprocess.CompletedProcess:
        path = write(tmp_path / "outbox.xml", data)
        command = ["xmlsec1", "--verify", "--enabled-reference-uris", "empty", *trust, str(path)]
        return subprocess.run(command, capture_output=True, text=True, timeout=30)

    trusted = xmlsec1(signed, "--trusted-pem", str(ca_file))
    assert trusted.returncode == 0, trusted.stderr
    assert xmlsec1(signed, "--insecure").returncode == 0
    assert xmlsec1(signed).returncode != 0  # the certificate is not trusted by default
    tampered = signed.replace(b"<Geboortedat>19900203", b"<Geboortedat>19900204")
    assert xmlsec1(tampered, "--trusted-pem", str(ca_file)).returncode != 0


def test_signed_file_verifies_with_python_xmlsec(
    signed: bytes, ca_file: Path, credentials: Credentials
) -> None:
    def verify(data: bytes) -> None:
        root = etree.fromstring(data)
        manager = xmlsec.KeysManager()
        manager.load_cert(
            str(ca_file), xmlsec.constants.KeyDataFormatPem, xmlsec.constants.KeyDataTypeTrusted
        )
        context = xmlsec.SignatureContext(manager)
        context.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))

    verify(signed)
    with pytest.raises(xmlsec.Error):
        verify(signed.replace(b"<Geboortedat>19900203", b"<Geboortedat>19900204"))


def test_verify_gives_back_exactly_the_unsigned_message(
    signed: bytes, credentials: Credentials, shared: Path
) -> None:
    payload = verify_document(signed, trusted=credentials.certificate)
    assert payload == MESSAGE
    assert verify_document(signed) == MESSAGE
    schema = etree.XMLSchema(etree.parse(str(shared / "reference/uwv/UwvZwMeldingInternBody-v0428-b01.xsd")))
    assert schema.validate(etree.fromstring(payload))
    assert check_message(payload) == []


def signature_value(signed: bytes) -> bytes:
    return etree.fromstring(signed).findtext(f".//{{{DS}}}SignatureValue").encode()


def digest_value(signed: bytes) -> bytes:
    return etree.fromstring(signed).findtext(f".//{{{DS}}}DigestValue").encode()


def flip_base64(value: bytes) -> bytes:
    first = value[:1]
    return (b"B" if first != b"B" else b"C") + value[1:]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: s.replace(b"<Geboortedat>19900203", b"<Geboortedat>19900204"), id="content"),
        pytest.param(lambda s: s.replace(b"<Naam>Voorbeeld", b"<Naam>Voorbeelt"), id="sender-name"),
        pytest.param(lambda s: s.replace(b"</CdBerichtType>", b"</CdBerichtType> "), id="whitespace"),
        pytest.param(
            lambda s: s.replace(signature_value(s), flip_base64(signature_value(s))), id="signature"
        ),
        pytest.param(lambda s: s.replace(digest_value(s), flip_base64(digest_value(s))), id="digest"),
        pytest.param(lambda s: s.replace(b"<CdBerichtType>", b"<!-- x --><CdBerichtType>"), id="comment"),
        pytest.param(
            lambda s: s[: s.index(b"<ds:Signature")] + b"</UwvZwMeldingInternBody>\n", id="unsigned"
        ),
        pytest.param(lambda s: s[:-40], id="truncated"),
        pytest.param(
            lambda s: s.replace(b"<CdBerichtType>", b"<?evil x?><CdBerichtType>"), id="processing-instruction"
        ),
        pytest.param(
            lambda s: s.replace(
                b"<?xml version='1.0' encoding='UTF-8'?>", b"<?xml version='1.0'?><!DOCTYPE x>"
            ),
            id="doctype",
        ),
    ],
)
def test_any_change_to_a_signed_file_is_caught(signed: bytes, tamper) -> None:
    changed = tamper(signed)
    assert changed != signed
    with pytest.raises(SigningError) as caught:
        verify_document(changed)
    assert "the outbox file was changed after it was signed" in str(caught.value)
    assert "uwvcli run" in str(caught.value)


def test_second_signature_or_signature_not_last_is_refused(signed: bytes) -> None:
    root = etree.fromstring(signed)
    root.insert(0, etree.fromstring(etree.tostring(root[-1])))
    with pytest.raises(SigningError):
        verify_document(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    root = etree.fromstring(signed)
    root.insert(1, root[-1])
    with pytest.raises(SigningError, match="does not end in exactly one"):
        verify_document(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_a_file_re_signed_by_someone_else_is_refused_when_trust_is_given(
    signed: bytes, credentials: Credentials, sender_cert: Issued
) -> None:
    forged_content = MESSAGE.replace(b"<Geboortedat>19900203", b"<Geboortedat>19900204")
    forged = sign_document(forged_content, Credentials(sender_cert.key, sender_cert.cert))
    assert verify_document(forged) == forged_content  # intact, but by another signer
    with pytest.raises(SigningError, match="another certificate"):
        verify_document(forged, trusted=credentials.certificate)
    # Someone else's signature with the sender's certificate pasted in does not verify either.
    pasted = forged.replace(
        "".join(etree.fromstring(forged).findtext(f".//{{{DS}}}X509Certificate").split()).encode()[:64],
        "".join(etree.fromstring(signed).findtext(f".//{{{DS}}}X509Certificate").split()).encode()[:64],
    )
    with pytest.raises(SigningError):
        verify_document(pasted, trusted=credentials.certificate)


def test_signed_with_an_expired_certificate(intermediate: Issued) -> None:
    old = issue("old.example", intermediate, days=(-400, -2))
    with pytest.raises(SigningError, match="not valid today"):
        verify_document(sign_document(MESSAGE, Credentials(old.key, old.cert)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), replacement=st.integers(min_value=0, max_value=255))
def test_a_changed_byte_anywhere_never_yields_a_different_payload(
    signed: bytes, position: int, replacement: int
) -> None:
    """Whatever byte is changed, verify either refuses the file or returns the very message that
    was signed (a change in, say, the quotes of the XML declaration alters nothing signed)."""
    position %= len(signed)
    if signed[position] == replacement:
        return
    changed = signed[:position] + bytes([replacement]) + signed[position + 1 :]
    try:
        payload = verify_document(changed)
    except SigningError:
        return
    assert payload == MESSAGE
