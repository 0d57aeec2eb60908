"""`uwvcli run`: the cron job. Parses its options, makes one `app.run.run` call (prepare the outbox,
then — unless `--no-send` — submit, follow statuses and mail the recaps) and renders what it did.

stdout gets one line (or table row) per notification the run dealt with, or one JSON object with
`--format json`; diagnostics and the summary go to stderr."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from uwvcli.cli.app import command, get_app
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, DateOption, OutputFormat, parse_run_date, today_in_amsterdam
from uwvcli.cli.output import write_json
from uwvcli.cli.tables import Column, print_fitted, print_left_out
from uwvcli.domain import problems
from uwvcli.domain.labels import kind_label
from uwvcli.domain.models import Notification

if TYPE_CHECKING:  # signing, messages and the Digipoort stack load only when a run starts
    from uwvcli.app.daily import FollowUp
    from uwvcli.app.prepare import Prepared, PrepareReport
    from uwvcli.app.run import RunOutcome

#: Below this many notifications a progress bar would only flicker.
PROGRESS_THRESHOLD = 50
#: Without a terminal, a long step says how far it is at most this often (seconds).
PLAIN_EVERY = 10.0


@command("run", tables=True)
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
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Run for a date before the last run's, although that withdraws what was prepared since.",
        ),
    ] = False,
    allow_withdrawals: Annotated[
        bool,
        typer.Option(
            "--allow-withdrawals",
            help="Confirm the withdrawals the safety brake holds back (more than 5 or 10% of an employer's).",
        ),
    ] = False,
) -> None:
    """Compute what is due on the date, build, check and sign each message into the outbox, then
    send it, follow its statuses and mail each employer a recap.

    Safe to repeat: a second run the same day writes nothing new. A date after today is refused
    unless --no-send (a preview); a date before the last run's is refused unless --force; a date
    more than 7 days back is a catch-up. Exit code 1 when something needs attention, 2 when
    nothing could be done, 75 when another run holds the lock."""
    from uwvcli.app import run as use_case  # slow imports: only when a run really starts

    app = get_app(ctx)
    day = parse_run_date(run_date)
    if output is OutputFormat.csv:
        raise typer.BadParameter("run writes lines, a table or json, not csv", param_hint="--format")
    cfg = app.load_config(config)
    as_json = output is OutputFormat.json
    try:
        outcome = use_case.run(
            cfg,
            day,
            today=use_case.today(cfg, today_in_amsterdam),
            force=force,
            allow_withdrawals=allow_withdrawals,
            no_send=no_send,
            sending=use_case.Sending(parallelism=parallelism, poll_seconds=poll_seconds),
            events=Events(app.terminal, as_json=as_json),
        )
    except KeyboardInterrupt:  # a second signal: at once; the journal kept every step durable
        app.terminal.error("interrupted: the next run picks up where this one stopped")
        raise typer.Exit(use_case.EXIT_INTERRUPTED) from None
    render_outcome(app.terminal, outcome, as_json=as_json)
    raise typer.Exit(outcome.exit_code)


@dataclass(frozen=True)
class Events:
    """What the terminal shows while the run works: warnings, the progress bar, and (in the line
    and table modes) the prepared outbox before its messages go out."""

    terminal: Terminal
    as_json: bool

    def warning(self, text: str) -> None:
        self.terminal.warning(text)

    def note(self, text: str) -> None:
        self.terminal.info(text)

    def progress(self, step: str) -> ProgressBar:
        return ProgressBar(self.terminal, step.capitalize())

    def stopping(self, signal_name: str) -> None:
        self.terminal.warning(
            f"{signal_name}: stopping after the current step (the message in flight is finished and "
            "recorded); a second signal stops at once"
        )

    def sending(self, report: PrepareReport) -> None:
        if not self.as_json:
            render(self.terminal, report, as_json=False)


def render_outcome(terminal: Terminal, outcome: RunOutcome, *, as_json: bool) -> None:
    """What the run did: for --no-send the prepared outbox; for a full run what Digipoort said and
    where the recaps are (the prepared outbox was shown before sending, or is in the JSON)."""
    from uwvcli.cli.send import render_report

    report, follow_up = outcome.report, outcome.follow_up
    if follow_up is None:
        render(terminal, report, as_json=as_json, outcome=outcome)
    else:
        if not as_json:
            render_report(terminal, follow_up.send)
        report_recaps(terminal, follow_up)
        if as_json:
            render_json(terminal, outcome)
    report_attention(terminal, outcome)


def report_attention(terminal: Terminal, outcome: RunOutcome) -> None:
    """Under cron stdout goes nowhere: every notification that needs a person is a WARNING line
    (stderr and the log file), and the run's last line is its summary with the exit code."""
    from uwvcli.app.run import attention

    for item in attention(outcome):
        terminal.warning(item.text)
    text = summary(outcome.report).removeprefix(f"run {outcome.report.run_date.isoformat()}: ")
    if outcome.follow_up is not None:
        sent = ", ".join(
            f"{count} {state}" for state, count in sorted(outcome.follow_up.send.counts().items())
        )
        text += f"; Digipoort: {sent or 'nothing to send'}"
    catch_up = " (catch-up)" if outcome.catch_up else ""
    if outcome.stopped is not None:
        terminal.warning(
            f"stopped by {outcome.stopped.name}: {outcome.left_to_send} message(s) in the outbox not sent "
            "yet; the next run sends them and follows the statuses"
            + ("" if outcome.follow_up is None else "; its recap reports what this run sent")
        )
        text = f"stopped by {outcome.stopped.name}; {text}"
    terminal.info(
        f"run {outcome.report.run_date.isoformat()}{catch_up} done, exit code {outcome.exit_code}: {text}"
    )


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


