"""`uwvcli report`: gather what the HTML overview shows — every notification the journal knows,
with its last Digipoort status and that status's meaning, and the rules' preview of what comes up
within the horizon — and write the page.

A report only reads: the journal is opened only when it exists (a report never creates state),
the run lock is not taken (SQLite's write-ahead log gives a consistent snapshot even while a run
is busy), Digipoort is never contacted, and the exports are read without names (`names=False`).
The page itself is rendered by `uwvcli.report.html` from the plain data built here."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from pathlib import Path

from uwvcli.app import planning
from uwvcli.digipoort import codes
from uwvcli.digipoort.findings import findings
from uwvcli.domain.models import Config, Notification, PathSettings, State, StatusRecord
from uwvcli.errors import InputFileError, UwvcliError
from uwvcli.report.html import render
from uwvcli.report.model import CHART_WEEKS, LastStatus, Overview, Planned, Row
from uwvcli.state.journal import Entry, Journal
from uwvcli.state.outbox import write_atomic

DEFAULT_HORIZON = 28  # days the calendar looks ahead


class ReportError(UwvcliError):
    """The page could not be written (the folder is missing rights, the disk is full)."""


def default_output(paths: PathSettings, day: date) -> Path:
    """`<state folder>/reports/overzicht-<date>.html`, next to the recaps."""
    return paths.state.parent / "reports" / f"overzicht-{day.isoformat()}.html"


def default_since(day: date) -> date:
    """The overview's past by default: the chart's weeks (model.CHART_WEEKS) before `day`."""
    return day - timedelta(weeks=CHART_WEEKS)


def gather(
    config: Config, day: date, *, horizon: int = DEFAULT_HORIZON, since: date | None = None, now: datetime
) -> Overview:
    """The overview on `day`: what changed since `since` (default: `default_since`) and what is
    not settled, however old, and the preview. An export file that cannot be used at all leaves
    the calendar empty and says why; the journal's part is shown regardless (it is what payroll
    staff act on). What it reads follows what it shows: not the history before `since`."""
    since = default_since(day) if since is None else since
    rows: list[Row] = []
    older = 0
    planned: list[Planned] = []
    input_errors, plan_problem = 0, None
    with contextlib.ExitStack() as stack:
        journal = None
        if config.paths.state.exists():  # a report never creates state
            journal = stack.enter_context(Journal.open(config.paths.state))
            shown = journal.shown_since(since)
            rows = [_row(e, journal.status_history(e.kenmerk) if e.kenmerk else []) for e in shown]
            older = journal.settled_before(since)
        sent_keys = journal.sent_lookup() if journal is not None else frozenset()
        try:
            plan = planning.plan(config, day, horizon=horizon, sent_keys=sent_keys, names=False)
        except InputFileError as error:
            plan_problem = str(error)
        else:
            input_errors = len(plan.input_errors)
            planned = [_planned(n) for n in plan.notifications if n.state is State.UPCOMING]
    return Overview(
        day=day,
        generated=now,
        horizon=horizon,
        employers={employer.id: employer.name for employer in config.employers.values()},
        rows=rows,
        planned=planned,
        input_errors=input_errors,
        plan_problem=plan_problem,
        since=since,
        older=older,
    )


def _planned(n: Notification) -> Planned:
    return Planned(
        key=str(n.key),
        kind=n.kind,
        employer_id=n.employer_id,
        employee_id=n.employee_id,
        dossier_id=n.dossier_id,
        due_date=n.due_date,
        deadline=n.deadline,
        variant=n.variant,
        problems=n.problems,
    )


def _row(entry: Entry, history: list[StatusRecord]) -> Row:
    last = history[-1] if history else None  # status_history is oldest first, by timestamp
    return Row(
        key=str(entry.key),
        variant=entry.key.variant,
        kind=entry.kind,
        employer_id=entry.employer_id,
        employee_id=entry.employee_id,
        dossier_id=entry.dossier_id,
        due_date=entry.due_date,
        deadline=entry.deadline,
        state=str(entry.state),
        problems=entry.problems,
        reason=entry.reason,
        aanleverkenmerk=entry.aanleverkenmerk,
        kenmerk=entry.kenmerk,
        submitted=entry.submitted,
        status=_last_status(last) if last else None,
    )


def _last_status(status: StatusRecord) -> LastStatus:
    return LastStatus(
        code=status.code,
        at=status.timestamp,
        description=status.description,
        meaning=codes.describe(status.code, status.foutcode),
        foutcode=status.foutcode,
        foutbeschrijving=status.foutbeschrijving,
        findings=tuple(findings(status.details)),
    )


def write_report(
    config: Config, day: date, *, horizon: int, since: date | None = None, now: datetime, output: Path | None
) -> Path:
    """Gather, render and write the page (owner-only, all or nothing); returns where it went."""
    page = render(gather(config, day, horizon=horizon, since=since, now=now))
    path = output if output is not None else default_output(config.paths, day)
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, parents=True)
        write_atomic(path, page.encode("utf-8"))
    except OSError as error:
        raise ReportError(f"{path}: cannot write the overview there ({error.strerror})") from None
    return path
