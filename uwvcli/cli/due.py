"""`uwvcli due`: the preview payroll staff use — what is due, late or blocked on a date, and
what comes up within the horizon. Changes nothing. The plan is `app.due.preview`; this module
renders it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

import typer
from rich.text import Text

from uwvcli.app import due as use_case
from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, DateOption, FormatOption, OutputFormat, parse_run_date
from uwvcli.cli.output import (
    ExcelOption,
    OutputFileOption,
    Streamed,
    csv_document,
    csv_or_json,
    deliver,
    deliver_json,
)
from uwvcli.cli.tables import Column, print_fitted, print_left_out
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


@command("due", tables=True)
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
    excel: ExcelOption = False,
    output_file: OutputFileOption = None,
) -> None:
    """Preview the notifications due (and late or blocked) on a date; changes nothing.

    With a state database it also lists the withdrawals the next run on that date sends
    (action withdraw: those in the outbox and those it decides after a correction), each
    followed by its corrected notification as upcoming; those the safety brake would hold are
    blocked.

    Exit code 1 when something needs attention: a blocked or late notification, or an export
    row that could not be read."""
    app = get_app(ctx)
    day = parse_run_date(run_date)
    output = OutputFormat(csv_or_json(output, excel, output_file))
    cfg = app.load_config(config)
    plan = use_case.preview(cfg, day, horizon=horizon)

    if output is OutputFormat.json:
        deliver_json(due_document(day, plan.notifications, plan.input_errors), output_file)
    elif output is OutputFormat.csv:
        deliver(csv_document(CSV_FIELDS, csv_rows(plan.notifications), excel=excel), output_file)
    elif app.terminal.out.is_terminal:
        render_table(app.terminal, cfg, day, plan.notifications)
    else:
        write_lines(app.terminal, day, plan.notifications)
    report_input_errors(app.terminal, plan.input_errors, quiet_summary=output is not OutputFormat.table)
    raise typer.Exit(use_case.exit_code(plan))


def due_document(day: date, notifications: list[Notification], errors: list[InputError]) -> dict[str, object]:
    """CONTRACT §4: one object on stdout, nothing else."""
    return {
        "date": day.isoformat(),
        "notifications": Streamed(n.to_json() for n in notifications),
        "input_errors": [e.to_json() for e in errors],
    }


def csv_rows(notifications: list[Notification]) -> Iterator[list[object]]:
    for n in notifications:
        row = n.to_json()
        row["problems"] = "; ".join(map(str, n.problems))
        yield ["" if row[f] is None else row[f] for f in CSV_FIELDS]


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


#: The table's columns; on a narrow terminal the employer's name goes first, then the days left
#: and the due date (the deadline is what counts), then the problems, listed under the table.
TABLE_COLUMNS = (
    Column("Employer"),
    Column("Name", drop=1),
    Column("Employee"),
    Column("Notification"),
    Column("Due", drop=3),
    Column("Deadline"),
    Column("Days left", drop=2),
    Column("State"),
    Column("Problems", drop=4, free_text=True),
)


def render_table(terminal: Terminal, config: Config, day: date, notifications: list[Notification]) -> None:
    if not notifications:
        terminal.out.print(f"Nothing due on {day.isoformat()}.")
        return
    rows = []
    for n in notifications:
        employer = config.employers.get(n.employer_id)
        rows.append(
            (
                n.employer_id,
                Text(employer.name if employer else ""),
                n.employee_id,
                kind_label(n.kind, n.variant),
                n.due_date.isoformat(),
                n.deadline.isoformat() if n.deadline else "–",
                days_left(day, n.deadline),
                Text(str(n.state), style=STATE_STYLES[n.state]),
                Text("\n".join(map(str, n.problems))),
            )
        )
    title = f"UWV notifications on {day.isoformat()}"
    shown = print_fitted(terminal.out, title, TABLE_COLUMNS, rows, wide=getattr(terminal, "wide", False))
    if "Problems" not in shown:
        for n in notifications:
            print_left_out(terminal.out, str(n.key), [str(problem) for problem in n.problems])
    terminal.out.print(summary(notifications))


def report_input_errors(terminal: Terminal, errors: list[InputError], *, quiet_summary: bool) -> None:
    """Input errors always reach stderr, one line each: file, line, what to do."""
    for error in errors:
        terminal.warning(f"{error.location}: {error.message}")
    if errors and not quiet_summary:
        terminal.warning(f"{len(errors)} export row(s) could not be used; fix them in the HR system.")
