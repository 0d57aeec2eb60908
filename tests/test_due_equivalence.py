"""The fast path of `due` (exports as a table, the rules' pre-filter, `Dossier` objects only for the
employees that can matter) gives exactly what the plain path gives: every dossier loaded as an
object and evaluated."""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_builders import employer, legal_entity, ziekte, zwangerschap
from typer.testing import CliRunner

from uwvcli.app import planning
from uwvcli.cli import app
from uwvcli.domain.models import Dossier, Employer, OrgUnit
from uwvcli.domain.prefilter import relevant
from uwvcli.domain.rules import evaluate
from uwvcli.errors import InputFileError
from uwvcli.inputs import exports
from uwvcli.inputs.config import load_config
from uwvcli.inputs.exports import load_dossiers, load_table

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "benchmarks"))
import bench_due  # noqa: E402  (the benchmark's generator of realistic exports)

DAY = timedelta(days=1)
REASONS = ["overig", "overig", "overig", "zwangerschap", "bevalling", "orgaandonatie"]


def plus(day: date, days: int) -> date:
    """`day + days`, kept inside the calendar (the generator also visits its ends)."""
    return date.fromordinal(min(max(day.toordinal() + days, 1), date.max.toordinal()))


def columns_of(dossiers: list[Dossier]):
    return lambda name: [getattr(d, name) for d in dossiers]


def kept(
    employers: dict[str, Employer],
    dossiers: list[Dossier],
    run_date: date,
    *,
    horizon: int = 0,
) -> list[Dossier]:
    mask = relevant(employers, columns_of(dossiers), run_date, horizon=horizon)
    assert len(mask) == len(dossiers)
    return [d for d, keep in zip(dossiers, mask, strict=True) if keep]


# ---------------------------------------------------------------- generated situations


@st.composite
def employee_history(draw: st.DrawFn, employer_id: str, employee: str) -> list[Dossier]:
    """One employee's ziekte dossiers (open, closed, planned returns, overlaps, chains) and
    pregnancies (with leave from Lmin now and then: an empty window), around a random day; now
    and then at the very ends of the calendar."""
    where = draw(st.sampled_from(["usual"] * 12 + ["end of calendar", "start of calendar"]))
    if where == "end of calendar":
        day = draw(st.dates(min_value=date(9998, 1, 1), max_value=date(9999, 11, 1)))
    elif where == "start of calendar":
        day = draw(st.dates(min_value=date(1, 1, 1), max_value=date(1, 12, 31)))
    else:
        day = draw(st.dates(min_value=date(2022, 6, 1), max_value=date(2027, 6, 1)))
    first_day = day
    found: list[Dossier] = []
    for index in range(draw(st.integers(min_value=0, max_value=4))):
        length = draw(st.integers(min_value=1, max_value=420))
        still_open = draw(st.integers(0, 4)) == 0
        recovery = None if still_open else plus(day, length)
        fields: dict[str, object] = {"recovery_date": recovery, "employer_id": employer_id}
        fields["sick_reason"] = draw(st.sampled_from(REASONS))
        fields["vangnet_status"] = draw(st.sampled_from(["none", "none", "no_risk", "sfb"]))
        if length > 1 and draw(st.booleans()):
            fields["partial_recovery_date"] = plus(day, draw(st.integers(0, length - 1)))
            fields["partial_daily_wage"] = draw(st.sampled_from([None, Decimal("84.50")]))
        if recovery is not None and draw(st.booleans()):
            fields["recovery_reported_date"] = plus(recovery, draw(st.integers(0, 30)))
        if draw(st.integers(0, 4)) == 0:
            fields["employment_end_date"] = plus(day, draw(st.integers(-30, 500)))
        found.append(ziekte(f"{employer_id}-Z{employee}-{index}", day, employee=employee, **fields))
        # Mostly apart, sometimes overlapping (an input error) or starting before an open one.
        day = plus(recovery or day, draw(st.integers(min_value=-20, max_value=90)))
    for pregnancy in range(draw(st.integers(min_value=0, max_value=2))):
        expected = plus(first_day, draw(st.integers(min_value=-100, max_value=500)))
        leave = draw(st.sampled_from([None, "Lmin", "Lmin", -70, -49, -42, -35, -28, -20]))
        multiple = draw(st.booleans())
        if leave == "Lmin":  # RULES §2: Lmin = E + 1 − 42 (multiple: − 70); the window is empty
            leave = -70 if multiple else -42
        found.append(
            zwangerschap(
                f"{employer_id}-P{employee}-{pregnancy}",
                expected,
                employee=employee,
                employer_id=employer_id,
                multiple_birth=multiple,
                leave_start_date=None if leave is None else plus(expected, leave + 1),
            )
        )
    return found


