"""`uwvcli run`: the cron job. Under the run lock: prepare the outbox (build, check, sign, write,
journal), then — unless `--no-send` — submit, follow statuses and mail the recaps.

stdout gets one line (or table row) per notification the run dealt with, or one JSON object with
`--format json`; diagnostics and the summary go to stderr."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from uwvcli.app.recovery import open_journal
from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, DateOption, OutputFormat, parse_run_date
from uwvcli.cli.output import write_json
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Config, Notification
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK, UwvcliError
from uwvcli.state.journal import Journal
from uwvcli.state.locking import run_lock

if TYPE_CHECKING:  # signing, messages and the Digipoort stack load only when a run starts
    from uwvcli.app.daily import FollowUp
    from uwvcli.app.prepare import Prepared, PrepareReport
    from uwvcli.messages import signing

#: Below this many notifications a progress bar would only flicker.
PROGRESS_THRESHOLD = 50
EXIT_INTERRUPTED = 130


@command("run")
def run(
    ctx: typer.Context,
    config: ConfigOption = None,
    run_date: DateOption = "today",
    no_send: Annotated[
        bool,
        typer.Option("--no-send", help="Only build, check, sign and write the outbox; submit nothing."),
    ] = False,
    output: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="Output: lines (a table on a terminal) or json."),
    ] = OutputFormat.table,
    parallelism: Annotated[
        int, typer.Option("--parallelism", min=1, max=32, help="Messages submitted to Digipoort at once.")
    ] = 4,
    poll_seconds: Annotated[
        float,
        typer.Option(
            "--poll-seconds", min=0, help="How long to follow Digipoort statuses before the recap is written."
        ),
    ] = 120.0,
) -> None:
    """Compute what is due on the date, build, check and sign each message into the outbox, then
    send it, follow its statuses and mail each employer a recap.

    Safe to repeat: a second run the same day writes nothing new. Exit code 1 when something
    needs attention, 2 when nothing could be done, 75 when another run holds the lock."""
    app = get_app(ctx)
    day = parse_run_date(run_date)
    if output is OutputFormat.csv:
        raise typer.BadParameter("run writes lines, a table or json, not csv", param_hint="--format")
    cfg = app.load_config(config)
    with run_lock(cfg.paths.state), open_journal(cfg) as journal:
        exit_code = execute(
            app.terminal,
            cfg,
            day,
            journal,
            no_send=no_send,
            as_json=output is OutputFormat.json,
            sending=Sending(parallelism=parallelism, poll_seconds=poll_seconds),
        )
    raise typer.Exit(exit_code)


@dataclass(frozen=True)
class Sending:
    """How the second half of the run talks to Digipoort."""

    parallelism: int = 4
    poll_seconds: float = 120.0


def execute(
    terminal: Terminal,
    config: Config,
    day: date,
    journal: Journal,
    *,
    no_send: bool,
    as_json: bool,
    sending: Sending = Sending(),
) -> int:
    """One run, recorded in the journal's runs table with its exit code."""
    run_id = journal.start_run(day)
    exit_code: int | None = None
    try:
        from uwvcli.app.prepare import prepare
        from uwvcli.messages import signing  # slow imports: only when a run really starts

        credentials = signing.load_credentials(
            config.sender, environment=config.digipoort.environment, state_dir=config.paths.state.parent
        )
        expiry = credentials.expiry_warning()
        if expiry:
            terminal.warning(expiry)
        with ProgressBar(terminal, "Preparing messages") as progress:
            report = prepare(
                config,
                day,
                journal,
                credentials=credentials,
                progress=progress,
                workers=workers_from_environment(),
            )
        if no_send:
            render(terminal, report, as_json=as_json)
            exit_code = report.exit_code
            return exit_code
        if not as_json:
            render(terminal, report, as_json=False)
        exit_code, follow_up = send_and_recap(
            terminal, config, day, journal, credentials, report, sending=sending, as_json=as_json
        )
        if as_json:
            render_json(terminal, report, follow_up, exit_code)
        return exit_code
    except UwvcliError as error:
        exit_code = error.exit_code
        raise
    except KeyboardInterrupt:
        exit_code = EXIT_INTERRUPTED
        raise
    finally:
        if exit_code is not None:
            journal.finish_run(run_id, exit_code)


