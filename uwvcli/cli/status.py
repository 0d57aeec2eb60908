"""`uwvcli status`: the "UWV interface overzicht" — every notification the journal knows, its
state, its Digipoort references and the last status Digipoort reported, with its meaning; and
`uwvcli status KEY`: one notification's history, in time order.

The rows come from `app.status.overview`, the history from `app.history.history`; this module
renders them as a table, lines, JSON or CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.text import Text

from uwvcli.app import history as story
from uwvcli.app.status import FIELDS, exit_code, overview
from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import (
    AMSTERDAM,
    ConfigOption,
    FormatOption,
    OptionalKeyArgument,
    OutputFormat,
    checked_key,
    parse_since,
)
from uwvcli.cli.output import (
    ExcelOption,
    OutputFileOption,
    csv_document,
    csv_or_json,
    deliver,
    deliver_json,
)
from uwvcli.cli.send import STATE_STYLES, one_line
from uwvcli.cli.tables import Column, print_fitted, print_left_out
from uwvcli.domain.keys import parse_key
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Config, Kind
from uwvcli.state.journal import JournalState


@command("status", tables=True)
def status(
    ctx: typer.Context,
    key: OptionalKeyArgument = None,
    config: ConfigOption = None,
    employer: Annotated[str | None, typer.Option("--employer", "-e", help="Only this employer id.")] = None,
    state: Annotated[JournalState | None, typer.Option("--state", "-s", help="Only this state.")] = None,
    kind: Annotated[Kind | None, typer.Option("--kind", "-k", help="Only this kind of notification.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only notifications changed on or after: YYYY-MM-DD, today, yesterday."),
    ] = None,
    output: FormatOption = OutputFormat.table,
    excel: ExcelOption = False,
    output_file: OutputFileOption = None,
) -> None:
    """Overview of all notifications and their Digipoort statuses (the UWV interface overzicht);
    with KEY, that notification's history: every revision sent, its withdrawals and their statuses.

    Exit code 1 when a listed notification (with KEY: it or one of its withdrawals) needs a
    person: blocked, in doubt, parked, rejected, failed or refused; with KEY also when the journal
    does not know it."""
    app = get_app(ctx)
    output = OutputFormat(csv_or_json(output, excel, output_file))
    if key is not None:
        filters = {"--employer": employer, "--state": state, "--kind": kind, "--since": since}
        given = [name for name, value in filters.items() if value is not None]
        if given:
            ctx.fail(f"{', '.join(given)}: a filter lists notifications; with KEY there is one to show")
        if output is OutputFormat.csv:
            raise typer.BadParameter("the history of one key is a table or json", param_hint="--format")
        asked = checked_key(key)
        document = story.history(app.load_config(config), asked)
        if output is OutputFormat.json:
            deliver_json(document, output_file)
        else:
            render_history(app.terminal, document)
        raise typer.Exit(story.exit_code(document))
    cfg = app.load_config(config)
    changed_since = parse_since(since)
    if employer is not None and employer not in cfg.employers:
        app.terminal.warning(
            f"--employer {employer}: no such employer id in {cfg.source.name}; "
            "listing what the journal still knows of it"
        )
    rows = overview(cfg, employer_id=employer, state=state, kind=kind, since=changed_since)
    if output is OutputFormat.json:
        deliver_json({"notifications": rows}, output_file)
    elif output is OutputFormat.csv:
        table = ([_csv_value(row[f]) for f in FIELDS] for row in rows)
        deliver(csv_document(FIELDS, table, excel=excel), output_file)
    else:
        filtered = any(value is not None for value in (employer, state, kind, changed_since))
        render(app.terminal, cfg, rows, filtered=filtered)
    raise typer.Exit(exit_code(rows))


def _csv_value(value: object) -> object:
    """A cell: empty for null, a list (the findings) as one line joined by " | "."""
    if value is None:
        return ""
    return " | ".join(value) if isinstance(value, list) else value


#: The overzicht's columns. On a narrow terminal the employer's name goes first, then the dates
#: and the aanleverkenmerk; the kenmerk and the last status, when they do not fit, are listed under
#: the table, one line per notification (a kenmerk is never wrapped: it is copied from here).
TABLE_COLUMNS = (
    Column("Employer"),
    Column("Name", drop=1),
    Column("Employee"),
    Column("Notification"),
    Column("Due", drop=2),
    Column("Deadline", drop=3),
    Column("State"),
    Column("Aanleverkenmerk", drop=4),
    Column("Kenmerk", drop=5),
    Column("Last status", drop=6, free_text=True),
)


def render(terminal: Terminal, config: Config, rows: list[dict[str, Any]], *, filtered: bool = False) -> None:
    """A Rich table on a terminal; one tab-separated line per notification otherwise."""
    if not rows:
        message = (
            "No notifications match the filter." if filtered else "Nothing done yet: the journal is empty."
        )
        terminal.out.print(message)
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
    table_rows = []
    for row in rows:
        employer = config.employers.get(row["employer_id"] or "")
        table_rows.append(
            (
                row["employer_id"] or "",
                Text(employer.name if employer else ""),
                row["employee_id"] or "",
                kind_label(Kind(row["kind"]), parse_key(row["key"]).variant),
                row["due_date"],
                row["deadline"] or "–",
                Text(row["state"] or "", style=STATE_STYLES.get(row["state"] or "", "")),
                row["aanleverkenmerk"] or "–",
                row["kenmerk"] or "–",
                Text(_explanation(row)),
            )
        )
    wide = getattr(terminal, "wide", False)
    shown = print_fitted(terminal.out, "UWV interface overzicht", TABLE_COLUMNS, table_rows, wide=wide)
    if {"Kenmerk", "Last status"} <= shown:
        return
    for row in rows:
        kenmerk = "" if "Kenmerk" in shown or not row["kenmerk"] else f"kenmerk {row['kenmerk']}"
        last = "" if "Last status" in shown else one_line(_explanation(row))
        print_left_out(terminal.out, row["key"], [kenmerk, last])


def _explanation(row: dict[str, Any]) -> str:
    """The code's meaning, Digipoort's own words verbatim (when they are not the code's name
    again), uwvcli's reason where it has one, and the first of UWV's findings (with how many
    more: `explain --kenmerk` lists them all). Each said once."""
    from uwvcli.digipoort import codes  # the table loads only when a status is shown

    meaning = (
        codes.describe_with_text(
            row["status_code"], row["foutcode"], row["foutbeschrijving"] or row["status_text"]
        )
        if row["status_code"]
        else None
    )
    parts = [meaning, row["reason"]]
    found = row["findings"]
    if found:
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        parts.append(f"finding: {found[0]}{more}")
    return " — ".join(p for p in parts if p)


# ---------------------------------------------------------------- status KEY: one history

#: The history's columns; on a narrow terminal the aanleverkenmerk goes first, then the kenmerk
#: (the details of a submission name its kenmerk too).
HISTORY_COLUMNS = (
    Column("When (Amsterdam)"),
    Column("Message"),
    Column("Event"),
    Column("Aanleverkenmerk", drop=1),
    Column("Kenmerk", drop=2),
    Column("Details", free_text=True),
)


def render_history(terminal: Terminal, document: dict[str, Any]) -> None:
    """What the notification is now and why each withdrawal exists, then every event: a Rich
    table on a terminal, tab-separated lines otherwise."""
    summary = [_now_line(document), *(_withdrawal_line(w) for w in document["withdrawals"])]
    events = document["events"]
    if not terminal.out.is_terminal:
        for line in summary:
            print(line)
        for event in events:
            fields = [
                _local(event["at"]),
                event["message"],
                event["event"],
                event["kenmerk"],
                one_line(event["detail"]),
            ]
            print("\t".join(field or "-" for field in fields))
        return
    for line in summary:
        terminal.out.print(Text(line))
    if document["facts"]:
        facts = ", ".join(f"{path} {value}" for path, value in document["facts"].items() if value)
        terminal.out.print(Text(f"facts kept of revision {document['revision']}: {facts}", style="dim"))
    rows = [
        (
            _local(event["at"]),
            Text(event["message"]),
            Text(event["event"], style=_event_style(event)),
            event["aanleverkenmerk"] or "–",
            event["kenmerk"] or "–",
            Text(event["detail"]),
        )
        for event in events
    ]
    wide = getattr(terminal, "wide", False)
    print_fitted(terminal.out, f"History of {document['key']}", HISTORY_COLUMNS, rows, wide=wide)


def _now_line(document: dict[str, Any]) -> str:
    current = document["current"]
    parts = [f"{document['key']}: {document['state']}", f"revision {document['revision']}"]
    if current["kenmerk"]:
        parts.append(f"kenmerk {current['kenmerk']}")
    parts.append(
        f"due {current['due_date']}" + (f", deadline {current['deadline']}" if current["deadline"] else "")
    )
    if current["reason"]:
        parts.append(one_line(current["reason"]))
    return " · ".join(parts)


def _withdrawal_line(withdrawal: dict[str, Any]) -> str:
    replaced = withdrawal["replaced_by_revision"]
    then = f" · replaced by revision {replaced}" if replaced else ""
    return f"{withdrawal['key']}: {withdrawal['state']} · {withdrawal['why']}{then}"


def _event_style(event: dict[str, Any]) -> str:
    if event["code"] is None:
        return ""
    from uwvcli.digipoort import codes

    outcome = codes.outcome(event["code"])
    return STATE_STYLES.get(outcome or "", "")


def _local(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M:%S")
