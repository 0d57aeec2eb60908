"""`uwvcli check` as the go-live check (issue 13): it finds what `run` would stop on — a key of
another certificate, a test certificate for preprod/production, an expired certificate (and warns
30 days ahead), a state or outbox folder that cannot be written, an unreadable CA bundle or
service certificate — and with `--smtp` whether the mail server answers (a real aiosmtpd server
on loopback). Each of these passed `check` with exit 0 before."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from tests.helpers import write_setup
from tests.run_support import running_smtp
from uwvcli.cli import app
from uwvcli.simulator.pki import TestPki, ensure_test_pki

runner = CliRunner()
ROW = {"employee_id": "1001", "dossier_id": "Z-1", "dossier_type": "ziekte", "first_sick_day": "2026-11-02"}
DAY = "2026-12-01"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return ensure_test_pki(tmp_path_factory.mktemp("pki") / "one")


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return ensure_test_pki(tmp_path_factory.mktemp("pki") / "other")


def check(config: Path, *args: str, day: str = DAY) -> tuple[int, dict]:
    result = runner.invoke(app, ["check", "--config", str(config), "--date", day, "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)


def messages(document: dict, severity: str = "error") -> list[str]:
    return [p["message"] for p in document["problems"] if p["severity"] == severity]


def sender(cert: Path, key: Path) -> dict:
    return {
        "name": "Test Verzuimdiensten BV",
        "role": "Intermediair",
        "certificate": str(cert),
        "private_key": str(key),
    }


def custom(pki: TestPki, **extra: object) -> dict:
    return {
        "environment": "custom",
        "aanlever_url": "https://127.0.0.1:1/aanleveren",
        "status_url": "https://127.0.0.1:1/status",
        "ca_bundle": str(pki.ca_cert),
        "service_certificate": str(pki.service_cert),
        **extra,
    }


def test_the_configured_certificates_of_the_test_pki_pass(tmp_path: Path, pki: TestPki) -> None:
    config = write_setup(
        tmp_path, [ROW], sender=sender(pki.sender_cert, pki.sender_key), digipoort=custom(pki)
    )
    code, document = check(config)
    assert code == 0, document


def test_a_key_that_does_not_belong_to_the_certificate(
    tmp_path: Path, pki: TestPki, other_pki: TestPki
) -> None:
    config = write_setup(
        tmp_path, [ROW], sender=sender(pki.sender_cert, other_pki.sender_key), digipoort=custom(pki)
    )
    code, document = check(config)
    assert code == 2
    assert any("the private key does not belong to the certificate" in m for m in messages(document))


def test_a_test_certificate_for_production(tmp_path: Path, pki: TestPki) -> None:
    config = write_setup(
        tmp_path,
        [ROW],
        sender=sender(pki.sender_cert, pki.sender_key),
        digipoort={"environment": "production", "service_certificate": str(pki.service_cert)},
    )
    code, document = check(config)
    assert code == 2
    assert any("test certificate, which production does not accept" in m for m in messages(document))


def test_an_expired_certificate_stops_and_one_about_to_expire_warns(tmp_path: Path, pki: TestPki) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cert, key = self_signed(tmp_path, valid_days=(-30, -1))
    expired = write_setup(tmp_path / "a", [ROW], sender=sender(cert, key), digipoort=custom(pki))
    code, document = check(expired)
    assert code == 2
    assert any("expired on" in m for m in messages(document))

    soon = write_setup(
        tmp_path / "b", [ROW], sender=sender(pki.sender_cert, pki.sender_key), digipoort=custom(pki)
    )
    expires = x509.load_pem_x509_certificate(pki.sender_cert.read_bytes()).not_valid_after_utc.date()
    code, document = check(soon, day=(expires - dt.timedelta(days=20)).isoformat())
    assert code == 1
    assert any(f"expires on {expires.isoformat()} (in 20 day(s))" in m for m in messages(document, "warning"))


def test_an_unreadable_ca_bundle_or_service_certificate(tmp_path: Path, pki: TestPki) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    for key in ("ca_bundle", "service_certificate"):
        folder = tmp_path / key
        folder.mkdir()
        config = write_setup(
            folder,
            [ROW],
            sender=sender(pki.sender_cert, pki.sender_key),
            digipoort=custom(pki, **{key: str(garbage)}),
        )
        code, document = check(config)
        assert code == 2, key
        assert any(f"digipoort.{key}" in m and "cannot be read" in m for m in messages(document)), document


def test_a_state_or_outbox_folder_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "in-the-way").write_text("a file where a folder should be\n")
    for key, paths in (
        ("paths.state", {"state": "in-the-way/uwvcli.sqlite", "outbox": "var/outbox"}),
        ("paths.outbox", {"state": "var/uwvcli.sqlite", "outbox": "in-the-way/outbox"}),
    ):
        config = write_setup(tmp_path, [ROW], paths={"dossiers": ["dossiers.csv"], **paths})
        code, document = check(config)
        assert code == 2, key
        assert [p["field"] for p in document["problems"] if p["severity"] == "error"] == [key]
        assert "in-the-way is not a folder" in messages(document)[0]


def test_smtp_answers(tmp_path: Path) -> None:
    with running_smtp() as server:
        config = write_setup(
            tmp_path, [ROW], mail={"smtp_host": "127.0.0.1", "smtp_port": server.port, "from": "a@b.example"}
        )
        code, document = check(config, "--smtp")
    assert code == 0, document
    assert server.mailbox.snapshot() == []  # no mail was sent


def test_an_smtp_server_that_does_not_answer(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_setup(
        tmp_path, [ROW], mail={"smtp_host": "127.0.0.1", "smtp_port": port, "from": "a@b.example"}
    )

    assert check(config)[0] == 0  # without --smtp no conversation
    code, document = check(config, "--smtp")

    assert code == 1
    assert any(f"cannot reach the SMTP server 127.0.0.1:{port}" in m for m in messages(document))


def self_signed(folder: Path, *, valid_days: tuple[int, int]) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired sender")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=valid_days[0]))
        .not_valid_after(now + dt.timedelta(days=valid_days[1]))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "sender.pem", folder / "sender.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path
