"""`uwvcli send` as one use case: under the run lock, submit every outbox message not yet accepted
by Digipoort, exactly once, and fetch the statuses of the submitted ones (`delivery.send_outbox`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from uwvcli.app.connection import open_digipoort
from uwvcli.app.credentials import sender_certificate
from uwvcli.app.recovery import open_journal
from uwvcli.delivery.loop import Delivery, SendReport, send_outbox
from uwvcli.domain.models import Config
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK
from uwvcli.state.locking import run_lock


def send(
    config: Config,
    *,
    today: date,
    parallelism: int,
    poll_seconds: float,
    progress: Callable[[Delivery], None] | None = None,
) -> SendReport:
    """Send the outbox and follow the open messages for up to `poll_seconds`. A message due after
    `today` (a preview's) is not sent before its day (CONTRACT §1)."""
    with (
        run_lock(config.paths.state),
        open_journal(config) as journal,
        open_digipoort(config) as client,
    ):
        return send_outbox(
            config,
            journal,
            client=client,
            parallelism=parallelism,
            poll_seconds=poll_seconds,
            progress=progress,
            signer=sender_certificate(config),
            due_by=today,
        )


def exit_code(report: SendReport) -> int:
    """CONTRACT §1: 1 when a message needs a person (rejected, failed, refused, parked, in doubt or
    not sent), else 0."""
    return EXIT_ATTENTION if report.needs_attention else EXIT_OK