@st.composite
def situations(draw: st.DrawFn) -> tuple[dict[str, Employer], list[Dossier], date]:
    employers = {}
    for number in range(draw(st.integers(min_value=1, max_value=3))):
        start = draw(st.one_of(st.none(), st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 6, 1))))
        found = employer(f"WG00{number}", start_date=start, active=draw(st.booleans()) or number == 0)
        employers[found.id] = found
    dossiers = []
    for employee in range(draw(st.integers(min_value=1, max_value=6))):
        # The same employee number at two employers: two different people.
        employer_id = draw(st.sampled_from(sorted(employers)))
        dossiers += draw(employee_history(employer_id, str(employee % 3)))
    dossiers = draw(st.permutations(dossiers))
    recoveries = sorted(
        {d.recovery_date for d in dossiers if d.recovery_date and d.recovery_date.year < 9000}
    )
    if recoveries and draw(st.booleans()):  # a planned return, within the usual horizons
        run_date = plus(draw(st.sampled_from(recoveries)), -draw(st.integers(1, 60)))
    else:
        run_date = draw(st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 6, 1)))
    return employers, dossiers, run_date


@settings(max_examples=400, deadline=None)
@given(situations(), st.integers(0, 400), st.randoms(use_true_random=False))
def test_the_pre_filter_changes_no_evaluation(situation, horizon, rng) -> None:
    """Whatever the dates, horizon and sent keys: the same notifications, already-sent items,
    hand-over and input errors from the employees kept as from everybody."""
    employers, dossiers, run_date = situation
    assert_pre_filter_changes_nothing(employers, dossiers, run_date, horizon, rng)


def assert_pre_filter_changes_nothing(employers, dossiers, run_date, horizon, rng) -> None:
    everything = evaluate(employers, dossiers, run_date, horizon=horizon)
    sent = {n.key for n in everything.notifications + everything.handover if rng.random() < 0.3}
    expected = evaluate(employers, dossiers, run_date, horizon=horizon, sent_keys=sent)
    # In any order, and grouped by employee as exports usually are.
    grouped = sorted(dossiers, key=lambda d: d.employee_id)
    for order in (dossiers, grouped):
        found = kept(employers, order, run_date, horizon=horizon)
        assert evaluate(employers, found, run_date, horizon=horizon, sent_keys=sent) == expected


