"""`uwvcli resolve`: a person's answer for a message uwvcli could not settle itself.

A message is parked when reconciliation cannot tell whether Digipoort received it (several
unknown processes could be it). uwvcli never guesses and never resends it; a person checks the
process list with Logius or in the UWV portal and tells uwvcli what they found: "received, as
process K" or "never received". This command checks the answer and records it with
`app.resolve.resolve`, so that the next `run`/`send` follows the process or submits the message
once. It does not contact Digipoort."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from uwvcli.app import resolve as use_case
from uwvcli.cli.app import command, get_app
from uwvcli.cli.options import ConfigOption, KeyArgument, checked_key
from uwvcli.cli.output import write_json
from uwvcli.errors import EXIT_OK
from uwvcli.state.journal import Entry, JournalState

#: Digipoort's kenmerk is a koppelvlak `text40`: a collapsed string of at most 40 characters.
KENMERK_MAX_LENGTH = 40


class ResolveFormat(StrEnum):
    table = "table"
    json = "json"


@command("resolve")
def resolve(
    ctx: typer.Context,
    key: KeyArgument,
    kenmerk: Annotated[
        str | None,
        typer.Option(
            "--kenmerk",
            help="Digipoort did receive it as this process (the kenmerk Logius or the UWV portal shows).",
            show_default=False,
        ),
    ] = None,
    not_received: Annotated[
        bool,
        typer.Option("--not-received", help="It never reached Digipoort: submit it again on the next run."),
    ] = False,
    config: ConfigOption = None,
    output: Annotated[
        ResolveFormat,
        typer.Option("--format", "-f", help="A line for people, or json for programs."),
    ] = ResolveFormat.table,
) -> None:
    """Settle a parked (or in-doubt) message by hand, once its process list was checked with
    Logius or in the UWV portal.

    Give exactly one of --kenmerk (it arrived: uwvcli follows that process from now on) and
    --not-received (it never arrived: the next run or send submits it once). Changes only the
    journal and never contacts Digipoort. Exit code 2 when nothing was changed (unknown key, a
    message that is not parked or in doubt, a kenmerk that belongs to another message); 75 when
    a run holds the lock."""
    adopted = _chosen_kenmerk(ctx, kenmerk, not_received)
    notification = checked_key(key)
    app = get_app(ctx)
    cfg = app.load_config(config)
    resolution = use_case.resolve(cfg, notification, kenmerk=adopted)
    before, after = resolution.before, resolution.after
    if output is ResolveFormat.json:
        write_json(
            {"key": str(notification), "from": str(before.state), "to": str(after.state), "kenmerk": adopted}
        )
    else:
        app.terminal.out.print(_outcome(before, after), markup=False)
    raise typer.Exit(EXIT_OK)


def _chosen_kenmerk(ctx: typer.Context, kenmerk: str | None, not_received: bool) -> str | None:
    """The kenmerk to adopt, or None for "not received". Exactly one answer must be given:
    guessing which one was meant could send a message twice or lose it."""
    if (kenmerk is None) == (not not_received):
        ctx.fail(
            "give exactly one of --kenmerk KENMERK (Digipoort received it as that process) and "
            "--not-received (it never reached Digipoort)"
        )
    return None if kenmerk is None else checked_kenmerk(kenmerk)


def checked_kenmerk(value: str) -> str:
    """A kenmerk as Digipoort writes one (koppelvlak `text40`): not empty, at most 40 printable
    characters, no whitespace inside. A typing or copying slip is caught here, before it becomes
    a process uwvcli asks Digipoort about on every run."""
    text = value.strip()
    if not text:
        problem = "is empty"
    elif len(text) > KENMERK_MAX_LENGTH:
        problem = f"has {len(text)} characters; Digipoort's kenmerken have at most {KENMERK_MAX_LENGTH}"
    elif not text.isprintable() or any(c.isspace() for c in text):
        problem = "contains spaces or control characters"
    else:
        return text
    raise typer.BadParameter(
        f"{value!r} {problem}: copy the kenmerk exactly as Logius or the UWV portal shows it",
        param_hint="'--kenmerk'",
    )


def _outcome(before: Entry, after: Entry) -> str:
    """One line: what changed, and what the next run will do with it."""
    change = f"{after.key}: was {before.state}, now {after.state}"
    if after.state == JournalState.SUBMITTED:
        return (
            f"{change} as Digipoort process {after.kenmerk}. The next `uwvcli run` or `uwvcli send` "
            "follows its statuses; it is not sent again."
        )
    return f"{change}. The next `uwvcli run` or `uwvcli send` submits it once, as {after.aanleverkenmerk}."