def workers_from_environment() -> int | None:
    """`UWVCLI_WORKERS=N`: sign in N processes (1: in this one); unset: one per CPU for big runs."""
    value = os.environ.get("UWVCLI_WORKERS", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise UwvcliError(f"UWVCLI_WORKERS is {value!r}: set it to a whole number of processes, or unset it")
    return int(value)


def send_and_recap(
    terminal: Terminal,
    config: Config,
    day: date,
    journal: Journal,
    credentials: signing.Credentials,
    report: PrepareReport,
    *,
    sending: Sending,
    as_json: bool = False,
) -> tuple[int, FollowUp]:
    """The second half of `run`: submit the outbox, follow statuses for a bounded time, write and
    mail every employer's recap. Returns the run's exit code (CONTRACT §1) and what happened."""
    from uwvcli.app.daily import deliver_and_recap
    from uwvcli.cli.send import render_report

    follow_up = deliver_and_recap(
        config,
        day,
        journal,
        credentials,
        report,
        upcoming=report.upcoming,
        dossiers=report.dossiers,
        parallelism=sending.parallelism,
        poll_seconds=sending.poll_seconds,
    )
    if not as_json:
        render_report(terminal, follow_up.send)
    report_recaps(terminal, follow_up)
    # Late messages submitted now are no longer "late-unsent": what still needs a person is the
    # prepare half's other findings and what the Digipoort and mail work found.
    prepared_attention = (
        report.blocked or report.still_unsuccessful or report.changed_after_sending or report.input_errors
    )
    exit_code = EXIT_ATTENTION if prepared_attention or follow_up.exit_code else EXIT_OK
    return exit_code, follow_up


def report_recaps(terminal: Terminal, follow_up: FollowUp) -> None:
    """Recap files and mail on stderr: where the recaps are, and which could not be mailed yet."""
    mail = follow_up.mail
    for path in follow_up.recaps:
        terminal.info(f"recap file: {path}")  # written now, or by an earlier run of the day
    if not mail.mail_configured:
        if mail.waiting:
            terminal.info(f"{len(mail.waiting)} recap(s) wait as .eml files (no mail: section configured)")
        return
    for path in mail.sent:
        terminal.info(f"recap mailed: {Path(path).name}")
    for waiting in mail.waiting:
        terminal.warning(
            f"recap not mailed yet: {waiting.path.name} ({waiting.reason}); it goes on the next run"
        )
    for warning in mail.warnings:
        terminal.warning(warning)


def render_json(terminal: Terminal, report: PrepareReport, follow_up: FollowUp, exit_code: int) -> None:
    """One JSON object on stdout for the whole run: the prepare result plus what Digipoort said."""
    document = to_json(report)
    document["deliveries"] = [
        {
            "key": line.key,
            "aanleverkenmerk": line.aanleverkenmerk,
            "state": line.state,
            "kenmerk": line.kenmerk,
            "code": line.code,
            "foutcode": line.foutcode,
            "text": line.text,
            "reason": line.reason,
        }
        for line in follow_up.send.lines
    ]
    document["recaps"] = {
        "written": [path.name for path in follow_up.recaps],
        "mailed": [Path(path).name for path in follow_up.mail.sent],
        "waiting": [waiting.path.name for waiting in follow_up.mail.waiting],
    }
    document["exit_code"] = exit_code
    write_json(document)
    # stdout is for the program reading the JSON; the person (or the log file) still needs to
    # hear what to fix, exactly as in the line mode.
    report_findings(terminal, report)


# ---------------------------------------------------------------- rendering


def render(terminal: Terminal, report: PrepareReport, *, as_json: bool) -> None:
    if as_json:
        write_json(to_json(report))
    elif terminal.out.is_terminal:
        render_table(terminal, report)
    else:
        for line in lines(report):  # tab-separated for scripts: Rich would expand the tabs
            typer.echo(line)
    report_findings(terminal, report)


def report_findings(terminal: Terminal, report: PrepareReport) -> None:
    """What a person must fix, on stderr (and in the log file) whatever the output format."""
    for error in report.input_errors:
        terminal.warning(f"{error.location}: {error.message}")
    for problem in diagnostics(report):
        terminal.warning(problem)
    terminal.info(summary(report))


def rows(report: PrepareReport) -> list[tuple[str, Notification, str]]:
    """(result, notification, detail) per notification the run dealt with, sending order within
    each result."""
    result: list[tuple[str, Notification, str]] = []
    for p in report.written:
        result.append(("late" if p.late else "written", p.notification, f"{p.file.name} ({p.why})"))
    for p in report.unchanged:
        result.append(("late" if p.late else "unchanged", p.notification, p.file.name))
    for n in report.blocked:
        result.append(("blocked", n, "; ".join(n.problems)))
    for n in report.changed_after_sending:
        result.append(("changed", n, "changed after sending — withdraw and resend"))
    return result


def lines(report: PrepareReport) -> list[str]:
    out = [f"{result}\t{n.key}\tdue {n.due_date.isoformat()}\t{detail}" for result, n, detail in rows(report)]
    for entry in report.still_unsuccessful:
        out.append(f"{entry.state}\t{entry.key}\tdue {entry.due_date.isoformat()}\t{entry.reason or ''}")
    for entry in report.withdrawn:
        out.append(f"withdrawn\t{entry.key}\tdue {entry.due_date.isoformat()}\tno longer due; not sent")
    return out


def render_table(terminal: Terminal, report: PrepareReport) -> None:
    table = Table(title=f"uwvcli run {report.run_date.isoformat()}", title_justify="left")
    for header in ("Result", "Employer", "Employee", "Dossier", "Notification", "Due", "Deadline", "Details"):
        table.add_column(header, overflow="fold")
    for result, n, detail in rows(report):
        deadline = n.deadline.isoformat() if n.deadline else "–"
        label = kind_label(n.kind, n.variant)
        table.add_row(
            result,
            n.employer_id,
            n.employee_id,
            n.dossier_id,
            label,
            n.due_date.isoformat(),
            deadline,
            detail,
        )
    for entry in (*report.still_unsuccessful, *report.withdrawn):
        table.add_row(
            str(entry.state) if entry in report.still_unsuccessful else "withdrawn",
            entry.employer_id,
            entry.employee_id,
            entry.dossier_id,
            kind_label(entry.kind, entry.variant),
            entry.due_date.isoformat(),
            entry.deadline.isoformat() if entry.deadline else "–",
            entry.reason or "no longer due; not sent",
        )
    if table.row_count:
        terminal.out.print(table)


def diagnostics(report: PrepareReport) -> list[str]:
    """What a person must do, one line each (keys only: no personal data)."""
    messages = [f"{n.key}: changed after sending — withdraw and resend" for n in report.changed_after_sending]
    messages += [
        f"{e.key}: {e.state} by Digipoort/UWV ({e.reason or 'see uwvcli status'}) and the export did not "
        "change since: correct the data, the next run sends a new revision"
        for e in report.still_unsuccessful
    ]
    messages += [
        f"{p.notification.key}: the outbox file was missing or altered and was rebuilt"
        for p in report.written
        if p.why == "repaired"
    ]
    messages += [
        f"{path}: set aside (not known to the journal, or refused); not sent" for path in report.set_aside
    ]
    return messages


def summary(report: PrepareReport) -> str:
    counts = [
        ("written", len(report.written)),
        ("unchanged", len(report.unchanged)),
        ("late", len(report.late)),
        ("blocked", len(report.blocked)),
        ("rejected/failed unchanged", len(report.still_unsuccessful)),
        ("changed after sending", len(report.changed_after_sending)),
        ("temporaries of an interrupted run removed", report.temporaries_removed),
        ("withdrawn", len(report.withdrawn)),
        ("unreadable export rows", len(report.input_errors)),
    ]
    text = ", ".join(f"{count} {name}" for name, count in counts if count) or "nothing due"
    return f"run {report.run_date.isoformat()}: {text}"


def to_json(report: PrepareReport) -> dict[str, object]:
    def prepared(p: Prepared) -> dict[str, object]:
        return {
            **p.notification.to_json(),
            "aanleverkenmerk": p.aanleverkenmerk,
            "revision": p.revision,
            "file": p.file.name,
        }

    return {
        "date": report.run_date.isoformat(),
        "written": [prepared(p) for p in report.written],
        "unchanged": [prepared(p) for p in report.unchanged],
        "blocked": [n.to_json() for n in report.blocked],
        "unsuccessful_unchanged": [
            {"key": e.key, "state": str(e.state), "reason": e.reason} for e in report.still_unsuccessful
        ],
        "changed_after_sending": [n.to_json() for n in report.changed_after_sending],
        "withdrawn": [e.key for e in report.withdrawn],
        "input_errors": [e.to_json() for e in report.input_errors],
        "exit_code": report.exit_code,
    }


class ProgressBar:
    """A Rich progress bar on stderr, on a terminal and for large batches only (cron logs get
    no animation)."""

    def __init__(self, terminal: Terminal, description: str):
        self.terminal = terminal
        self.description = description
        self.progress: Progress | None = None
        self.task = None

    def __enter__(self) -> ProgressBar:
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            if not self.terminal.interactive or total < PROGRESS_THRESHOLD:
                return
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self.terminal.err,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(self.description, total=total)
        self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