def render_json(terminal: Terminal, outcome: RunOutcome) -> None:
    """One JSON object on stdout for the whole run: the prepare result plus what Digipoort said."""
    report, follow_up = outcome.report, outcome.follow_up
    assert follow_up is not None
    document = to_json(report, outcome)
    document["deliveries"] = [
        {
            "key": str(line.key),
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
    write_json(document)
    # stdout is for the program reading the JSON; the person (or the log file) still needs to
    # hear what to fix, exactly as in the line mode.
    report_findings(terminal, report)


# ---------------------------------------------------------------- rendering


def render(
    terminal: Terminal, report: PrepareReport, *, as_json: bool, outcome: RunOutcome | None = None
) -> None:
    if as_json:
        assert outcome is not None
        write_json(to_json(report, outcome))
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
        result.append(("blocked", n, "; ".join(map(str, n.problems))))
    for n in report.changed_after_sending:
        result.append(("changed", n, "changed after sending — withdraw and resend"))
    return result


def correction_lines(report: PrepareReport) -> list[str]:
    """Submitted notifications whose dossier left the exports (RULES 4.6; a withdrawal written
    this run is listed with the written files, `(withdrawal (cause))`)."""
    out = [
        f"gone\t{e.key}\tsubmitted {e.submitted.date().isoformat() if e.submitted else '?'}\t"
        "its dossier is no longer in the export"
        for e in report.gone
    ]
    return out


def lines(report: PrepareReport) -> list[str]:
    out = [f"{result}\t{n.key}\tdue {n.due_date.isoformat()}\t{detail}" for result, n, detail in rows(report)]
    for entry in report.still_unsuccessful:
        out.append(f"{entry.state}\t{entry.key}\tdue {entry.due_date.isoformat()}\t{entry.reason or ''}")
    for entry in report.cancelled:
        out.append(f"cancelled\t{entry.key}\tdue {entry.due_date.isoformat()}\tno longer due; not sent")
    return [*out, *correction_lines(report)]


#: The run table's columns; on a narrow terminal the dossier and the due date go first, then the
#: details (listed under the table then, where they say more than the outbox file's name).
TABLE_COLUMNS = (
    Column("Result"),
    Column("Employer"),
    Column("Employee"),
    Column("Dossier", drop=1),
    Column("Notification"),
    Column("Due", drop=2),
    Column("Deadline", drop=4),
    Column("Details", drop=3, free_text=True),
)


def render_table(terminal: Terminal, report: PrepareReport) -> None:
    table_rows = []
    keys = []  # the notifications whose details say more than the outbox file's name
    for result, n, detail in rows(report):
        keys.append(None if result in ("written", "unchanged", "late") else str(n.key))
        deadline = n.deadline.isoformat() if n.deadline else "–"
        label = kind_label(n.kind, n.variant)
        table_rows.append(
            (
                result,
                n.employer_id,
                n.employee_id,
                n.dossier_id,
                label,
                n.due_date.isoformat(),
                deadline,
                detail,
            )
        )
    for entry in (*report.still_unsuccessful, *report.cancelled):
        keys.append(str(entry.key))
        table_rows.append(
            (
                str(entry.state) if entry in report.still_unsuccessful else "cancelled",
                entry.employer_id,
                entry.employee_id,
                entry.dossier_id,
                kind_label(entry.kind, entry.variant),
                entry.due_date.isoformat(),
                entry.deadline.isoformat() if entry.deadline else "–",
                entry.reason or "no longer due; not sent",
            )
        )
    if not table_rows:
        return
    title = f"uwvcli run {report.run_date.isoformat()}"
    shown = print_fitted(
        terminal.out, title, TABLE_COLUMNS, table_rows, wide=getattr(terminal, "wide", False)
    )
    if "Details" not in shown:
        for key, row in zip(keys, table_rows, strict=True):
            if key is not None:
                print_left_out(terminal.out, key, [row[-1]])


def diagnostics(report: PrepareReport) -> list[str]:
    """What a person must do, one line each (keys only: no personal data)."""
    messages = [f"{n.key}: changed after sending — withdraw and resend" for n in report.changed_after_sending]
    messages += [
        f"{e.key}: sent, and its dossier is no longer in the export: if it was entered by mistake, "
        f"withdraw it with `uwvcli withdraw {e.key}`"
        for e in report.gone
    ]
    messages += [
        str(problems.withdrawals_braked(employer, count)) for employer, count in report.braked.items()
    ]
    messages += [f"{e.key}: {problems.cannot_withdraw(why)}" for e, why in report.cannot_withdraw]
    messages += [
        f"{e.key}: {e.state} by Digipoort/UWV ({e.reason or 'see uwvcli status'}); what it withdraws and its "
        "correction wait: check with UWV what it holds for this notification"
        for e in report.withdrawal_unsuccessful
    ]
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
        ("cancelled", len(report.cancelled)),
        ("withdrawals", len(report.withdrawals)),
        ("gone from the export", len(report.gone)),
        ("withdrawals held by the brake", sum(report.braked.values())),
        ("unreadable export rows", len(report.input_errors)),
    ]
    text = ", ".join(f"{count} {name}" for name, count in counts if count) or "nothing due"
    return f"run {report.run_date.isoformat()}: {text}"


def to_json(report: PrepareReport, outcome: RunOutcome) -> dict[str, object]:
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
        "cancelled": [str(e.key) for e in report.cancelled],
        "withdrawals": [
            {**w.notification.to_json(), "cause": str(w.cause), "file": w.file.name}
            for w in report.withdrawals
        ],
        "gone": [str(e.key) for e in report.gone],
        "braked": dict(report.braked),
        "input_errors": [e.to_json() for e in report.input_errors],
        "export_warnings": list(outcome.export_warnings),
        "catch_up": outcome.catch_up is not None,
        "exit_code": outcome.exit_code,
    }


class ProgressBar:
    """A Rich progress bar on stderr, on a terminal and for large batches only; without a
    terminal (cron) no animation but a plain line at most every PLAIN_EVERY seconds, with counts
    and the time left, so a long step is never silent."""

    def __init__(self, terminal: Terminal, description: str, clock: Callable[[], float] = time.monotonic):
        self.terminal = terminal
        self.description = description
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.clock = clock
        self.started = self.last_line = clock()

    def __enter__(self) -> ProgressBar:
        return self

    def __call__(self, done: int, total: int) -> None:
        if not self.terminal.interactive:
            self._plain(done, total)
            return
        if self.progress is None:
            if total < PROGRESS_THRESHOLD:
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
        assert self.task is not None  # added with the progress bar
        self.progress.update(self.task, completed=done, total=total)

    def _plain(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.last_line < PLAIN_EVERY or done >= total:
            return
        self.last_line = now
        left = ""
        if done:
            seconds = (now - self.started) / done * (total - done)
            left = (
                f", about {round(seconds / 60)} min left"
                if seconds >= 90
                else f", about {seconds:.0f} s left"
            )
        self.terminal.info(f"{self.description}: {done} of {total}{left}")

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
