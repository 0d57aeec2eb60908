"""`uwvcli send`: submit every outbox message not yet accepted by Digipoort, exactly once, and
fetch the statuses of the submitted ones. The work is `app.send.send`; this module renders the
summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, today_in_amsterdam

if TYPE_CHECKING:  # the Digipoort stack is imported only when a command talks to it
    from uwvcli.delivery.loop import Delivery, SendReport

STATE_STYLES = {
    "accepted": "green",
    "delivered": "green",
    "submitted": "cyan",
    "waiting": "yellow",
    "in_doubt": "bold yellow",
    "not_sent": "bold yellow",
    "parked": "bold magenta",
    "refused": "bold red",
    "rejected": "bold red",
    "failed": "bold red",
}

ParallelismOption = Annotated[
    int,
    typer.Option("--parallelism", "-p", min=1, max=32, help="Messages submitted at the same time."),
]
PollSecondsOption = Annotated[
    float,
    typer.Option(
        "--poll-seconds",
        min=0,
        help="How long to keep fetching statuses of open messages before leaving them to the next run.",
    ),
]


@command("send")
def send(
    ctx: typer.Context,
    config: ConfigOption = None,
    parallelism: ParallelismOption = 4,
    poll_seconds: PollSecondsOption = 60.0,
) -> None:
    """Submit every outbox message not yet accepted by Digipoort; fetch new statuses.

    Exit code 1 when something needs a person: a message rejected, failed, refused (changed after
    signing), in doubt, parked (in doubt and not reconcilable) or not sent; 75 when another run
    holds the lock."""
    from uwvcli.app import send as use_case  # the Digipoort stack: only when a command talks to it
    from uwvcli.app.run import today

    app = get_app(ctx)
    cfg = app.load_config(config)
    report = use_case.send(
        cfg,
        today=today(cfg, today_in_amsterdam),
        parallelism=parallelism,
        poll_seconds=poll_seconds,
        progress=lambda line: _progress(app.terminal, line),
    )
    render_report(app.terminal, report)
    raise typer.Exit(use_case.exit_code(report))


def _progress(terminal: Terminal, line: Delivery) -> None:
    """One diagnostic line per message as it settles (shown with -v; cron logs keep them)."""
    if terminal.verbosity > 0:
        terminal.info(f"{line.aanleverkenmerk}: {line.state}")


def explanation(line: Delivery) -> str:
    """Code meaning from the project's table, then Digipoort's own words verbatim, or ours."""
    from uwvcli.digipoort import codes

    parts = []
    if line.code:
        foutcode = line.foutcode if line.foutcode != line.code else None
        parts.append(codes.describe(line.code, foutcode))
    if line.text:
        parts.append(f"Digipoort: {line.text}")
    if line.reason:
        parts.append(line.reason)
    return " — ".join(parts)


def one_line(text: str) -> str:
    """Digipoort's texts span lines; a plain output line (for grep and cron mail) must not."""
    return " ".join(text.split())


def render_report(terminal: Terminal, report: SendReport) -> None:
    """The summary on stdout: a Rich table on a terminal, one plain line per message otherwise."""
    lines = report.lines
    if not lines:
        terminal.out.print("Nothing to send and no open messages.")
        return
    if terminal.out.is_terminal:
        table = Table(title="Digipoort", title_justify="left")
        for header in ("Notification", "Aanleverkenmerk", "State", "Kenmerk", "Explanation"):
            table.add_column(header, overflow="fold")
        for line in lines:
            table.add_row(
                line.key,
                line.aanleverkenmerk,
                Text(line.state, style=STATE_STYLES.get(line.state, "")),
                line.kenmerk or "–",
                explanation(line),
            )
        terminal.out.print(table)
    else:
        for line in lines:
            fields = [
                line.key,
                line.aanleverkenmerk,
                line.state,
                line.kenmerk or "-",
                one_line(explanation(line)),
            ]
            print("\t".join(fields))
    summary = ", ".join(f"{count} {state}" for state, count in sorted(report.counts().items()))
    terminal.out.print(f"Summary: {summary}", markup=False)