@st.composite
def ordinary_histories(draw: st.DrawFn) -> tuple[dict[str, Employer], list[Dossier], date]:
    """Employees with several cases of sickness outside the safety net, closed or open, adding
    up to around 288 sick days (the 42nd week) near the run date and horizon, sometimes
    overlapping, now and then with a case or a pregnancy that is not ordinary: the pre-filter's
    count of sick days at its edges."""
    dossiers: list[Dossier] = []
    for employee in range(draw(st.integers(1, 4))):
        day = draw(st.dates(min_value=date(2024, 6, 1), max_value=date(2025, 6, 1)))
        for index in range(draw(st.integers(1, 5))):
            length = draw(st.integers(1, 150))
            extra = draw(
                st.sampled_from(
                    [{}] * 6
                    + [{"recovery_date": None}] * 2
                    + [
                        {"vangnet_status": "sfb"},
                        {"sick_reason": "bevalling"},
                        {"employment_end_date": day + length * DAY},
                    ]
                )
            )
            fields = {"recovery_date": day + length * DAY, **extra}
            dossiers.append(ziekte(f"E{employee}-{index}", day, employee=str(employee), **fields))
            day += (length + draw(st.integers(-5, 40))) * DAY
        if draw(st.integers(0, 9)) == 0:
            dossiers.append(zwangerschap(f"E{employee}-p", day + 200 * DAY, employee=str(employee)))
    run_date = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 1)))
    if draw(st.booleans()):  # the run date just before a return: a planned one (RULES §1)
        recovery = draw(st.sampled_from(dossiers)).recovery_date or run_date
        run_date = recovery - draw(st.integers(1, 60)) * DAY
    # Mostly live long before; now and then going live after the horizon, in the week after a
    # dossier's 288th day (an MLA due in the week before the start date is hand-over).
    start = date(2024, 1, 1)
    if draw(st.integers(0, 3)) == 0:
        sick = draw(st.sampled_from([d for d in dossiers if d.first_sick_day is not None]))
        start = max(sick.first_sick_day + (287 + draw(st.integers(1, 7))) * DAY, run_date + DAY)
    employers = {"WG001": employer(start_date=start)}
    return employers, draw(st.permutations(dossiers)), run_date


@settings(max_examples=300, deadline=None)
@given(ordinary_histories(), st.integers(0, 60), st.randoms(use_true_random=False))
def test_the_pre_filter_counts_sick_days_exactly(situation, horizon, rng) -> None:
    employers, dossiers, run_date = situation
    assert_pre_filter_changes_nothing(employers, dossiers, run_date, horizon, rng)


def test_ordinary_sickness_before_its_42nd_week_is_left_out() -> None:
    """Sickness of someone outside the safety net (most of an export) is reported only in its
    42nd week: until then, closed or still open, the employee is left out. Every circumstance
    that could make it matter keeps them: a 288th sick day by the end of the horizon, the
    safety net, an employment end, a pregnancy, an overlap."""
    employers = {"WG001": employer(start_date=date(2024, 1, 1))}
    run_date = date(2026, 12, 1)

    def history(employee: str, *days: int, **changes) -> list[Dossier]:
        """Cases of `days` sick days each, three weeks apart (one chain), the last one ending
        on the run date; `changes` apply to the last."""
        found, day = [], run_date - (sum(days) + 21 * (len(days) - 1)) * DAY
        for number, length in enumerate(days):
            fields = {"recovery_date": day + length * DAY, **(changes if number == len(days) - 1 else {})}
            found.append(ziekte(f"{employee}-{number}", day, employee=employee, **fields))
            day += (length + 21) * DAY
        return found

    quiet = [
        *history("A", 5),
        *history("B", 100, 100, 87),  # 287 sick days: AO day 288 never comes
        *history("C", 100, 100, 60, recovery_date=None),  # open, but day 288 lies after the horizon
    ]
    matters = {
        "288 days in all": history("D", 100, 100, 88),
        "open, day 288 within the horizon": history("E", 286, recovery_date=None),
        "safety net": history("F", 5, vangnet_status="no_risk"),
        "reason": history("G", 5, sick_reason="orgaandonatie"),
        "employment end": history("H", 5, employment_end_date=run_date - 3 * DAY),
        "pregnancy": [*history("I", 5), zwangerschap("I-p", date(2027, 3, 1), employee="I")],
        "overlap": [*history("J", 5), ziekte("J-x", run_date - 4 * DAY, employee="J")],
    }
    everyone = quiet + [d for found in matters.values() for d in found]
    found = kept(employers, everyone, run_date, horizon=1)
    assert {d.employee_id for d in found} == {found[0].employee_id for found in matters.values()}
    assert evaluate(employers, found, run_date, horizon=1) == evaluate(
        employers, everyone, run_date, horizon=2
    )
    assert evaluate(employers, quiet, run_date, horizon=1).notifications == []
    # The boundaries are exact: the 288th sick day is the last day of D's third case, and E's
    # open case reaches it the day after the run date.
    assert [
        (n.kind.value, n.due_date)
        for n in evaluate(employers, found, run_date, horizon=1).notifications
        if n.employee_id in "DE"
    ] == [
        ("42e-weeksmelding", run_date - DAY),
        ("herstel-42e-weeksmelding", run_date),
        ("42e-weeksmelding", run_date + DAY),
    ]
    assert "E" not in {d.employee_id for d in kept(employers, everyone, run_date)}  # horizon 0


