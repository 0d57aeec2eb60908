"""`uwvcli simulator --config`: the service trusts the sender certificate of the configuration, so
a configured (non-test) certificate can talk to it straight away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trustme

from tests.digipoort_support import submit
from tests.helpers import write_setup
from uwvcli.app.credentials import load_credentials
from uwvcli.digipoort.client import DigipoortClient, NotDelivered
from uwvcli.domain.models import Sender


def start_simulator(folder: Path, *extra: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    uwvcli = Path(sys.executable).parent / "uwvcli"
    process = subprocess.Popen(
        [str(uwvcli), "simulator", "--port", "0", "--folder", str(folder), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder.parent,
        env={**os.environ, "NO_COLOR": "1"},
    )
    lines: list[str] = []
    while not any("service_certificate:" in line for line in lines):
        line = process.stdout.readline()
        assert line, process.stderr.read()
        lines.append(line.strip())
    return process, dict(line.split(": ", 1) for line in lines if ": " in line)


@pytest.fixture
def own_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A sender certificate from a CA the simulator has never seen (like a PKIoverheid one)."""
    rsa = trustme.KeyType.RSA
    leaf = trustme.CA(key_type=rsa).issue_cert("sender.uwvcli.example", key_type=rsa)
    certificate, key = tmp_path / "sender.pem", tmp_path / "sender.key"
    certificate.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    key.write_bytes(leaf.private_key_pem.bytes())
    return certificate, key


@pytest.mark.parametrize("with_config", [True, False], ids=["with-config", "without-config"])
def test_configured_sender_certificate_is_trusted_only_with_the_config(
    tmp_path: Path, own_certificate: tuple[Path, Path], with_config: bool
) -> None:
    certificate, key = own_certificate
    sender = {"name": "T", "role": "Bedrijf", "certificate": str(certificate), "private_key": str(key)}
    setup = tmp_path / "setup"
    setup.mkdir()
    config = write_setup(setup, [], sender=sender)
    folder = tmp_path / "sim"
    process, printed = start_simulator(folder, *(["--config", str(config)] if with_config else []))
    try:
        credentials = load_credentials(
            Sender(name="T", role="Bedrijf", certificate=certificate, private_key=key),
            environment="custom",
            state_dir=tmp_path,
        )
        with DigipoortClient(
            printed["aanlever_url"],
            printed["status_url"],
            credentials,
            ca_bundle=Path(printed["ca_bundle"]),
            service_certificate=Path(printed["service_certificate"]),
        ) as client:
            if with_config:
                kenmerk = submit(client, "WG001-CFG-ZM").kenmerk
                assert client.get_statussen_proces(kenmerk)[-1].code == "500"
            else:
                with pytest.raises(NotDelivered):
                    submit(client, "WG001-CFG-ZM")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
