"""`uwvcli status`: the "UWV interface overzicht" — every notification the journal knows, its
state, its Digipoort references and the last status Digipoort reported, with its meaning.

The rows come from `app.status.overview`; this module renders them as a table, lines, JSON or CSV."""

from __future__ import annotations

import csv
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from uwvcli.app.status import FIELDS, exit_code, overview
from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, FormatOption, OutputFormat, parse_run_date
from uwvcli.cli.output import write_json
from uwvcli.cli.send import STATE_STYLES, one_line
from uwvcli.domain.keys import parse_key
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Config, Kind
from uwvcli.state.journal import JournalState


@command("status")
def status(
    ctx: typer.Context,
    config: ConfigOption = None,
    employer: Annotated[str | None, typer.Option("--employer", "-e", help="Only this employer id.")] = None,
    state: Annotated[JournalState | None, typer.Option("--state", "-s", help="Only this state.")] = None,
    kind: Annotated[Kind | None, typer.Option("--kind", "-k", help="Only this kind of notification.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only notifications changed on or after: YYYY-MM-DD, today, yesterday."),
    ] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Overview of all notifications and their Digipoort statuses (the UWV interface overzicht).

    Exit code 1 when a listed notification needs a person: blocked, in doubt, parked, rejected,
    failed or refused."""
    app = get_app(ctx)
    cfg = app.load_config(config)
    changed_since = _since(since)
    if employer is not None and employer not in cfg.employers:
        app.terminal.warning(
            f"--employer {employer}: no such employer id in {cfg.source.name}; "
            "listing what the journal still knows of it"
        )
    rows = overview(cfg, employer_id=employer, state=state, kind=kind, since=changed_since)
    if output is OutputFormat.json:
        write_json({"notifications": rows})
    elif output is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(FIELDS)
        writer.writerows([_csv_value(row[f]) for f in FIELDS] for row in rows)
    else:
        render(app.terminal, cfg, rows)
    raise typer.Exit(exit_code(rows))


def _csv_value(value: object) -> object:
    """A cell: empty for null, a list (the findings) as one line joined by " | "."""
    if value is None:
        return ""
    return " | ".join(value) if isinstance(value, list) else value


def _since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_run_date(value)
    except typer.BadParameter:
        raise typer.BadParameter(
            f"{value!r} is not a date: write YYYY-MM-DD, 'today' or 'yesterday'.", param_hint="--since"
        ) from None


def render(terminal: Terminal, config: Config, rows: list[dict[str, Any]]) -> None:
    """A Rich table on a terminal; one tab-separated line per notification otherwise."""
    if not rows:
        terminal.out.print("No notifications in the journal (yet).")
        return
    if not terminal.out.is_terminal:
        for row in rows:
            fields = [
                row["key"],
                row["state"],
                row["aanleverkenmerk"],
                row["kenmerk"],
                one_line(_explanation(row)),
            ]
            print("\t".join(field or "-" for field in fields))
        return
    table = Table(title="UWV interface overzicht", title_justify="left")
    for header in (
        "Employer",
        "Employee",
        "Notification",
        "Due",
        "Deadline",
        "State",
        "Aanleverkenmerk",
        "Kenmerk",
        "Last status",
    ):
        table.add_column(header, overflow="fold")
    for row in rows:
        employer = config.employers.get(row["employer_id"] or "")
        table.add_row(
            f"{row['employer_id']} {employer.name}" if employer else row["employer_id"],
            row["employee_id"],
            kind_label(Kind(row["kind"]), parse_key(row["key"]).variant),
            row["due_date"],
            row["deadline"] or "–",
            Text(row["state"] or "", style=STATE_STYLES.get(row["state"] or "", "")),
            row["aanleverkenmerk"] or "–",
            row["kenmerk"] or "–",
            _explanation(row),
        )
    terminal.out.print(table)


def _explanation(row: dict[str, Any]) -> str:
    """The code's meaning, Digipoort's own words verbatim, uwvcli's reason where it has one, and
    the first of UWV's findings (with how many more: `explain --kenmerk` lists them all)."""
    parts = [row["status_meaning"], row["foutbeschrijving"] or row["status_text"], row["reason"]]
    found = row["findings"]
    if found:
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        parts.append(f"finding: {found[0]}{more}")
    return " — ".join(p for p in parts if p)