def test_an_mla_due_in_the_week_before_a_later_go_live_is_kept_for_the_handover() -> None:
    """Ordinary sickness from 2025-08-14, open: AO day 288 = 2025-08-14 + 287 = 2026-05-28, the
    MLA's deadline 2026-06-04. The link goes live on 2026-06-01, after the run date 2026-01-01:
    the MLA is hand-over (due before the start date, deadline on or after it), so the employee
    must be kept although her 288th day lies far beyond the run date and horizon. (The pre-filter
    used to count sick days only up to the end of the horizon and dropped her.)"""
    employers = {"WG001": employer(start_date=date(2026, 6, 1))}
    sick = [ziekte("Z1", date(2025, 8, 14))]
    run_date = date(2026, 1, 1)
    expected = evaluate(employers, sick, run_date)
    assert [(n.kind.value, n.due_date, n.deadline) for n in expected.handover] == [
        ("42e-weeksmelding", date(2026, 5, 28), date(2026, 6, 4))
    ]
    assert kept(employers, sick, run_date) == sick
    # The boundary is exact: sick from 2025-08-17, AO day 288 falls on 2026-05-31, the day before
    # the start date (hand-over, kept); from 2025-08-18 on 2026-06-01 itself (in scope, but nothing
    # is listed before go-live: left out).
    day_before = [ziekte("Z1", date(2025, 8, 17))]
    assert kept(employers, day_before, run_date) == day_before
    assert evaluate(employers, day_before, run_date).handover[0].due_date == date(2026, 5, 31)
    assert kept(employers, [ziekte("Z1", date(2025, 8, 18))], run_date) == []
    # Sick from 2025-08-09: AO day 288 on 2026-05-23, deadline 2026-05-30, before the start date:
    # not hand-over (kept or not, the result is the same).
    earlier = [ziekte("Z1", date(2025, 8, 9))]
    assert evaluate(employers, earlier, run_date).handover == []
    assert evaluate(employers, kept(employers, earlier, run_date), run_date) == evaluate(
        employers, earlier, run_date
    )


def test_planned_returns_and_empty_windows_are_kept_as_the_rules_need_them() -> None:
    """RULES v3's new cases: a planned return (its full werkhervatting or herstel within the
    horizon) and sickness running into a leave that starts on Lmin (no ziekmelding, an MLA with
    the leave left out) give the same from the employees kept as from everybody."""
    employers = {"WG001": employer(start_date=date(2024, 1, 1))}
    dossiers = [
        # no-risk, return planned 2026-04-15: its full werkhervatting is upcoming on 2026-04-01 + 14
        ziekte(
            "A", date(2026, 3, 2), employee="A", vangnet_status="no_risk", recovery_date=date(2026, 4, 15)
        ),
        # ordinary, AO day 288 on 2025-10-20, return planned 2026-04-10: an upcoming herstel
        ziekte("B", date(2025, 1, 6), employee="B", recovery_date=date(2026, 4, 10)),
        # leave from Lmin (2026-05-21), sick from 2026-05-04: MLA on 2027-06-07
        zwangerschap("C-p", date(2026, 7, 1), employee="C", leave_start_date=date(2026, 5, 21)),
        ziekte("C", date(2026, 5, 4), employee="C"),
        # ordinary and short, closed long ago: left out
        ziekte("D", date(2025, 1, 6), employee="D", recovery_date=date(2025, 2, 1)),
    ]
    for run_date, horizon in ((date(2026, 4, 1), 14), (date(2026, 3, 31), 14), (date(2027, 6, 7), 0)):
        found = kept(employers, dossiers, run_date, horizon=horizon)
        assert "D" not in {d.dossier_id for d in found}
        assert evaluate(employers, found, run_date, horizon=horizon) == evaluate(
            employers, dossiers, run_date, horizon=horizon
        )
    preview = evaluate(employers, dossiers, date(2026, 4, 1), horizon=14).notifications
    assert {
        (n.dossier_id, n.kind.value, n.state.value) for n in preview if n.due_date > date(2026, 4, 1)
    } == {
        ("A", "werkhervatting", "upcoming"),
        ("B", "herstel-42e-weeksmelding", "upcoming"),
    }


