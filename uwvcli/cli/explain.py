"""`uwvcli explain`: what a Digipoort status code or foutcode means and what to do about it, for
support staff with a code from a recap mail or the status overview; `--list` shows the whole
table, `--kenmerk` one message's status history decoded.

The meanings come from `uwvcli.digipoort.codes`; this module only renders them: a card per code
on a terminal, plain text when piped, JSON when asked."""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from uwvcli.cli.app import App, command, get_app
from uwvcli.cli.options import AMSTERDAM, ConfigOption
from uwvcli.cli.output import write_json
from uwvcli.digipoort import codes
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK

if TYPE_CHECKING:
    from rich.console import Console
    from rich.panel import Panel

    from uwvcli.digipoort.codes import CodeInfo
    from uwvcli.domain.models import StatusRecord
    from uwvcli.state.journal import Entry

# Support runs `uwvcli explain CODE` by hand and waits for it (issue 14): what only the cards
# (Rich's panels and tables) or only `--kenmerk` (the journal, the XML of the findings) need is
# imported where it is used, so a code in JSON or plain text costs neither.


class ExplainFormat(StrEnum):
    text = "text"
    json = "json"


_RESEND = {
    "no": "no: correct something first",
    "yes": "yes, later: the cause was technical",
    "wait": "not now: Digipoort is still busy with it",
    "unknown": "depends on the foutbeschrijving",
}


