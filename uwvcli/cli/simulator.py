"""`uwvcli simulator`: run the local Digipoort as a service until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from uwvcli.cli.app import App, command, get_app
from uwvcli.cli.options import ConfigOption
from uwvcli.common.memory import resume_cycle_collection
from uwvcli.common.network import is_loopback
from uwvcli.domain.models import Kind
from uwvcli.errors import UwvcliError


@command("simulator")
def simulator(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback only, unless --allow-remote).")
    ] = ("127.0.0.1"),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 8443,
    folder: Annotated[
        Path, typer.Option(help="Where the simulator keeps its processes and its test PKI.")
    ] = Path("uwvcli-simulator"),
    lifecycle: Annotated[
        str, typer.Option(help="instant: every status at once; timed: one status per --step seconds.")
    ] = "instant",
    step: Annotated[
        float, typer.Option(min=0.1, help="Seconds between statuses with --lifecycle timed.")
    ] = 5.0,
    scenario: Annotated[
        str, typer.Option(help="Fault-injection markers applied to every message, e.g. FLOW-311 (see docs).")
    ] = "",
    trust: Annotated[
        list[Path] | None,
        typer.Option(help="A further client certificate (PEM) to accept, e.g. your own sender certificate."),
    ] = None,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow listening on a non-loopback address.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run a local Digipoort (WUS over HTTPS with client certificates) for trying uwvcli out.

    With a configuration (--config, $UWVCLI_CONFIG or ./uwvcli.yaml when present) it also trusts
    the configured sender certificate and knows the configured berichtsoorten."""
    from uwvcli.digipoort.addresses import berichtsoort_for  # slow imports: only for this command
    from uwvcli.simulator.server import LIFECYCLES, MARKERS, Simulator

    resume_cycle_collection()  # a service, not a batch: see common/memory.py
    app = get_app(ctx)
    terminal = app.terminal
    berichtsoorten = None
    trust = list(trust or [])
    config_path = App.config_path(config)
    if config is not None or config_path.exists():
        settings = app.load_config(config)
        if settings.sender.certificate is not None:
            trust.append(settings.sender.certificate)
        berichtsoorten = {berichtsoort_for(settings.digipoort, kind) for kind in Kind}
    if lifecycle not in LIFECYCLES:
        raise typer.BadParameter(f"use one of {', '.join(LIFECYCLES)}", param_hint="--lifecycle")
    if not allow_remote and not is_loopback(host):
        raise UwvcliError(
            f"--host {host} is not a loopback address: the simulator accepts test certificates and is "
            "meant for this machine only. Add --allow-remote if you really mean it."
        )
    for path in trust or []:
        if not path.is_file():
            raise UwvcliError(f"--trust {path}: no such file (give a PEM client certificate)")
    try:
        digipoort = Simulator(
            folder,
            host=host,
            port=port,
            lifecycle=lifecycle,
            step=timedelta(seconds=step),
            trust=trust,
            scenario=scenario,
            berichtsoorten=berichtsoorten,
            pki_folder=folder / "test-pki",
        )
        digipoort.start()
    except OSError as error:
        raise UwvcliError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
    except ValueError as error:
        raise UwvcliError(f"--trust: a file is not a PEM certificate ({error})") from None

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    pki = digipoort.pki
    typer.echo(
        "\n".join(
            [
                f"Digipoort simulator on {digipoort.base_url} ({lifecycle} lifecycle)",
                "",
                "In uwvcli.yaml:",
                "  sender:",
                f"    certificate: {pki.sender_cert.resolve()}",
                f"    private_key: {pki.sender_key.resolve()}",
                "  digipoort:",
                "    environment: custom",
                f"    aanlever_url: {digipoort.aanlever_url}",
                f"    status_url: {digipoort.status_url}",
                f"    ca_bundle: {digipoort.ca_bundle.resolve()}",
                f"    service_certificate: {digipoort.service_certificate.resolve()}",
                "",
                f"Counts of what arrived: {digipoort.base_url}/simulator/received",
                f"Markers in an aanleverkenmerk: {', '.join(MARKERS)}",
            ]
        )
    )
    terminal.info("press Ctrl-C to stop")
    try:
        while not stop.wait(1):
            pass
    finally:
        digipoort.stop()
    terminal.info("simulator stopped")
