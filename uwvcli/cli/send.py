"""`uwvcli send`: submit every outbox message not yet accepted by Digipoort, exactly once, and
fetch the statuses of the submitted ones. The work is `app.send.send`; this module renders the
summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, today_in_amsterdam
from uwvcli.cli.tables import Column, print_fitted, print_left_out

if TYPE_CHECKING:  # the Digipoort stack is imported only when a command talks to it
    from uwvcli.delivery.loop import Delivery, SendReport

STATE_STYLES = {
    "accepted": "green",
    "delivered": "green",
    "submitted": "cyan",
    "waiting": "yellow",
    "in_doubt": "bold yellow",
    "not_sent": "bold yellow",
    "unverified": "bold yellow",
    "overdue": "bold yellow",
    "parked": "bold magenta",
    "refused": "bold red",
    "rejected": "bold red",
    "failed": "bold red",
}

#: States that need nothing more from anyone.
SETTLED = frozenset({"accepted", "delivered"})

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


@command("send", tables=True)
def send(
    ctx: typer.Context,
    config: ConfigOption = None,
    parallelism: ParallelismOption = 4,
    poll_seconds: PollSecondsOption = 60.0,
) -> None:
    """Submit every outbox message not yet accepted by Digipoort; fetch new statuses.

    Exit code 1 when something needs a person: a message rejected, failed, refused (changed after
    signing), in doubt, parked (in doubt and not reconcilable), not sent, with status answers that
    cannot be verified, or overdue (submitted days ago, no final status); 75 when another run holds
    the lock."""
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
    """Code meaning from the project's table, then Digipoort's own words verbatim when they say
    more than the code's name, or ours."""
    from uwvcli.digipoort import codes

    parts = []
    if line.code:
        foutcode = line.foutcode if line.foutcode != line.code else None
        parts.append(codes.describe_with_text(line.code, foutcode, line.text))
    elif line.text:
        parts.append(f"Digipoort: {line.text}")
    if line.reason:
        parts.append(line.reason)
    return " — ".join(parts)


def one_line(text: str) -> str:
    """Digipoort's texts span lines; a plain output line (for grep and cron mail) must not."""
    return " ".join(text.split())


#: The summary's columns; what does not fit is listed under the table, a line per message.
TABLE_COLUMNS = (
    Column("Notification"),
    Column("Aanleverkenmerk", drop=1),
    Column("State"),
    Column("Kenmerk", drop=2),
    Column("Explanation", drop=3, free_text=True),
)


def render_report(terminal: Terminal, report: SendReport) -> None:
    """The summary on stdout: a Rich table on a terminal, one plain line per message otherwise."""
    lines = report.lines
    if not lines:
        terminal.out.print("Nothing to send and no open messages.")
        return
    if terminal.out.is_terminal:
        rows = [
            (
                str(line.key),
                line.aanleverkenmerk,
                Text(line.state, style=STATE_STYLES.get(line.state, "")),
                line.kenmerk or "–",
                Text(explanation(line)),
            )
            for line in lines
        ]
        wide = getattr(terminal, "wide", False)
        shown = print_fitted(terminal.out, "Digipoort", TABLE_COLUMNS, rows, wide=wide)
        for line in lines:
            if line.state in SETTLED:
                continue  # done: its kenmerk is in `uwvcli status`; under the table only what needs a person
            kenmerk = "" if "Kenmerk" in shown or not line.kenmerk else f"kenmerk {line.kenmerk}"
            said = "" if "Explanation" in shown else one_line(explanation(line))
            print_left_out(terminal.out, str(line.key), [kenmerk, said])
    else:
        for line in lines:
            fields = [
                str(line.key),
                line.aanleverkenmerk,
                line.state,
                line.kenmerk or "-",
                one_line(explanation(line)),
            ]
            print("\t".join(fields))
    summary = ", ".join(f"{count} {state}" for state, count in sorted(report.counts().items()))
    terminal.out.print(f"Summary: {summary}", markup=False)
