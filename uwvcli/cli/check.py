"""`uwvcli check`: validate the configuration and the dossier exports before cron does.

Lists every problem at once — configuration errors, unreadable exports, rows that cannot be used
(including the rules' cross-row overlaps), configuration values that will block notifications —
plus the hand-over list: notifications due before an employer's start date whose deadline is on or
after it, which the previous system should have sent. Exit 2: the configuration or an export is
unusable; 1: rows or values need fixing; 0: nothing is wrong (the hand-over list is information).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from uwvcli.app import planning
from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, DateOption, parse_run_date
from uwvcli.cli.output import write_json
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Config, Notification
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK, EXIT_UNUSABLE, ConfigError, InputFileError
from uwvcli.inputs import exports
from uwvcli.inputs.config import blocking_values

HANDOVER_TITLE = "hand-over: confirm the previous system sent these"


class CheckFormat(StrEnum):
    table = "table"
    json = "json"


CheckFormatOption = Annotated[
    CheckFormat, typer.Option("--format", "-f", help="Output: a list for people, or json for programs.")
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, located: the file, the line (JSON exports: the item's index), the key or field."""

    severity: str  # "error" (cannot be used) | "warning" (will block notifications)
    source: str
    line: int | None
    field: str | None
    message: str

    def where(self) -> str:
        if self.line is None:
            return self.source
        if self.source.lower().endswith(".json"):
            return f"{self.source} item {self.line}"
        return f"{self.source}:{self.line}"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@command("check")
def check(
    ctx: typer.Context,
    config: ConfigOption = None,
    run_date: DateOption = "today",
    output: CheckFormatOption = CheckFormat.table,
) -> None:
    """Validate the configuration and the dossier exports; list every problem with file and line.

    Exit code 2 when the configuration or an export file is unusable, 1 when rows or configured
    values need fixing, 0 when nothing is wrong."""
    app = get_app(ctx)
    day = parse_run_date(run_date)
    source = str(app.config_path(config))
    try:
        cfg = app.load_config(config)
    except ConfigError as error:
        findings = [Finding("error", error.source, None, p.path or None, p.message) for p in error.problems]
        finish(app.terminal, output, source, day, findings, [], dossiers=None)
        return
    findings = missing_files(cfg, source) + state_findings(cfg)
    unusable = any(f.severity == "error" for f in findings)
    findings += [Finding("warning", source, None, p.path, p.message) for p in blocking_values(cfg)]
    try:
        plan = planning.plan(cfg, day, names=False)
    except InputFileError:
        findings += unreadable_exports(cfg)
        finish(app.terminal, output, source, day, findings, [], dossiers=None)
        return
    findings += [Finding("error", e.source, e.line, e.field, e.message) for e in plan.input_errors]
    finish(
        app.terminal,
        output,
        source,
        day,
        findings,
        plan.handover,
        dossiers=len(plan.dossiers),
        unusable=unusable,
    )


def state_findings(config: Config) -> list[Finding]:
    """The journal's own integrity check (an error: the next run would refuse it) and state
    folders or files that others may read (warnings)."""
    from uwvcli.state.integrity import journal_problems, permission_problems

    state = config.paths.state
    findings = [Finding("error", str(state), None, "paths.state", m) for m in journal_problems(state)]
    wide = permission_problems([config.paths.outbox, state.parent], [state])
    return findings + [Finding("warning", str(state.parent), None, "paths", m) for m in wide]


def missing_files(config: Config, source: str) -> list[Finding]:
    """Certificates and keys named in the configuration must exist; a password variable should be
    set (a warning only: cron may have an environment this shell does not)."""
    findings = []
    named = (
        ("sender.certificate", config.sender.certificate),
        ("sender.private_key", config.sender.private_key),
        ("digipoort.ca_bundle", config.digipoort.ca_bundle),
        ("digipoort.service_certificate", config.digipoort.service_certificate),
    )
    for key, path in named:
        if path is not None and not path.is_file():
            findings.append(Finding("error", source, None, key, f"file not found: {path}"))
    for key, variable in (
        ("sender.private_key_password_env", config.sender.private_key_password_env),
        ("mail.username_env", config.mail.username_env if config.mail else None),
        ("mail.password_env", config.mail.password_env if config.mail else None),
    ):
        if variable is not None and variable not in os.environ:
            findings.append(
                Finding(
                    "warning",
                    source,
                    None,
                    key,
                    f"environment variable {variable} is not set here: make sure the cron job sets it",
                )
            )
    return findings


