"""Options shared by several commands, declared once so every command spells them alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

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
        help="Configuration file (default: $UWVCLI_CONFIG, else ./uwvcli.yaml).",
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
