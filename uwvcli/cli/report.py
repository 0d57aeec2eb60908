"""`uwvcli report`: the overview payroll staff open in a browser — one self-contained HTML file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from uwvcli.app.report import DEFAULT_HORIZON, write_report
from uwvcli.cli.app import command, get_app
from uwvcli.cli.options import AMSTERDAM, ConfigOption, DateOption, parse_run_date, parse_since


@command("report")
def report(
    ctx: typer.Context,
    config: ConfigOption = None,
    run_date: DateOption = "today",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the page here (default: <state folder>/reports/overzicht-<date>.html).",
            show_default=False,
        ),
    ] = None,
    horizon: Annotated[
        int,
        typer.Option(
            "--horizon",
            min=0,
            max=366,
            metavar="DAYS",
            help="How many days after the date the calendar shows.",
        ),
    ] = DEFAULT_HORIZON,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Also list the settled notifications (accepted, withdrawn, cancelled) changed on or "
            "after this date: YYYY-MM-DD, today, yesterday (default: 12 weeks before the date). "
            "Those not settled are always listed.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the overview of the notifications as one HTML file (Dutch), for payroll staff.

    Per employer every notification of the last 12 weeks (and every older one not settled) with
    its state, deadline and last Digipoort status, what needs attention first; a calendar of what
    is due within the horizon; a chart per week; filters by employer, kind and state. The file
    needs no network (mail it, or put it on a share) and holds personnel numbers only: no BSN,
    names or birth dates. Reads the journal and the exports only: no lock, no Digipoort.

    Example: uwvcli report --config uwvcli.yaml --output /srv/share/uwv-overzicht.html"""
    app = get_app(ctx)
    day = parse_run_date(run_date)
    cfg = app.load_config(config)
    path = write_report(
        cfg, day, horizon=horizon, since=parse_since(since), now=datetime.now(AMSTERDAM), output=output
    )
    typer.echo(str(path))
