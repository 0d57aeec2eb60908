"""`uwvcli recover`: a person's decision after the journal was lost (or restored from an old
backup): rebuild what it knew from the outbox files uwvcli can verify and Digipoort's process
list, adopting what Digipoort already has instead of sending it again (app/recovery.py)."""

from __future__ import annotations

import typer

from uwvcli.cli.app import command, get_app
from uwvcli.cli.options import ConfigOption, DateOption, parse_run_date


@command("recover")
def recover(ctx: typer.Context, config: ConfigOption = None, run_date: DateOption = "today") -> None:
    """Rebuild a lost journal (or one restored from an old backup) from the outbox and Digipoort.

    Reads every outbox message the journal does not know as submitted, checks its signature and
    the aanleverkenmerk inside, matches it to a notification of the exports on the date, and asks
    Digipoort (getProcessen) which processes it has for each sender. A sender without unknown
    processes: its messages are journalled as not yet sent (the next run sends each once). A message
    whose receipt names one of the sender's unknown processes adopts it (never sent again). The
    others are parked for `uwvcli resolve`. Sends nothing. Exit code 1 when something was parked or
    left alone, 75 when a run holds the lock."""
    app = get_app(ctx)
    day = parse_run_date(run_date)
    cfg = app.load_config(config)
    from uwvcli.app.recovery import recover_under_lock  # slow imports: only for this command

    report = recover_under_lock(cfg, day)
    out = app.terminal.out
    for key, kenmerk in report.adopted:
        out.print(f"adopted\t{key}\t{kenmerk}\tDigipoort has it: followed, never sent again", markup=False)
    for key, candidates in report.parked:
        out.print(f"parked\t{key}\t-\tone of {', '.join(candidates)}: `uwvcli resolve`", markup=False)
    for key in report.unsent:
        out.print(
            f"unsent\t{key}\t-\tnothing at Digipoort for its sender: the next run sends it", markup=False
        )
    for kenmerk in report.unexplained:
        app.terminal.warning(
            f"Digipoort process {kenmerk}: no outbox message of its sender is left to be it; check it with "
            "Logius or in the UWV portal (from now on only newer unknown processes stop a sender)"
        )
    for path, why in report.unmatched:
        app.terminal.warning(f"{path.name}: left alone ({why}); the next run sets it aside, unsent")
    app.terminal.info(
        f"recover: {len(report.adopted)} adopted, {len(report.parked)} parked, {len(report.unsent)} unsent, "
        f"{len(report.unmatched)} left alone; {report.senders} sender(s) asked at Digipoort"
    )
    raise typer.Exit(report.exit_code)
