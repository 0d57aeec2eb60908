"""Which credentials the sender signs and connects with: the configured ones, or — for
`environment: simulator` without configured files — the sender of the test PKI next to the state,
which the built-in simulator trusts. `messages.signing` only loads and checks what it is given."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cryptography import x509

from uwvcli.domain.models import Config, Sender
from uwvcli.messages.signing import Credentials
from uwvcli.messages.signing import load_credentials as load_configured
from uwvcli.simulator.pki import ensure_test_pki, simulator_pki_folder


def load_credentials(sender: Sender, *, environment: str, state_dir: Path) -> Credentials:
    """The sender's credentials for `environment`, checked before anything is signed or sent."""
    if environment == "simulator" and sender.private_key is None and sender.certificate is None:
        pki = ensure_test_pki(simulator_pki_folder(state_dir))
        sender = replace(
            sender, certificate=pki.sender_cert, private_key=pki.sender_key, private_key_password_env=None
        )
    return load_configured(sender, environment=environment)


def sender_credentials(config: Config) -> Credentials:
    """The configured sender's credentials (`load_credentials` for a loaded configuration)."""
    return load_credentials(
        config.sender, environment=config.digipoort.environment, state_dir=config.paths.state.parent
    )


def sender_certificate(config: Config) -> x509.Certificate:
    """The certificate outbox files must be signed with: the sender's own (a file signed with any
    other key is refused, even when its signature is valid)."""
    return sender_credentials(config).certificate
