"""`uwvcli status KEY`: one notification's story from a journal built through the Journal API —
each revision sent, each withdrawal and why, the replacement, and where it stands now."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from delivery_support import lifecycle, record_placeholder
from helpers import PERSON, write_setup
from rich.console import Console
from typer.testing import CliRunner

from uwvcli.app.history import UnknownKey, history
from uwvcli.cli import app
from uwvcli.cli.console import Terminal
from uwvcli.cli.status import render_history
from uwvcli.domain.corrections import Cause, StoredFacts
from uwvcli.domain.keys import parse_key
from uwvcli.inputs.config import load_config
from uwvcli.state.journal import Journal

KEY = "WG001/D1/zw-ziekmelding"
WITHDRAWAL = f"{KEY}/intrekking/1"
OTHER = "WG001/D2/wazo"
#: UWV may quote the person's BSN and birth date in its findings: never shown as they are.
T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)  # the statuses' own moments are replaced by now
DETAILS = f"Burgerservicenr {PERSON['bsn']} wijkt af.\nGeboortedat {PERSON['birth_date']} wijkt af."


def _sent(journal: Journal, key: str, kenmerk: str, *final: tuple[str, str | None]) -> None:
    """Posted, then Digipoort's statuses as they come: each after what happened before it."""
    journal.record_accepted(journal.begin_attempt(parse_key(key)), kenmerk, datetime.now(UTC))
    journal.add_statuses(kenmerk, [replace(s, timestamp=datetime.now(UTC)) for s in lifecycle(T0, *final)])


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A ziekmelding sent, corrected (its withdrawal accepted) and sent again as revision 2; and
    a wazo rejected once, whose dossier then left the exports."""
    path = write_setup(tmp_path, rows=[])
    with Journal.open(load_config(path).paths.state) as journal:
        record_placeholder(journal, KEY)
        _sent(journal, KEY, "KEN-1", ("500", None))
        journal.set_outcome(parse_key(KEY), "accepted")
        record_placeholder(journal, WITHDRAWAL, cause=Cause.CORRECTED)
        _sent(journal, WITHDRAWAL, "KEN-2", ("500", None))
        journal.set_outcome(parse_key(WITHDRAWAL), "accepted")
        record_placeholder(journal, KEY, revision=2)
        journal.record_facts(
            parse_key(KEY), StoredFacts('{"MeldingZiekte/DatEersteAoDag":"2026-11-17"}', "d")
        )
        _sent(journal, KEY, "KEN-3", ("400", None))
        journal.set_outcome(parse_key(KEY), "delivered")

        record_placeholder(journal, OTHER)
        _sent(journal, OTHER, "KEN-4")
        rejected = replace(lifecycle(T0, ("311", "VAS500"))[-1], timestamp=datetime.now(UTC), details=DETAILS)
        journal.add_statuses("KEN-4", [rejected])
        journal.set_outcome(parse_key(OTHER), "rejected")
        journal.record_gone(parse_key(OTHER), datetime.now(UTC).date())
    return path


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_a_corrected_notification_tells_each_revision_its_withdrawal_and_the_replacement(
    config_path: Path,
) -> None:
    result = _run("status", KEY, "--config", str(config_path), "--format", "json")
    assert result.exit_code == 0, result.output
    story = json.loads(result.stdout)
    assert (story["key"], story["state"], story["revision"]) == (KEY, "delivered", 2)
    first, second = story["revisions"]
    assert (first["revision"], first["aanleverkenmerk"], first["kenmerk"]) == (1, "WG001-D1-ZM", "KEN-1")
    assert first["state"] == "withdrawn" and first["withdrawn_by"] == WITHDRAWAL
    assert [s["code"] for s in first["statuses"]][-1] == "500"
    assert (second["revision"], second["aanleverkenmerk"], second["kenmerk"]) == (
        2,
        "WG001-D1-ZM-r2",
        "KEN-3",
    )
    assert second["state"] == "delivered" and second["withdrawn_by"] is None
    (withdrawal,) = story["withdrawals"]
    assert withdrawal["key"] == WITHDRAWAL and withdrawal["cause"] == "corrected"
    assert withdrawal["state"] == "accepted" and withdrawal["replaced_by_revision"] == 2
    assert withdrawal["messages"][0]["kenmerk"] == "KEN-2"
    assert story["facts"] == {"MeldingZiekte/DatEersteAoDag": "2026-11-17"}
    told = [(e["message"], e["event"]) for e in story["events"]]
    assert told.index(("revision 1", "submitted")) < told.index(("revision 1", "status 500"))
    assert told.index(("revision 1", "status 500")) < told.index(("withdrawal of revision 1", "decided"))
    assert told.index(("withdrawal of revision 1", "status 500")) < told.index(("revision 2", "submitted"))
    assert [e["at"] for e in story["events"]] == sorted(e["at"] for e in story["events"])


def test_a_withdrawals_key_tells_the_story_of_the_notification_it_withdraws(config_path: Path) -> None:
    config = load_config(config_path)
    by_withdrawal = history(config, parse_key(WITHDRAWAL))
    assert by_withdrawal["asked"] == WITHDRAWAL
    assert {**by_withdrawal, "asked": KEY} == history(config, parse_key(KEY))


def test_a_persons_reason_is_shown_with_the_cause(tmp_path: Path) -> None:
    path = write_setup(tmp_path, rows=[])
    with Journal.open(load_config(path).paths.state) as journal:
        record_placeholder(journal, KEY)
        _sent(journal, KEY, "KEN-1", ("500", None))
        journal.set_outcome(parse_key(KEY), "accepted")
        record_placeholder(journal, WITHDRAWAL, cause=Cause.REQUESTED, cause_reason="entered by mistake")
    story = history(load_config(path), parse_key(WITHDRAWAL))
    (withdrawal,) = story["withdrawals"]
    assert withdrawal["state"] == "written" and withdrawal["cause_reason"] == "entered by mistake"
    assert withdrawal["why"].startswith("requested by a person") and withdrawal["why"].endswith(
        "entered by mistake"
    )
    assert withdrawal["replaced_by_revision"] is None
    assert story["revisions"][0]["state"] == "accepted"  # UWV still holds it until the withdrawal is accepted


def test_a_rejected_notification_whose_dossier_left_shows_it_redacted_and_exits_1(config_path: Path) -> None:
    result = _run("status", OTHER, "--config", str(config_path), "--format", "json")
    assert result.exit_code == 1  # rejected: a person must look
    story = json.loads(result.stdout)
    assert story["gone_reported"] is not None and story["withdrawals"] == []
    (gone,) = [event for event in story["events"] if event["event"] == "gone"]
    assert f"uwvcli withdraw {OTHER}" in gone["detail"]
    assert story["revisions"][0]["statuses"][-1]["findings"] == [
        "Burgerservicenr […] wijkt af.",
        "Geboortedat […] wijkt af.",
    ]
    plain = _run("status", OTHER, "--config", str(config_path))
    for shown in (result.stdout, plain.stdout):
        assert PERSON["bsn"] not in shown and PERSON["birth_date"] not in shown
        assert PERSON["last_name"] not in shown


def test_plain_lines_when_not_a_terminal(config_path: Path) -> None:
    result = _run("status", KEY, "--config", str(config_path))
    assert result.exit_code == 0, result.output
    first, withdrawal, *events = result.stdout.splitlines()
    assert first.startswith(f"{KEY}: delivered · revision 2 · kenmerk KEN-3")
    assert (
        withdrawal.startswith(f"{WITHDRAWAL}: accepted · corrected")
        and "replaced by revision 2" in withdrawal
    )
    submitted = [line.split("\t") for line in events if "\tsubmitted\t" in line]
    assert [(fields[1], fields[3]) for fields in submitted] == [
        ("revision 1", "KEN-1"),
        ("withdrawal of revision 1", "KEN-2"),
        ("revision 2", "KEN-3"),
    ]


@pytest.mark.parametrize("width", [200, 80])
def test_a_terminal_gets_a_table_that_fits(config_path: Path, width: int) -> None:
    terminal = Terminal()
    terminal.out = Console(
        file=io.StringIO(), force_terminal=True, width=width, no_color=True, highlight=False
    )
    render_history(terminal, history(load_config(config_path), parse_key(KEY)))
    text = terminal.out.file.getvalue()  # type: ignore[attr-defined]
    assert f"History of {KEY}" in text and "replaced by revision 2" in text
    assert all(len(line) <= width for line in text.splitlines() if "─" in line or "━" in line)
    assert ("Aanleverkenmerk" in text) is (width == 200)


def test_an_unknown_key_is_a_clear_message_and_exit_1(config_path: Path, tmp_path: Path) -> None:
    unknown = _run("status", "WG001/NOPE/wazo", "--config", str(config_path))
    assert unknown.exit_code == 1 and "the journal has no such notification" in unknown.output
    withdrawal = _run("status", f"{OTHER}/intrekking/1", "--config", str(config_path))
    assert withdrawal.exit_code == 1 and f"uwvcli status {OTHER}" in withdrawal.output
    bad = _run("status", "not-a-key", "--config", str(config_path))
    assert bad.exit_code == 2 and "copy the key exactly" in bad.output
    (tmp_path / "fresh").mkdir()
    empty = write_setup(tmp_path / "fresh", rows=[])
    with pytest.raises(UnknownKey):
        history(load_config(empty), parse_key(KEY))
    assert not load_config(empty).paths.state.exists()  # looking never creates a journal


def test_a_key_with_a_filter_or_csv_is_a_usage_error(config_path: Path) -> None:
    assert _run("status", KEY, "--state", "accepted", "--config", str(config_path)).exit_code == 2
    assert _run("status", KEY, "--format", "csv", "--config", str(config_path)).exit_code == 2
