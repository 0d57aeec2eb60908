"""`uwvcli withdraw KEY [--reason TEXT]`: a person's decision to withdraw a submitted notification
at UWV (RULES 4.6), e.g. one whose dossier was deleted from the export because it was entered by
mistake. The withdrawal is written to the outbox now (`app.withdraw.withdraw`, under the run
lock) and goes on the next `run` or `send`, once."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from uwvcli.app import withdraw as use_case
from uwvcli.cli.app import command, get_app
from uwvcli.cli.options import ConfigOption, KeyArgument, checked_key, today_in_amsterdam
from uwvcli.cli.output import write_json
from uwvcli.domain.keys import NotificationKey
from uwvcli.errors import EXIT_OK


class WithdrawFormat(StrEnum):
    table = "table"
    json = "json"


@command("withdraw")
def withdraw(
    ctx: typer.Context,
    key: KeyArgument,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Why, kept with the withdrawal (one line; no names or BSNs, please).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
    output: Annotated[
        WithdrawFormat,
        typer.Option("--format", "-f", help="A line for people, or json for programs."),
    ] = WithdrawFormat.table,
) -> None:
    """Withdraw a submitted notification at UWV: its withdrawal goes on the next run or send.

    Only for a notification that was submitted (submitted, delivered or accepted). Nothing is
    sent to replace it. Exit code 1 when it cannot be withdrawn (not submitted, already being
    withdrawn, its sent file missing), 2 for an unusable key, 75 when a run holds the lock."""
    notification = checked_key(key)
    if not isinstance(notification, NotificationKey):
        raise typer.BadParameter(f"{key!r} is a withdrawal itself: name the notification", param_hint="'KEY'")
    app = get_app(ctx)
    cfg = app.load_config(config)
    done = use_case.withdraw(cfg, notification, reason=reason, today=today_in_amsterdam())
    if output is WithdrawFormat.json:
        write_json({"key": str(done.key), "withdraws": str(notification), "file": done.file})
    else:
        app.terminal.out.print(
            f"{done.key}: written to the outbox as {done.file}; the next `uwvcli run` or `uwvcli send` "
            "submits it once.",
            markup=False,
        )
    raise typer.Exit(EXIT_OK)
