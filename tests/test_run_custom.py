"""The product's real path to a Digipoort that is not built in: `environment: custom` against
`uwvcli simulator` running as a separate process, as an independent peer would be. Every address,
trust anchor and credential comes from the configuration (the simulator's printed URLs, its CA
and service certificate; the sender certificate it printed, or one of our own that it was told
to trust with --trust), so nothing of the in-process shortcut is used."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.run_support import (
    RUN_DATE,
    UWVCLI,
    cron_environment,
    due_keys,
    free_port,
    journal_status,
    received_by_key,
    run_day,
    setup_samples,
    uwvcli,
)

KEY_PASSWORD_ENV = "UWVCLI_TEST_SENDER_KEY_PASSWORD"
KEY_PASSWORD = "correct horse battery staple"


@dataclass
class ExternalSimulator:
    folder: Path
    printed: dict  # what it told us to put in uwvcli.yaml: {"sender": {...}, "digipoort": {...}}


@contextmanager
def external_simulator(folder: Path, *trust: Path) -> Iterator[ExternalSimulator]:
    """`uwvcli simulator` on a free loopback port until the block ends (SIGTERM, as a service)."""
    command = [str(UWVCLI), "simulator", "--port", str(free_port()), "--folder", str(folder)]
    for path in trust:
        command += ["--trust", str(path)]
    process = subprocess.Popen(
        command,
        cwd=folder.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cron_environment(),
    )
    try:
        assert process.stdout is not None
        printed = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Markers in an aanleverkenmerk"):
                break
        else:
            raise AssertionError(f"the simulator did not start: {process.communicate(timeout=10)}")
        text = "".join(printed)
        block = text.split("In uwvcli.yaml:\n", 1)[1].split("\n\n", 1)[0]
        yield ExternalSimulator(folder, yaml.safe_load(block))
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
        assert process.returncode == 0 and "Traceback" not in stderr, stderr


def own_sender_certificate(folder: Path) -> tuple[Path, Path]:
    """A sender certificate that is not from the simulator's PKI, its key encrypted (the password
    comes from the environment, as in production)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Verzuimdiensten BV (eigen certificaat)")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(mode=0o700)
    cert_path, key_path = folder / "sender.crt", folder / "sender.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def own_sender(cert: Path, key: Path) -> dict[str, str]:
    return {"certificate": str(cert), "private_key": str(key), "private_key_password_env": KEY_PASSWORD_ENV}


def custom_config(folder: Path, simulator: ExternalSimulator, **overrides: object) -> Path:
    digipoort = {**simulator.printed["digipoort"], **overrides.pop("digipoort", {})}  # type: ignore[dict-item]
    sender = {**simulator.printed["sender"], **overrides.pop("sender", {})}  # type: ignore[dict-item]
    assert digipoort["environment"] == "custom"
    return setup_samples(folder, None, smtp_port=None, sender=sender, **digipoort)


def test_run_send_and_status_against_an_independent_digipoort(tmp_path: Path) -> None:
    with external_simulator(tmp_path / "digipoort") as simulator:
        config = custom_config(tmp_path / "samples", simulator)
        sendable, blocked = due_keys(config)

        prepared = run_day(config, RUN_DATE, "--no-send")
        assert prepared.returncode == 1  # blocked ones
        assert received_by_key(config, simulator.folder) == {}  # --no-send sends nothing

        sent = uwvcli("send", "--config", str(config), "--poll-seconds", "10", cwd=config.parent)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert received_by_key(config, simulator.folder) == dict.fromkeys(sendable, 1)
        status = journal_status(config)
        assert {k: status[k]["state"] for k in sendable} == dict.fromkeys(sendable, "accepted")
        assert all(status[k]["kenmerk"] for k in sendable)
        assert {k: status[k]["state"] for k in blocked} == dict.fromkeys(blocked, "blocked")

        again = run_day(config)
        assert again.returncode == 1
        assert received_by_key(config, simulator.folder) == dict.fromkeys(sendable, 1)
    assert not (config.parent / "var" / "simulator").exists(), "the in-process simulator was used"


def test_run_with_an_own_sender_certificate_and_rsa_sha256(tmp_path: Path) -> None:
    cert, key = own_sender_certificate(tmp_path / "certs")
    with external_simulator(tmp_path / "digipoort", cert) as simulator:
        config = custom_config(
            tmp_path / "samples",
            simulator,
            sender={
                "certificate": str(cert),
                "private_key": str(key),
                "private_key_password_env": KEY_PASSWORD_ENV,
            },
            digipoort={"signature_algorithm": "rsa-sha256"},
        )
        sendable, _ = due_keys(config)

        done = uwvcli(
            "run", "--config", str(config), "--date", RUN_DATE, "--poll-seconds", "10",
            cwd=config.parent, env=cron_environment(**{KEY_PASSWORD_ENV: KEY_PASSWORD}),
        )  # fmt: skip

        assert done.returncode == 1, done.stderr  # the samples' blocked ones
        assert received_by_key(config, simulator.folder) == dict.fromkeys(sendable, 1)
        status = journal_status(config)
        assert {k: status[k]["state"] for k in sendable} == dict.fromkeys(sendable, "accepted")
        assert KEY_PASSWORD not in done.stdout + done.stderr


def test_without_the_key_password_nothing_is_sent_and_the_message_says_why(tmp_path: Path) -> None:
    cert, key = own_sender_certificate(tmp_path / "certs")
    with external_simulator(tmp_path / "digipoort", cert) as simulator:
        config = custom_config(
            tmp_path / "samples",
            simulator,
            sender={
                "certificate": str(cert),
                "private_key": str(key),
                "private_key_password_env": KEY_PASSWORD_ENV,
            },
        )
        done = run_day(config)

        assert done.returncode == 2
        assert KEY_PASSWORD_ENV in done.stderr
        assert received_by_key(config, simulator.folder) == {}