@command("explain")
def explain(
    ctx: typer.Context,
    code_args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="CODE",
            help="Status codes (311) or foutcodes (ALS100); case and spaces do not matter.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        ExplainFormat,
        typer.Option(
            "--format",
            "-f",
            help="text for people; json: one object for one code, a list for several codes or --list.",
        ),
    ] = ExplainFormat.text,
    list_all: Annotated[bool, typer.Option("--list", help="Show every code uwvcli knows.")] = False,
    phase: Annotated[
        str | None,
        typer.Option(
            "--phase",
            help=(
                "With --list: only this phase (aanleveren, authenticatie, validatie, afleveren, "
                "uitvragende-partij, statusinformatie, unknown)."
            ),
            show_default=False,
        ),
    ] = None,
    kenmerk: Annotated[
        str | None,
        typer.Option(
            "--kenmerk",
            help=(
                "Decode the status history of one submitted message (Digipoort's kenmerk) from the "
                "journal, with the findings of UWV/Digipoort (BSNs and dates redacted)."
            ),
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Explain Digipoort status codes and foutcodes: meaning, whether it is final, what to do.

    Exit code 1 when a code is not in uwvcli's table (the answer is then inferred from the code's
    shape) or the kenmerk has no statuses in the journal."""
    given = code_args or []
    if sum((bool(given), list_all or phase is not None, kenmerk is not None)) != 1:
        ctx.fail("give one or more codes (uwvcli explain 311 ALS100), or --list [--phase P], or --kenmerk K")
    app = get_app(ctx)
    if kenmerk is not None:
        known = show_history(app, kenmerk.strip(), output, config)
    elif given:
        infos = [codes.explain(code) for code in given]
        known = show_codes(app.terminal.out, infos, output)
        if output is ExplainFormat.json:  # the text cards say it themselves
            for info in infos:
                if not info.known:
                    app.terminal.warning(f"{info.code or '(empty)'}: {info.summary}")
    else:
        show_list(app.terminal.out, _listed(phase), output)
        known = True
    raise typer.Exit(EXIT_OK if known else EXIT_ATTENTION)


def _listed(phase: str | None) -> list[CodeInfo]:
    if phase is None:
        return codes.all_codes()
    named = codes.phase_named(phase)
    if named is None:
        choices = ", ".join((*codes.PHASES, codes.UNKNOWN_PHASE))
        raise typer.BadParameter(f"{phase!r} is not a phase; choose one of {choices}.", param_hint="--phase")
    return codes.codes_in_phase(named)


# ---------------------------------------------------------------- codes


def show_codes(console: Console, infos: list[CodeInfo], output: ExplainFormat) -> bool:
    """Render the codes; True when every one of them is in the table."""
    if output is ExplainFormat.json:
        document = infos[0].to_json() if len(infos) == 1 else [info.to_json() for info in infos]
        write_json(document)
    elif console.is_terminal:
        for info in infos:
            console.print(card(info))
    else:
        typer.echo("\n\n".join(plain_card(info) for info in infos))
    return all(info.known for info in infos)


def card_rows(info: CodeInfo) -> list[tuple[str, str]]:
    """The facts of one code as (label, text) rows, shared by the panel and the plain card."""
    if info.type is None:
        return [("meaning", info.meaning), ("what to do", info.action)]
    rows = [("type", _kind(info))]
    if info.type == codes.ERROR and info.name_nl:
        rows.append(("Digipoort's text", info.name_nl))
    rows += [
        ("final", _finality(info)),
        ("meaning", info.meaning),
        ("what to do", info.action),
        ("send again?", _resend(info)),
    ]
    if info.related:
        rows.append(("comes with", ", ".join(info.related)))
    rows.append(("confidence", _confidence(info)))
    return rows


def card(info: CodeInfo) -> Panel:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in card_rows(info):
        grid.add_row(label, Text(text))
    title = Text(_title(info), style="bold")
    subtitle = None if info.known else Text("not in uwvcli's table: inferred", style="italic")
    return Panel(Group(grid), title=title, title_align="left", subtitle=subtitle, border_style=_colour(info))


def plain_card(info: CodeInfo) -> str:
    width = max(len(label) for label, _ in card_rows(info))
    lines = [_title(info) + ("" if info.known else "  (not in uwvcli's table: inferred)")]
    lines += [f"  {label:<{width}}  {text}" for label, text in card_rows(info)]
    return "\n".join(lines)


def _title(info: CodeInfo) -> str:
    shown = info.code or "(empty)"
    if info.type == codes.STATUS and info.name_nl:
        return f"{shown}  {info.name_nl}"
    return f"{shown}  {info.summary}"


def _kind(info: CodeInfo) -> str:
    if info.type is None:
        return "not a Digipoort code"
    if info.type == codes.STATUS:
        kind = "status code"
    else:
        kind = f"foutcode from {info.service}" if info.service else "foutcode from an undocumented service"
    phase = codes.PHASE_LABELS.get(info.phase or "", "phase not documented")
    return f"{kind}; {phase}"


def _finality(info: CodeInfo) -> str:
    if info.final is None:
        return "cannot tell"
    if not info.final:
        return "no: more statuses follow" if info.type == codes.STATUS else "no: the message is not affected"
    if info.success:
        return "yes: the message succeeded"
    return "yes: the message failed"


def _resend(info: CodeInfo) -> str:
    if info.retry == "no" and info.success:
        return "no: it arrived, a resend would duplicate it"
    return _RESEND[info.retry]


def _confidence(info: CodeInfo) -> str:
    if not info.known:
        return "a guess from the code's shape"
    return {
        "confirmed": "confirmed by sources",
        "partly": "code confirmed, meaning partly derived",
        "unknown": "code seen in use, meaning not documented",
    }[info.confidence]


def _colour(info: CodeInfo) -> str:
    if not info.known:
        return "yellow"
    return {True: "green", False: "red", None: "blue"}[info.success]


# ---------------------------------------------------------------- --list


def show_list(console: Console, infos: list[CodeInfo], output: ExplainFormat) -> None:
    if output is ExplainFormat.json:
        write_json([info.to_json() for info in infos])
        return
    if console.is_terminal:
        from rich.table import Table
        from rich.text import Text

        table = Table(title="Digipoort codes uwvcli knows", title_justify="left")
        for header in ("Code", "Type", "Phase", "Final", "Result", "Meaning", "Send again?"):
            table.add_column(header, overflow="fold")
        for info in infos:
            table.add_row(
                Text(info.code, style=_colour(info)),
                info.type or "",
                info.phase or codes.UNKNOWN_PHASE,
                _yes_no(info.final),
                _result(info.success),
                Text(_name(info)),
                info.retry,
            )
        console.print(table)
        return
    typer.echo(f"{'code':<7} {'type':<6} {'phase':<18} {'final':<5} {'result':<8} {'retry':<7} meaning")
    for info in infos:
        typer.echo(
            f"{info.code:<7} {info.type or '':<6} {info.phase or codes.UNKNOWN_PHASE:<18} "
            f"{_yes_no(info.final):<5} {_result(info.success):<8} {info.retry:<7} {_name(info)}"
        )


def _name(info: CodeInfo) -> str:
    if info.type == codes.STATUS and info.name_nl:
        return f"{info.name_nl} — {info.summary}"
    return info.summary


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "?"}[value]


def _result(success: bool | None) -> str:
    return {True: "success", False: "failure", None: "progress"}[success]


# ---------------------------------------------------------------- --kenmerk


def show_history(app: App, kenmerk: str, output: ExplainFormat, config_option: Path | None) -> bool:
    """One message's statuses from the journal, each decoded next to Digipoort's own texts.
    True when there is a history and every code in it is in the table."""
    from uwvcli.app import explain as use_case

    if not kenmerk or not kenmerk.isprintable():
        raise typer.BadParameter("give the kenmerk as `uwvcli status` shows it.", param_hint="--kenmerk")
    found = use_case.history(app.load_config(config_option), kenmerk)
    entry, statuses = found.entry, found.statuses
    result, decisive = use_case.latest_outcome(statuses)
    if output is ExplainFormat.json:
        write_json(
            {
                "kenmerk": kenmerk,
                "notification": str(entry.key) if entry else None,
                "state": str(entry.state) if entry else None,
                "outcome": result,
                "statuses": [_status_json(status) for status in statuses],
            }
        )
    elif statuses:
        _render_history(app.terminal.out, kenmerk, entry, statuses, result, decisive or statuses[-1])
    if not statuses:
        app.terminal.warning(
            f"the journal ({found.journal}) has no statuses for kenmerk {kenmerk}: check the kenmerk "
            "(uwvcli status lists them), or run uwvcli send to fetch new statuses."
        )
    return found.all_known


def _status_json(status: StatusRecord) -> dict[str, object]:
    from uwvcli.digipoort.findings import findings

    return {
        "timestamp": status.timestamp.isoformat(),
        "code": status.code,
        "statusomschrijving": status.description,
        "foutcode": status.foutcode,
        "foutbeschrijving": status.foutbeschrijving,
        "explanation": codes.explain(status.code).to_json(),
        "foutcode_explanation": codes.explain(status.foutcode).to_json() if status.foutcode else None,
        "findings": findings(status.details),
    }


def _render_history(
    console: Console,
    kenmerk: str,
    entry: Entry | None,
    statuses: list[StatusRecord],
    result: str | None,
    decisive: StatusRecord,
) -> None:
    heading = f"kenmerk {kenmerk}"
    if entry is not None:
        heading += f" · notification {entry.key} ({entry.state})"
    verdict = f"outcome: {result or 'not decided yet'} (status {decisive.code})"
    cards = [codes.explain(code) for code in (decisive.code, decisive.foutcode) if code]
    if console.is_terminal:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=heading, title_justify="left", caption=verdict, caption_justify="left")
        for header in ("Time (Amsterdam)", "Code", "uwvcli's explanation", "Digipoort's own text"):
            table.add_column(header, overflow="fold")
        for status in statuses:
            table.add_row(
                _local(status),
                Text(status.code, style=_colour(codes.explain(status.code))),
                Text(codes.describe(status.code, status.foutcode)),
                Text("\n".join([_digipoort_text(status), *_findings_lines(status)])),
            )
        console.print(table)
        for info in cards:
            console.print(card(info))
        return
    lines = [heading]
    for status in statuses:
        lines.append(f"{_local(status)}  {codes.describe(status.code, status.foutcode)}")
        first, *more = _digipoort_text(status).splitlines() or [""]
        lines += [f"    Digipoort: {first}", *(f"      {line}" for line in more)]
        lines += [f"    {line}" for line in _findings_lines(status)]
    lines.append(verdict)
    lines += ["\n" + plain_card(info) for info in cards]
    typer.echo("\n".join(lines))


def _local(status: StatusRecord) -> str:
    return status.timestamp.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M:%S")


def _findings_lines(status: StatusRecord) -> list[str]:
    """What the status's details say (`digipoort.findings`: redacted, because UWV may quote a
    BSN or a birth date), under a heading; nothing when there are no details."""
    from uwvcli.digipoort.findings import findings

    found = findings(status.details)
    return ["Findings:", *(f"  - {line}" for line in found)] if found else []


def _digipoort_text(status: StatusRecord) -> str:
    """Digipoort's statusomschrijving and foutbeschrijving as sent (they carry its own
    explanation); only control characters, which could steer a terminal, are masked."""
    text = status.description
    if status.foutcode:
        text += f"\n{status.foutcode}: {status.foutbeschrijving or ''}"
    return "".join(
        "?" if unicodedata.category(char) == "Cc" and char not in "\n\t" else char for char in text
    )
