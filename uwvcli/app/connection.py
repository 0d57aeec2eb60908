"""The Digipoort a command talks to: the configured (or Logius') addresses, or — for
`environment: simulator` — the built-in simulator, started for the command and stopped after it.
Starting a tool is the application's business: neither delivery nor the transport knows the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypedDict

from uwvcli.app.credentials import load_credentials
from uwvcli.digipoort.addresses import berichtsoort_for, endpoints_for
from uwvcli.digipoort.client import DigipoortClient
from uwvcli.domain.models import Config, DigipoortSettings, Kind
from uwvcli.errors import UwvcliError


class _ClientOptions(TypedDict):
    """The `DigipoortClient` settings that are the same for both kinds of Digipoort."""

    signature_algorithm: str
    timeout: float
    deadline: float | None


@contextmanager
def open_digipoort(config: Config) -> Iterator[DigipoortClient]:
    """A `DigipoortClient` for the configured environment, for the duration of one command.

    `environment: simulator` starts the built-in simulator on a free loopback port (its test PKI
    next to the state, trusting the configured sender certificate, knowing the configured
    berichtsoorten) and stops it afterwards; the other environments talk to the configured or
    Logius' addresses with the configured trust anchors."""
    settings = config.digipoort
    state_dir = config.paths.state.parent
    credentials = load_credentials(config.sender, environment=settings.environment, state_dir=state_dir)
    options: _ClientOptions = {
        "signature_algorithm": settings.signature_algorithm,
        "timeout": settings.timeout_seconds,
        "deadline": settings.delivery.request_deadline_seconds,
    }
    if settings.environment != "simulator":
        aanlever_url, status_url = endpoints_for(settings)
        with DigipoortClient(
            aanlever_url,
            status_url,
            credentials,
            ca_bundle=settings.ca_bundle,
            service_certificate=service_certificate(settings),
            **options,
        ) as client:
            yield client
        return
    from uwvcli.simulator.server import Simulator

    simulator = Simulator(
        state_dir / "simulator",
        trust=[credentials.certificate],
        berichtsoorten={berichtsoort_for(settings, kind) for kind in Kind},
        signature_algorithm=settings.signature_algorithm,
    )
    with (
        simulator,
        DigipoortClient(
            simulator.aanlever_url,
            simulator.status_url,
            credentials,
            ca_bundle=simulator.ca_bundle,
            service_certificate=simulator.service_certificate,
            **options,
        ) as client,
    ):
        yield client


def service_certificate(settings: DigipoortSettings) -> Path:
    """Responses are believed only when signed by Digipoort's service certificate: without one
    configured nothing Digipoort says could be trusted, so refuse to start."""
    if settings.service_certificate is None:
        raise UwvcliError(
            f"digipoort.service_certificate is not configured: environment {settings.environment!r} "
            "needs Digipoort's response-signing certificate (PEM) to trust any kenmerk or status"
        )
    return settings.service_certificate
