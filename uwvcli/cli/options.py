"""Options shared by several commands, declared once so every command spells them alike."""

from __future__ import annotations

import typing
from datetime import date, datetime, timedelta
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from uwvcli.domain.keys import AnyKey, InvalidKey, parse_key

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        help="Configuration file (default: $UWVCLI_CONFIG, else ./uwvcli.yaml, else /etc/uwvcli/uwvcli.yaml)",
        show_default=False,
    ),
]

DateOption = Annotated[
    str,
    typer.Option("--date", "-d", help="Run date: YYYY-MM-DD, 'today' or 'yesterday' (Europe/Amsterdam)."),
]

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output: a table for people, json or csv for programs."),
]


def today_in_amsterdam() -> date:
    return datetime.now(AMSTERDAM).date()


def parse_run_date(value: str) -> date:
    """`today`, `yesterday` or an ISO date; anything else is a usage error (exit 2)."""
    word = value.strip().lower()
    if word == "today":
        return today_in_amsterdam()
    if word == "yesterday":
        return today_in_amsterdam() - timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date: write YYYY-MM-DD, 'today' or 'yesterday'.", param_hint="--date"
        ) from None


def parse_since(value: str | None) -> date | None:
    """`--since`: a date as `parse_run_date` reads it, or None when not given."""
    if value is None:
        return None
    try:
        return parse_run_date(value)
    except typer.BadParameter:
        raise typer.BadParameter(
            f"{value!r} is not a date: write YYYY-MM-DD, 'today' or 'yesterday'.", param_hint="--since"
        ) from None


#: Metavars of `--help` by option: what to write there, in the words of the help text.
_METAVARS = {
    "--config": "FILE",
    "--log-file": "FILE",
    "--output": "FILE",
    "--trust": "FILE",
    "--folder": "DIR",
    "--date": "DATE",
    "--since": "DATE",
    "--horizon": "DAYS",
    "--poll-seconds": "SECONDS",
    "--step": "SECONDS",
    "--parallelism": "N",
    "--employer": "ID",
    "--kenmerk": "KENMERK",
    "--port": "PORT",
    "--host": "HOST",
    "--phase": "PHASE",
    "--scenario": "MARKERS",
    "--lifecycle": "NAME",
    "--reason": "TEXT",
}
_METAVARS_BY_TYPE: dict[object, str] = {Path: "FILE", int: "N", float: "NUMBER", date: "DATE", str: "TEXT"}


def metavar_for(option: str, annotation: object) -> str | None:
    """The metavar of `option` (`--horizon` → `DAYS`), or None for a flag or a choice, whose
    `--help` already says what to write."""
    base = next((arg for arg in typing.get_args(annotation) if arg is not type(None)), annotation)
    if typing.get_origin(base) is list:
        base = typing.get_args(base)[0]
    if base is bool or (isinstance(base, type) and issubclass(base, Enum)):
        return None
    return _METAVARS.get(option) or _METAVARS_BY_TYPE.get(base, "TEXT")


_KEY_HELP = "The notification's key as `uwvcli status` shows it (WG001/Z-17/zw-ziekmelding)."

KeyArgument = Annotated[str, typer.Argument(metavar="KEY", help=_KEY_HELP, show_default=False)]

#: `KeyArgument` where a command may be given one key or none (`uwvcli status [KEY]`).
OptionalKeyArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="KEY", help=f"{_KEY_HELP} Given: that notification's history.", show_default=False
    ),
]


def checked_key(value: str) -> AnyKey:
    """The key a person typed (`uwvcli status` shows them; a withdrawal's is one too), refused as a
    usage error when it cannot be one, before the journal is opened."""
    try:
        return parse_key(value.strip())
    except InvalidKey as error:
        raise typer.BadParameter(
            f"{error}: copy the key exactly as `uwvcli status` shows it", param_hint="'KEY'"
        ) from None
