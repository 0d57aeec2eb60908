"""`uwvcli check`: validate the configuration and the dossier exports before cron does; the
checking is `app.check.check`, this module renders its findings.

Lists every problem at once — configuration errors, unreadable exports, rows that cannot be used
(including the rules' cross-row overlaps), configuration values that will block notifications —
plus the hand-over list: notifications due before an employer's start date whose deadline is on or
after it, which the previous system should have sent. Exit 2: the configuration or an export is
unusable; 1: rows or values need fixing; 0: nothing is wrong (the hand-over list is information).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from uwvcli.app import check as use_case
from uwvcli.app.check import CheckResult, Finding
from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, DateOption, parse_run_date
from uwvcli.cli.output import write_json
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Notification
from uwvcli.errors import ConfigError

HANDOVER_TITLE = "hand-over: confirm the previous system sent these"


class CheckFormat(StrEnum):
    table = "table"
    json = "json"


CheckFormatOption = Annotated[
    CheckFormat, typer.Option("--format", "-f", help="Output: a list for people, or json for programs.")
]


@command("check")
def check(
    ctx: typer.Context,
    config: ConfigOption = None,
    run_date: DateOption = "today",
    output: CheckFormatOption = CheckFormat.table,
    smtp: Annotated[
        bool,
        typer.Option("--smtp", help="Also talk to the configured SMTP server (EHLO, NOOP, QUIT; no mail)."),
    ] = False,
) -> None:
    """Validate the configuration and the dossier exports; list every problem with file and line.

    The go-live check too: what `run` would stop on (the sender's key and certificate, the CA
    bundle and service certificate, the state and outbox folders), a certificate that expires
    within 30 days, and with --smtp whether the mail server answers.

    Exit code 2 when the configuration or an export file is unusable, 1 when rows or configured
    values need fixing, 0 when nothing is wrong."""
    app = get_app(ctx)
    day = parse_run_date(run_date)
    source = str(app.config_path(config))
    try:
        cfg = app.load_config(config)
    except ConfigError as error:
        result = use_case.unusable_config(error, source, day)
    else:
        result = use_case.check(cfg, source, day, smtp=smtp)
    finish(app.terminal, output, result)


def finish(terminal: Terminal, output: CheckFormat, result: CheckResult) -> None:
    """Render and leave with the exit code of `app.check.exit_code`."""
    source, errors, warnings = result.source, result.errors, result.warnings
    if output is CheckFormat.json:
        document = {
            "config": source,
            "date": result.day.isoformat(),
            "usable": not result.unusable,
            "dossiers": result.dossiers,
            "errors": errors,
            "warnings": warnings,
            "problems": [f.to_json() for f in result.findings],
            "handover": [n.to_json() for n in result.handover],
        }
        write_json(document)
    else:
        render_findings(terminal, result.findings)
        render_handover(terminal, result.handover)
    if result.unusable:
        terminal.error(
            f"{source}: not usable ({errors} error(s)): fix these first; `uwvcli run` would stop here."
        )
    elif result.findings:
        terminal.warning(f"{errors} export or configuration error(s), {warnings} warning(s).")
    else:
        terminal.success(f"{source}: configuration and {result.dossiers} dossier(s) OK.")
    raise typer.Exit(use_case.exit_code(result))


def render_findings(terminal: Terminal, findings: list[Finding]) -> None:
    if not findings:
        return
    if terminal.out.is_terminal:
        table = Table(title="Problems", title_justify="left")
        for header in ("Severity", "Where", "Field", "Problem"):
            table.add_column(header, overflow="fold")
        for f in findings:
            style = "bold red" if f.severity == "error" else "yellow"
            table.add_row(
                Text(f.severity, style=style), Text(f.where()), Text(f.field or ""), Text(f.message)
            )
        terminal.out.print(table)
        return
    for f in findings:
        field = f" {f.field}:" if f.field and not f.message.startswith(f.field) else ""
        terminal.out.print(f"{f.severity.upper()} {f.where()}:{field} {f.message}", markup=False)


def render_handover(terminal: Terminal, handover: list[Notification]) -> None:
    if not handover:
        return
    if terminal.out.is_terminal:
        table = Table(title=HANDOVER_TITLE, title_justify="left")
        for header in ("Employer", "Employee", "Dossier", "Notification", "Due", "Deadline"):
            table.add_column(header, overflow="fold")
        for n in handover:
            cells = (
                n.employer_id,
                n.employee_id,
                n.dossier_id,
                kind_label(n.kind, n.variant),
                n.due_date.isoformat(),
                n.deadline.isoformat() if n.deadline else "–",
            )
            table.add_row(*(Text(cell) for cell in cells))  # ids from the export are never markup
        terminal.out.print(table)
        return
    terminal.out.print(f"{HANDOVER_TITLE}:", markup=False)
    for n in handover:
        deadline = n.deadline.isoformat() if n.deadline else "none"
        terminal.out.print(f"  {n.key} due {n.due_date.isoformat()} deadline {deadline}", markup=False)