def unreadable_exports(config: Config) -> list[Finding]:
    """Every unusable export, not only the first one the plan stumbled on. Each file is read
    again on its own, as a preview reads it (a table, without the names): only whether it can
    be read at all matters here."""
    findings = []
    base = config.source.parent
    for path in config.paths.dossiers:
        try:
            exports.load_table([path], config.employers, display_base=base, names=False)
        except InputFileError as error:
            source = exports.display_name(path, base)
            message = str(error).removeprefix(f"{source}: ")  # the finding names its file already
            findings.append(Finding("error", source, None, None, message))
    return findings


def finish(
    terminal: Terminal,
    output: CheckFormat,
    source: str,
    day: date,
    findings: list[Finding],
    handover: list[Notification],
    *,
    dossiers: int | None,
    unusable: bool = False,
) -> None:
    """Render and leave with the exit code: 2 when something is unusable (the configuration, an
    export, a certificate file), 1 for fixable rows and values, 0 otherwise."""
    unusable = unusable or dossiers is None
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    if output is CheckFormat.json:
        document = {
            "config": source,
            "date": day.isoformat(),
            "usable": not unusable,
            "dossiers": dossiers,
            "errors": errors,
            "warnings": warnings,
            "problems": [f.to_json() for f in findings],
            "handover": [n.to_json() for n in handover],
        }
        write_json(document)
    else:
        render_findings(terminal, findings)
        render_handover(terminal, handover)
    if unusable:
        terminal.error(
            f"{source}: not usable ({errors} error(s)): fix these first; `uwvcli run` would stop here."
        )
        raise typer.Exit(EXIT_UNUSABLE)
    if findings:
        terminal.warning(f"{errors} export or configuration error(s), {warnings} warning(s).")
        raise typer.Exit(EXIT_ATTENTION)
    terminal.success(f"{source}: configuration and {dossiers} dossier(s) OK.")
    raise typer.Exit(EXIT_OK)


def render_findings(terminal: Terminal, findings: list[Finding]) -> None:
    if not findings:
        return
    if terminal.out.is_terminal:
        table = Table(title="Problems", title_justify="left")
        for header in ("Severity", "Where", "Field", "Problem"):
            table.add_column(header, overflow="fold")
        for f in findings:
            style = "bold red" if f.severity == "error" else "yellow"
            table.add_row(
                Text(f.severity, style=style), Text(f.where()), Text(f.field or ""), Text(f.message)
            )
        terminal.out.print(table)
        return
    for f in findings:
        field = f" {f.field}:" if f.field and not f.message.startswith(f.field) else ""
        terminal.out.print(f"{f.severity.upper()} {f.where()}:{field} {f.message}", markup=False)


def render_handover(terminal: Terminal, handover: list[Notification]) -> None:
    if not handover:
        return
    if terminal.out.is_terminal:
        table = Table(title=HANDOVER_TITLE, title_justify="left")
        for header in ("Employer", "Employee", "Dossier", "Notification", "Due", "Deadline"):
            table.add_column(header, overflow="fold")
        for n in handover:
            cells = (
                n.employer_id,
                n.employee_id,
                n.dossier_id,
                kind_label(n.kind, n.variant),
                n.due_date.isoformat(),
                n.deadline.isoformat() if n.deadline else "–",
            )
            table.add_row(*(Text(cell) for cell in cells))  # ids from the export are never markup
        terminal.out.print(table)
        return
    terminal.out.print(f"{HANDOVER_TITLE}:", markup=False)
    for n in handover:
        deadline = n.deadline.isoformat() if n.deadline else "none"
        terminal.out.print(f"  {n.key} due {n.due_date.isoformat()} deadline {deadline}", markup=False)
