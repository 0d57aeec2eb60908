"""The recap of a day tells the employer everything that went out that day, once, even when the
run that sent it was killed before it wrote the recap (`daily.build_recaps` on a real journal)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.helpers import write_setup
from uwvcli.app.daily import build_recaps
from uwvcli.app.prepare import Prepared, PrepareReport
from uwvcli.delivery.loop import Delivery, SendReport
from uwvcli.domain.keys import parse_key
from uwvcli.domain.models import Config, Kind, Notification, State, StatusRecord
from uwvcli.inputs.config import load_config
from uwvcli.recap.mails import recap_folder, write_recaps
from uwvcli.state.journal import Journal

DAY = date(2026, 12, 1)
LATE = Notification(
    key=parse_key("WG001/Z-1/zw-ziekmelding"),
    kind=Kind.ZW_ZIEKMELDING,
    employer_id="WG001",
    employee_id="1001",
    dossier_id="Z-1",
    due_date=date(2026, 11, 20),
    deadline=date(2026, 11, 23),  # before DAY: sent late
    state=State.LATE,
)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_setup(tmp_path, []))


def send_and_accept(journal: Journal, n: Notification, folder: Path) -> None:
    """What a run does to one message before it writes the recap."""
    journal.record_written(
        n,
        file=folder / "WG001-Z-1-ZM.xml",
        sha256="0" * 64,
        aanleverkenmerk="WG001-Z-1-ZM",
        revision=1,
        loonheffingennummer="123456782L01",
        berichtsoort="UWV_ZW_ZIEKMELDING",
        content_sha256="1" * 64,
    )
    attempt = journal.begin_attempt(n.key)
    now = datetime.now(UTC)
    journal.record_accepted(attempt, "kenmerk-1", now)
    journal.add_statuses(
        "kenmerk-1", [StatusRecord("500", now, "Validatie bij de uitvragende partij gelukt.")]
    )
    journal.set_outcome(n.key, "accepted")


def nothing_prepared(day: date = DAY) -> PrepareReport:
    return PrepareReport(run_date=day)


def test_a_rerun_reports_what_a_killed_run_of_the_day_sent(tmp_path: Path, config: Config) -> None:
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(DAY)  # killed after sending, before its recap
        send_and_accept(journal, LATE, tmp_path)
        journal.start_run(DAY)  # the rerun: nothing left to prepare or send

        recaps = build_recaps(config, DAY, journal, nothing_prepared(), SendReport(), dossiers={})

    (wg001,) = recaps
    assert [item.key for item in wg001.accepted] == [LATE.key]
    assert [item.key for item in wg001.late] == [LATE.key]  # it went out past its deadline


def test_a_normal_rerun_of_the_day_adds_no_mail(tmp_path: Path, config: Config) -> None:
    folder = recap_folder(config.paths)
    prepared = Prepared(LATE, "WG001-Z-1-ZM", 1, tmp_path / "WG001-Z-1-ZM.xml")
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(DAY)
        send_and_accept(journal, LATE, tmp_path)
        sent = SendReport()
        sent.note(Delivery(LATE.key, "WG001-Z-1-ZM", "accepted", kenmerk="kenmerk-1", code="500"))
        first = build_recaps(
            config, DAY, journal, PrepareReport(run_date=DAY, written=[prepared]), sent, dossiers={}
        )
        written = write_recaps(folder, first)
        journal.start_run(DAY)
        again = build_recaps(config, DAY, journal, nothing_prepared(), SendReport(), dossiers={})

    assert again[0].has_news  # the rerun knows what the day sent...
    before = written[0].read_bytes()
    write_recaps(folder, again)
    # ...and the earlier recap told it all: no follow-up, the first one untouched
    assert sorted(p.name for p in (folder / "pending").iterdir()) == [f"WG001_{DAY.isoformat()}.eml"]
    assert written[0].read_bytes() == before


def test_a_later_day_does_not_repeat_what_an_earlier_day_reported(tmp_path: Path, config: Config) -> None:
    later = date(2026, 12, 2)
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(DAY)
        send_and_accept(journal, LATE, tmp_path)
        journal.start_run(later)

        (wg001,) = build_recaps(config, later, journal, nothing_prepared(later), SendReport(), dossiers={})

    assert not wg001.has_news


def test_a_rejection_reported_from_the_journal_carries_uwvs_findings(tmp_path: Path, config: Config) -> None:
    """The recap item of a rejected message gets the findings of its last status's details, the
    way it gets the foutbeschrijving: redacted, so a quoted BSN never reaches the mail."""
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(DAY)
        send_and_accept(journal, LATE, tmp_path)
        journal.add_statuses(
            "kenmerk-1",
            [
                StatusRecord(
                    "510",
                    datetime.now(UTC),
                    "Validatie bij de uitvragende partij niet gelukt.",
                    details="BSN 111222333 is onbekend.\nDatEersteAoDag ligt na de meldingsdatum.",
                )
            ],
        )
        journal.set_outcome(LATE.key, "rejected")

        (wg001,) = build_recaps(config, DAY, journal, nothing_prepared(), SendReport(), dossiers={})

    (item,) = wg001.rejected
    assert item.code == "510"
    assert item.findings == ("BSN […] is onbekend.", "DatEersteAoDag ligt na de meldingsdatum.")


def test_unverifiable_and_overdue_statuses_are_named_in_the_recap(tmp_path: Path, config: Config) -> None:
    from uwvcli.delivery.loop import OVERDUE, UNVERIFIED

    send = SendReport()
    first, second = parse_key("WG001/Z-1/zw-ziekmelding"), parse_key("WG001/Z-2/wazo")
    send.note(Delivery(key=first, aanleverkenmerk="A1", state=UNVERIFIED, reason="bad"))
    send.note(Delivery(key=second, aanleverkenmerk="A2", state=OVERDUE, reason="old"))
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(DAY)
        (wg001,) = build_recaps(config, DAY, journal, nothing_prepared(), send, dossiers={})
    assert send.needs_attention
    assert any("niet worden gecontroleerd" in note for note in wg001.notes)
    assert any("geen eindstatus" in note for note in wg001.notes)


def test_an_unverifiable_status_is_named_only_in_its_own_employers_recap(tmp_path: Path) -> None:
    """Regression: the note was appended to the run's shared notes (after this employer's copy
    was taken), so it reached the next employer's recap instead, and mutated the caller's list."""
    from tests.helpers import employer
    from uwvcli.delivery.loop import UNVERIFIED

    config = load_config(write_setup(tmp_path, [], employers=[employer("WG001"), employer("WG002")]))
    send = SendReport()
    send.note(Delivery(key=parse_key("WG001/Z-1/zw-ziekmelding"), aanleverkenmerk="A1", state=UNVERIFIED))
    run_notes = ["a note of the whole run"]
    with Journal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(DAY)
        wg001, wg002 = build_recaps(
            config, DAY, journal, nothing_prepared(), send, dossiers={}, notes=run_notes
        )
    assert any("niet worden gecontroleerd" in note for note in wg001.notes)
    assert not any("niet worden gecontroleerd" in note for note in wg002.notes)
    assert run_notes == ["a note of the whole run"]