def test_an_old_closed_history_is_left_out_and_what_matters_is_kept() -> None:
    """The point of the pre-filter: employees whose sickness ended long before the link started
    cost nothing, while open cases, recent recoveries, pregnancies and overlaps are evaluated."""
    start = date(2026, 11, 16)
    employers = {"WG001": employer(start_date=start)}
    old = [
        ziekte(f"old-{n}", date(2025, 3, 1), employee=f"E{n}", recovery_date=date(2025, 3, 20))
        for n in range(50)
    ]
    matters = [
        ziekte("open", date(2025, 1, 6), employee="A"),
        ziekte(
            "recent", start - 40 * DAY, employee="B", recovery_date=start - 30 * DAY, vangnet_status="sfb"
        ),
        zwangerschap("pregnant", date(2027, 2, 1), employee="C"),
        ziekte("first", date(2025, 1, 6), employee="D", recovery_date=date(2025, 2, 1)),
        ziekte("overlaps", date(2025, 1, 20), employee="D", recovery_date=date(2025, 1, 25)),
    ]
    found = kept(employers, old + matters, date(2026, 12, 1))
    assert [d.dossier_id for d in found] == [d.dossier_id for d in matters]
    # ...and the employee's earlier, quiet dossiers come along: the chain needs them.
    chain = [
        ziekte("long ago", date(2024, 1, 8), employee="F", recovery_date=date(2024, 1, 20)),
        ziekte("again", date(2026, 11, 2), employee="F", vangnet_status="no_risk"),
    ]
    assert kept(employers, chain, date(2026, 12, 1)) == chain


def test_a_link_that_is_off_keeps_only_overlaps() -> None:
    employers = {"WG001": employer(start_date=None)}
    dossiers = [
        ziekte("open", date(2026, 11, 2), employee="A"),
        ziekte("one", date(2026, 1, 5), employee="B", recovery_date=date(2026, 2, 1)),
        ziekte("two", date(2026, 1, 20), employee="B", recovery_date=date(2026, 3, 1)),
    ]
    found = kept(employers, dossiers, date(2026, 12, 1))
    assert [d.dossier_id for d in found] == ["one", "two"]
    assert evaluate(employers, found, date(2026, 12, 1)) == evaluate(employers, dossiers, date(2026, 12, 1))


# ---------------------------------------------------------------- the loader's table


