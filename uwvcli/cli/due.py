"""`uwvcli due`: the preview payroll staff use — what is due, late or blocked on a date, and
what comes up within the horizon. Changes nothing. The plan is `app.due.preview`; this module
renders it."""

from __future__ import annotations

import csv
import sys
from datetime import date
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from uwvcli.app import due as use_case
from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, DateOption, FormatOption, OutputFormat, parse_run_date
from uwvcli.cli.output import Streamed, write_json
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Config, InputError, Notification, State

STATE_STYLES = {
    State.DUE: "green",
    State.LATE: "bold red",
    State.BLOCKED: "bold magenta",
    State.UPCOMING: "cyan",
}

CSV_FIELDS = (
    "key",
    "kind",
    "employer_id",
    "employee_id",
    "dossier_id",
    "due_date",
    "deadline",
    "state",
    "problems",
)


@command("due")
def due(
    ctx: typer.Context,
    config: ConfigOption = None,
    run_date: DateOption = "today",
    horizon: Annotated[
        int,
        typer.Option(
            "--horizon", min=0, help="Also list notifications due within this many days after the date."
        ),
    ] = 0,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Preview the notifications due (and late or blocked) on a date; changes nothing.

    Exit code 1 when something needs attention: a blocked or late notification, or an export
    row that could not be read."""
    app = get_app(ctx)
    day = parse_run_date(run_date)
    cfg = app.load_config(config)
    plan = use_case.preview(cfg, day, horizon=horizon)

    if output is OutputFormat.json:
        write_due_json(day, plan.notifications, plan.input_errors)
    elif output is OutputFormat.csv:
        write_csv(plan.notifications)
    elif app.terminal.out.is_terminal:
        render_table(app.terminal, cfg, day, plan.notifications)
    else:
        write_lines(app.terminal, day, plan.notifications)
    report_input_errors(app.terminal, plan.input_errors, quiet_summary=output is not OutputFormat.table)
    raise typer.Exit(use_case.exit_code(plan))


def write_due_json(day: date, notifications: list[Notification], errors: list[InputError]) -> None:
    """CONTRACT §4: one object on stdout, nothing else."""
    document = {
        "date": day.isoformat(),
        "notifications": Streamed(n.to_json() for n in notifications),
        "input_errors": [e.to_json() for e in errors],
    }
    write_json(document)


def write_csv(notifications: list[Notification]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for n in notifications:
        row = n.to_json()
        row["problems"] = "; ".join(map(str, n.problems))
        writer.writerow("" if row[f] is None else row[f] for f in CSV_FIELDS)


def days_left(day: date, deadline: date | None) -> str:
    if deadline is None:
        return "no deadline"
    left = (deadline - day).days
    if left < 0:
        return f"{-left} day{'s' if left != -1 else ''} late"
    if left == 0:
        return "today"
    return f"{left} day{'s' if left != 1 else ''}"


def write_lines(terminal: Terminal, day: date, notifications: list[Notification]) -> None:
    """Not on a terminal (a pipe, cron, a log): one tab-separated line per notification, the
    same columns as the table, no colour and no wrapping."""
    for n in notifications:
        deadline = n.deadline.isoformat() if n.deadline else "-"
        fields = (
            n.due_date.isoformat(),
            str(n.state),
            n.employer_id,
            n.employee_id,
            kind_label(n.kind, n.variant),
            deadline,
            days_left(day, n.deadline),
            "; ".join(map(str, n.problems)),
        )
        typer.echo("\t".join(fields))  # Rich would expand the tabs
    terminal.info(summary(notifications) or f"nothing due on {day.isoformat()}")


def summary(notifications: list[Notification]) -> str:
    counts = {state: sum(1 for n in notifications if n.state is state) for state in State}
    return ", ".join(f"{count} {state}" for state, count in counts.items() if count)


def render_table(terminal: Terminal, config: Config, day: date, notifications: list[Notification]) -> None:
    if not notifications:
        terminal.out.print(f"Nothing due on {day.isoformat()}.")
        return
    table = Table(title=f"UWV notifications on {day.isoformat()}", title_justify="left", expand=False)
    for header in (
        "Employer",
        "Employee",
        "Notification",
        "Due",
        "Deadline",
        "Days left",
        "State",
        "Problems",
    ):
        table.add_column(header, overflow="fold")
    for n in notifications:
        employer = config.employers.get(n.employer_id)
        table.add_row(
            Text(f"{n.employer_id} {employer.name}" if employer else n.employer_id),
            n.employee_id,
            kind_label(n.kind, n.variant),
            n.due_date.isoformat(),
            n.deadline.isoformat() if n.deadline else "–",
            days_left(day, n.deadline),
            Text(str(n.state), style=STATE_STYLES[n.state]),
            Text("\n".join(map(str, n.problems))),
        )
    terminal.out.print(table)
    terminal.out.print(summary(notifications))


def report_input_errors(terminal: Terminal, errors: list[InputError], *, quiet_summary: bool) -> None:
    """Input errors always reach stderr, one line each: file, line, what to do."""
    for error in errors:
        terminal.warning(f"{error.location}: {error.message}")
    if errors and not quiet_summary:
        terminal.warning(f"{len(errors)} export row(s) could not be used; fix them in the HR system.")