def test_the_table_holds_the_same_dossiers_and_errors_as_the_plain_loader(tmp_path: Path) -> None:
    """Duplicates across files, unreadable cells, unknown org units, booleans in any case and a
    JSON export: the table and the list of dossiers agree row for row, and so do the errors."""
    employers = {
        "WG001": employer(units=(legal_entity("OE1"), OrgUnit(id="OE2", name="Filiaal", parent="OE1")))
    }
    header = ["employer_id", "org_unit_id", "employee_id", "dossier_id", "dossier_type", "first_sick_day"]
    header += ["recovery_date", "expected_delivery_date", "bsn", "last_name"]
    rows = [
        ["WG001", "OE1", "1", "Z-1", "ziekte", "2026-01-05", "2026-02-01", "", "111222333", " Jansen "],
        ["WG001", "OE2", "2", "Z-2", "ziekte", "31-12-2025", "", "", "", ""],
        ["WG001", "OE9", "3", "Z-3", "ziekte", "2026-01-05", "", "", "", ""],
        ["WG001", "OE1", "4", "Z-4", "ziekte", "2026-02-30", "", "", "", ""],
        ["WG001", "OE1", "5", "Z-1", "ziekte", "2026-03-01", "", "", "", ""],
        ["WG001", "OE1", "6", "P-6", "zwangerschap", "", "", "2026-09-01", "", ""],
        ["", "", "", "", "", "", "", "", "", ""],
        ["WG001", "OE1", "7", "Z-7", "ziekte", "2026-04-01", "2026-03-01", "", "", ""],
    ] + [
        ["WG001", "OE2", str(100 + n), f"Z-{100 + n}", "ziekte", "2026-05-04", "", "", "", ""]
        for n in range(5000)
    ]
    # CONTRACT §3: booleans in any case; a spelling first seen deep in a chunk, and one that is not
    # a boolean at all.
    header.append("multiple_birth")
    spellings = ["", "TRUE", "nee", "Ja", "False", "1", "NEE"]
    for number, found in enumerate(rows):
        found.append(spellings[number % len(spellings)] if found[4] else "")
    rows[3000][-1] = "Yes"
    with (tmp_path / "a.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";").writerows([header, *rows])
    (tmp_path / "b.json").write_text(
        json.dumps(
            [
                {
                    "employer_id": "WG001",
                    "org_unit_id": "OE1",
                    "employee_id": "8",
                    "dossier_id": "Z-2",
                    "dossier_type": "ziekte",
                    "first_sick_day": "2026-01-05",
                },
                {
                    "employer_id": "WG001",
                    "org_unit_id": "OE1",
                    "employee_id": "9",
                    "dossier_id": "Z-9",
                    "dossier_type": "ziekte",
                    "first_sick_day": "2026-01-05",
                    "direct_payment": "JA",
                    "multiple_birth": True,
                    "initials": "T.",
                    "last_name": "Testpersoon",
                },
            ]
        ),
        encoding="utf-8",
    )
    paths = [tmp_path / "a.csv", tmp_path / "b.json", tmp_path / "a.csv"]
    dossiers, errors = load_dossiers(paths, employers, display_base=tmp_path)
    table, table_errors = load_table(paths, employers, display_base=tmp_path)
    assert table.dossiers() == dossiers
    assert len(table) == len(dossiers)
    for name in ("last_name", "bsn", "iban", "first_sick_day"):  # kept as read, or converted
        assert table.column(name) == [getattr(d, name) for d in dossiers]
    assert table_errors == errors
    assert {e.line for e in errors if "'Z-1'" in e.message} == {2, 6}  # in both files, both places
    assert [e.line for e in errors if e.field == "multiple_birth"] == [3002, 3002]  # "Yes", both times
    assert table.column("direct_payment").count(True) == 1  # "JA" in the JSON export
    assert {type(value) for value in table.column("multiple_birth")} == {bool}
    mask = [n % 3 == 0 for n in range(len(dossiers))]
    assert table.dossiers(mask) == [d for d, keep in zip(dossiers, mask, strict=True) if keep]
    # A preview does not read the names: the same rows and errors, the names absent.
    preview, preview_errors = load_table(paths, employers, display_base=tmp_path, names=False)
    assert preview_errors == errors
    nameless = [replace(d, **dict.fromkeys(exports.NAMES)) for d in dossiers]
    assert preview.dossiers() == nameless
    assert nameless != dossiers  # the export has names


# ---------------------------------------------------------------- end to end


def reference_due(config_path: Path, run_date: date, horizon: int) -> dict:
    """`due --format json` computed the plain way: every dossier an object, every one evaluated."""
    config = load_config(config_path)
    dossiers, export_errors = load_dossiers(
        config.paths.dossiers, config.employers, display_base=config.source.parent
    )
    evaluation = evaluate(config.employers, dossiers, run_date, horizon=horizon)
    errors = sorted(
        [*export_errors, *evaluation.input_errors],
        key=lambda e: (e.source, e.line if e.line is not None else -1),
    )
    return {
        "date": run_date.isoformat(),
        "notifications": [n.to_json() for n in evaluation.notifications],
        "input_errors": [e.to_json() for e in errors],
    }


def test_due_json_on_a_generated_export_equals_the_plain_path(tmp_path: Path) -> None:
    """The benchmark's kind of export (plus overlaps, duplicates, bad dates and late starts),
    on dates before, at and after go-live and with a horizon: the same JSON, byte for byte."""
    config = bench_due.write_config(tmp_path)
    export = tmp_path / "dossiers.csv"
    bench_due.write_rows(export, 12_000, seed=5)
    with export.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    column = {name: index for index, name in enumerate(header)}
    extra = []
    for n, source in enumerate(rows[1:1500:7]):
        row = list(source)
        row[column["dossier_id"]] = f"X-{n}"
        if n % 4 == 0 and row[column["dossier_type"]] == "ziekte":  # a second, overlapping case
            row[column["recovery_date"]] = ""
        elif n % 4 == 1:
            row[column["dossier_id"]] = rows[1 + n][column["dossier_id"]]  # a duplicate
        elif n % 4 == 2:
            row[column["first_sick_day"]] = "2026-02-30"
        extra.append(row)
    with export.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(extra)
    runner = CliRunner()
    for run_date, horizon in ((date(2026, 12, 1), 0), (date(2026, 12, 1), 45), (date(2026, 6, 1), 10)):
        result = runner.invoke(
            app,
            [
                "due",
                "-c",
                str(config),
                "--date",
                run_date.isoformat(),
                "--horizon",
                str(horizon),
                "--format",
                "json",
            ],
        )
        assert result.exit_code == 1, result.output  # input errors and late notifications
        document = json.loads(result.stdout)
        assert document == reference_due(config, run_date, horizon)
        assert document["input_errors"]
    assert document["notifications"] or horizon == 10


def test_plan_dossiers_are_every_usable_dossier(tmp_path: Path) -> None:
    """`run` builds its messages from `Plan.dossiers`: it must still hold every dossier, as the
    plain loader reads them, although most were never made objects."""
    config_path = bench_due.write_config(tmp_path)
    bench_due.write_rows(tmp_path / "dossiers.csv", 3000, seed=9)
    config = load_config(config_path)
    dossiers, _ = load_dossiers(config.paths.dossiers, config.employers, display_base=tmp_path)
    found = planning.plan(config, date(2026, 12, 1)).dossiers
    assert len(found) == len(dossiers)
    assert "D-17" in found and "D-nope" not in found
    assert dict(found) == {d.dossier_id: d for d in dossiers}


def test_dates_at_the_ends_of_the_calendar_are_left_to_the_rules() -> None:
    """Terms that cannot be computed make `evaluate` report the employee's rows; the pre-filter
    must not hide such a typo as "long ago" (year 1) or behind a link that is off."""
    employers = {
        "WG001": employer(start_date=date(2026, 11, 16)),
        "WG002": employer("WG002", start_date=None),
    }
    dossiers = [
        zwangerschap("P-1", date(1, 2, 1), employee="A"),
        ziekte("Z-2", date(2025, 1, 6), employee="B", employer_id="WG002", recovery_date=date(2025, 2, 1)),
        zwangerschap("P-2", date.max, employee="B", employer_id="WG002"),
    ]
    run_date = date(2026, 12, 1)
    expected = evaluate(employers, dossiers, run_date)
    assert {e.line for e in expected.input_errors} == {d.line for d in dossiers}
    assert evaluate(employers, kept(employers, dossiers, run_date), run_date) == expected


def test_a_dossier_is_found_by_its_id_in_any_chunk(tmp_path: Path) -> None:
    config_path = bench_due.write_config(tmp_path)
    bench_due.write_rows(tmp_path / "dossiers.csv", 2500, seed=3)  # a few chunks of rows
    config = load_config(config_path)
    dossiers, _ = load_dossiers(config.paths.dossiers, config.employers, display_base=tmp_path)
    table, _ = load_table(config.paths.dossiers, config.employers, display_base=tmp_path)
    positions = table.positions()
    for dossier in (dossiers[0], dossiers[1023], dossiers[1024], dossiers[-1]):
        assert table.dossier(positions[dossier.dossier_id]) == dossier


# ---------------------------------------------------------------- the CSV reader's fast path

CSV_PIECES = ["a", "b c", " ", ",", ";", '"', '""', "\n", "\r\n", "\r", "é", "\0", "x" * 12]
FIELD_PIECES = ["", "", "a", "b c", " ", "é", "2026-01-05", '"q"', '"x\ny"', "\0"]


@st.composite
def csv_texts(draw: st.DrawFn, width: int, delimiter: str) -> str:
    """Mostly lines of `width` fields (now and then a wider or narrower one, a blank line or one
    of only separators, a quoted field), or any text at all."""
    if draw(st.integers(0, 3)) == 0:
        return "".join(draw(st.lists(st.sampled_from(CSV_PIECES), max_size=40)))
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        shape = draw(st.sampled_from(["row"] * 8 + ["wide", "narrow", "blank", "separators"]))
        fields = width + {"wide": 1, "narrow": -1}.get(shape, 0)
        values = [draw(st.sampled_from(FIELD_PIECES[:-3] * 6 + FIELD_PIECES[-3:])) for _ in range(fields)]
        line = {"blank": "", "separators": delimiter * (width - 1)}.get(shape, delimiter.join(values))
        lines.append(line + draw(st.sampled_from(["\n", "\n", "\r\n"])))
    return "".join(lines)


@settings(max_examples=500, deadline=None)
@given(
    st.data(),
    st.sampled_from([",", ";"]),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=4),
    st.sampled_from([131072, 10]),
)
def test_fast_chunks_give_the_csv_modules_rows_and_errors(data, delimiter, width, chunk, field_limit) -> None:
    """Lines without quotes are split with `str.split` (whole chunks at once when every line has
    the header's width), the others read by `csv.reader`: on any text (quotes spanning chunks,
    CR/LF/CRLF, blank lines, NUL, over-long fields, rows too wide or narrow) the rows, the line
    each starts on and the errors are the csv module's — except that a row with an over-long
    field is skipped and named (`too_long`) and the rows after it are read on."""
    text = data.draw(csv_texts(width, delimiter))
    previous = csv.field_size_limit(field_limit)
    try:
        expected, expected_lines, expected_too_long, expected_error = [], [], [], None
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            while True:
                before = reader.line_num
                try:
                    row = next(reader, None)
                except csv.Error as error:
                    if "field limit" not in str(error):
                        raise
                    expected_too_long.append(before + 2)
                    continue
                if row is None:
                    break
                expected.append(row)
                expected_lines.append(before + 2)  # the header is line 1
        except csv.Error as error:
            expected_error = (str(error), reader.line_num + 1)
        found, found_lines, found_error = [], [], None
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(exports, "_CHUNK", chunk)
            chunks = exports._CsvChunks(io.StringIO(text, newline=""), delimiter, width)
            try:
                for lines, columns, rows in chunks:
                    found += rows if rows is not None else [list(row) for row in zip(*columns, strict=True)]
                    found_lines += list(lines)
            except csv.Error as error:
                found_error = (str(error), chunks.error_line())
    finally:
        csv.field_size_limit(previous)
    assert found_error == expected_error
    if expected_error is None:
        assert found == expected
        assert found_lines == expected_lines  # a lone CR inside a field ends a line too
        assert chunks.too_long == expected_too_long


def test_a_file_that_stops_being_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    """Chunks of a thousand lines are decoded ahead of use: the message still names the line."""
    config_path = bench_due.write_config(tmp_path)
    export = tmp_path / "dossiers.csv"
    bench_due.write_rows(export, 3000, seed=2)
    data = export.read_bytes().split(b"\n")
    data[2500] = data[2500].replace(b"Test", b"T\xe9st", 1)  # Latin-1, line 2501
    export.write_bytes(b"\n".join(data))
    config = load_config(config_path)
    with pytest.raises(InputFileError, match=r"dossiers\.csv: not UTF-8 text \(near line 2501\)"):
        load_table(config.paths.dossiers, config.employers, display_base=tmp_path)
