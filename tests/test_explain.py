"""`uwvcli explain`, end to end through the CLI: cards, JSON (CONTRACT §5), `--list`, `--phase`,
`--kenmerk` against a real journal, and the exit codes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tests.helpers import write_setup
from uwvcli.cli import app
from uwvcli.cli.explain import ExplainFormat, _render_history, show_codes, show_list
from uwvcli.digipoort.codes import all_codes, explain
from uwvcli.domain.keys import parse_key
from uwvcli.domain.models import Kind, Notification, State, StatusRecord
from uwvcli.state.journal import Journal

runner = CliRunner()

CONTRACT_KEYS = ["code", "type", "known", "phase", "final", "success", "name_nl", "meaning", "action"]


def run(*args: str):
    return runner.invoke(app, ["explain", *args])


# ---------------------------------------------------------------- one or more codes


def test_one_code_as_json_is_exactly_the_contract_object() -> None:
    result = run("311", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert document["code"] == "311" and document["type"] == "status" and document["known"] is True
    assert (document["phase"], document["final"], document["success"]) == ("validatie", True, False)
    assert document["name_nl"] == "Validatie niet gelukt"
    assert result.stderr == ""


def test_several_codes_as_json_are_a_list_in_the_order_given() -> None:
    result = run("als100", "VAS500", " 500 ", "-f", "json")
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)
    assert [d["code"] for d in documents] == ["ALS100", "VAS500", "500"]
    assert all(list(d)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS for d in documents)


def test_an_unknown_code_is_answered_but_exits_1() -> None:
    result = run("312", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["known"] is False and document["type"] == "status" and document["phase"] == "validatie"
    assert "312" in result.stderr and "not in uwvcli's table" in result.stderr


def test_one_unknown_among_known_codes_exits_1() -> None:
    result = run("311", "ALS999", "--format", "json")
    assert result.exit_code == 1
    assert [d["known"] for d in json.loads(result.stdout)] == [True, False]


def test_garbage_gets_a_clear_answer_not_a_traceback() -> None:
    result = run("hello")
    assert result.exit_code == 1
    assert "'hello' is not a Digipoort code" in result.stdout
    assert "three digits" in result.stdout and "Traceback" not in result.output


def test_text_card_when_not_on_a_terminal() -> None:
    result = run("311")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "311  Validatie niet gelukt"
    text = result.stdout
    assert "validatie" in text and "yes: the message failed" in text
    assert "VAS500" in text  # what comes with it
    assert "no: correct something first" in text
    assert "\x1b[" not in text  # plain: no colours, no box drawing
    assert "╭" not in text


def test_a_foutcode_card_shows_digipoorts_own_text_and_the_service() -> None:
    result = run("afs600")
    assert result.exit_code == 0
    assert "AFS600" in result.stdout
    assert "De verantwoordingsinformatie kan niet worden afgeleverd" in result.stdout
    assert "AfleverService" in result.stdout
    assert "yes, later" in result.stdout


def test_on_a_terminal_each_code_is_a_panel() -> None:
    console = Console(force_terminal=True, width=100, record=True, no_color=True)
    assert show_codes(console, [explain("311"), explain("599")], ExplainFormat.text) is False
    screen = console.export_text()
    assert screen.count("╭") == 2
    assert "311  Validatie niet gelukt" in screen
    assert "not in uwvcli's table: inferred" in screen


def test_without_any_code_or_option_it_is_a_usage_error() -> None:
    result = run()
    assert result.exit_code == 2
    assert "--list" in result.stderr and "--kenmerk" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [["311", "--list"], ["311", "--kenmerk", "X"], ["--list", "--kenmerk", "X"], ["-f", "yaml", "311"]],
)
def test_conflicting_or_wrong_options_are_usage_errors(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""


# ---------------------------------------------------------------- --list and --phase


def test_list_as_json_is_every_code() -> None:
    result = run("--list", "--format", "json")
    assert result.exit_code == 0
    documents = json.loads(result.stdout)
    assert [d["code"] for d in documents] == [info.code for info in all_codes()]
    assert {"311", "500", "420", "ALS100", "STS100", "AFS600"} <= {d["code"] for d in documents}


def test_list_as_text_is_one_line_per_code_under_a_header() -> None:
    result = run("--list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["code", "type", "phase"]
    assert len(lines) == 1 + len(all_codes())
    line_311 = next(line for line in lines if line.startswith("311 "))
    assert "validatie" in line_311 and "Validatie niet gelukt" in line_311


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        ("validatie", {"301", "311", "321", "VAS400", "VAS500"}),
        ("Validation", {"301", "311", "321", "VAS400", "VAS500"}),
        ("uitvragende-partij", {"500", "510"}),
        ("receiver", {"500", "510"}),
        ("statusinformatie", {"STS100"}),
        ("unknown", {"710", "720"}),
    ],
)
def test_phase_filters_the_list(phase: str, expected: set[str]) -> None:
    result = run("--list", "--phase", phase, "--format", "json")
    assert result.exit_code == 0
    assert {d["code"] for d in json.loads(result.stdout)} == expected


def test_phase_alone_implies_the_list() -> None:
    result = run("--phase", "afleveren", "--format", "json")
    assert result.exit_code == 0
    assert {d["phase"] for d in json.loads(result.stdout)} == {"afleveren"}


def test_an_unknown_phase_is_a_usage_error_naming_the_choices() -> None:
    result = run("--list", "--phase", "nonsense")
    assert result.exit_code == 2
    assert "aanleveren" in result.stderr and "uitvragende-partij" in result.stderr


def test_on_a_terminal_the_list_is_a_table() -> None:
    console = Console(force_terminal=True, width=160, record=True, no_color=True)
    show_list(console, all_codes(), ExplainFormat.text)
    screen = console.export_text()
    assert "Digipoort codes uwvcli knows" in screen and "┃" in screen
    assert "AFS600" in screen


# ---------------------------------------------------------------- --kenmerk: a history from the journal

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
FOUTBESCHRIJVING = "Het bericht voldoet niet aan het schema: element X ontbreekt (regel 12)."


def _history() -> list[StatusRecord]:
    return [
        StatusRecord("100", T0 + timedelta(seconds=1), "Aanleveren gelukt"),
        StatusRecord("105", T0, "Aanleverproces gestart"),
        StatusRecord("110", T0 + timedelta(seconds=2), "Aanleverproces wordt aangeboden"),
        StatusRecord(
            "311",
            T0 + timedelta(minutes=1),
            "Validatie niet gelukt",
            "VAS500",
            FOUTBESCHRIJVING,
            "<details/>",
        ),
    ]


@pytest.fixture
def config_with_history(tmp_path: Path) -> Path:
    config = write_setup(tmp_path, [])
    with Journal.open(tmp_path / "var" / "uwvcli.sqlite") as journal:
        journal.add_statuses("KM-0001", _history())
    return config


def test_kenmerk_history_is_decoded_in_time_order_with_digipoorts_texts_verbatim(
    config_with_history: Path,
) -> None:
    result = run("--kenmerk", "KM-0001", "--config", str(config_with_history))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("105 Aanleverproces gestart") < text.index("100 Aanleveren gelukt")
    assert text.index("100 Aanleveren gelukt") < text.index("311 Validatie niet gelukt")
    assert f"VAS500: {FOUTBESCHRIJVING}" in text  # Digipoort's own explanation, unchanged
    assert "outcome: rejected" in text
    assert "what to do" in text  # the card of the decisive foutcode


def test_kenmerk_history_as_json(config_with_history: Path) -> None:
    result = run("--kenmerk", "KM-0001", "--config", str(config_with_history), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kenmerk"] == "KM-0001" and document["outcome"] == "rejected"
    assert [s["code"] for s in document["statuses"]] == ["105", "100", "110", "311"]
    last = document["statuses"][-1]
    assert (
        last["foutbeschrijving"] == FOUTBESCHRIJVING and last["statusomschrijving"] == "Validatie niet gelukt"
    )
    assert last["explanation"]["phase"] == "validatie"
    assert last["foutcode_explanation"]["code"] == "VAS500"
    assert "details" not in last  # validation findings may quote personal data


UWV_FINDINGS = (
    "<Responsemessage><Identification><MessageId>M-1</MessageId></Identification>"
    "<Specification><Class>F</Class><Code>ZW0202</Code>"
    "<Description>BSN 111222333 is niet bekend bij UWV.</Description></Specification></Responsemessage>"
)


@pytest.fixture
def config_with_findings(tmp_path: Path) -> Path:
    config = write_setup(tmp_path, [])
    history = [*_history()[:3], replace(_history()[3], details=UWV_FINDINGS)]
    with Journal.open(tmp_path / "var" / "uwvcli.sqlite") as journal:
        journal.add_statuses("KM-0002", history)
    return config


def test_kenmerk_history_shows_the_findings_redacted(config_with_findings: Path) -> None:
    result = run("--kenmerk", "KM-0002", "--config", str(config_with_findings))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "    Findings:\n      - ZW0202: BSN […] is niet bekend bij UWV. (Class F)\n" in text
    assert text.index("VAS500: ") < text.index("Findings:") < text.index("outcome: rejected")
    assert "111222333" not in result.output


def test_kenmerk_history_as_json_has_a_findings_list_per_status(config_with_findings: Path) -> None:
    result = run("--kenmerk", "KM-0002", "--config", str(config_with_findings), "--format", "json")
    assert result.exit_code == 0, result.output
    statuses = json.loads(result.stdout)["statuses"]
    assert [s["findings"] for s in statuses] == [
        [],
        [],
        [],
        ["ZW0202: BSN […] is niet bekend bij UWV. (Class F)"],
    ]
    assert "details" not in statuses[-1] and "111222333" not in result.stdout


def test_on_a_terminal_the_findings_are_in_the_digipoort_column() -> None:
    console = Console(force_terminal=True, width=200, record=True, no_color=True)
    history = sorted(
        [*_history()[:3], replace(_history()[3], details=UWV_FINDINGS)], key=lambda s: s.timestamp
    )
    _render_history(console, "KM-0002", None, history, "rejected", history[-1])
    screen = console.export_text()
    assert "Findings:" in screen and "ZW0202: BSN […] is niet bekend bij UWV. (Class F)" in screen
    assert "111222333" not in screen


def test_an_unknown_kenmerk_exits_1_with_advice(config_with_history: Path) -> None:
    result = run("--kenmerk", "KM-9999", "--config", str(config_with_history))
    assert result.exit_code == 1
    assert "no statuses for kenmerk KM-9999" in result.stderr


def test_looking_up_a_kenmerk_never_creates_a_journal(tmp_path: Path) -> None:
    config = write_setup(tmp_path, [])
    result = run("--kenmerk", "KM-0001", "--config", str(config))
    assert result.exit_code == 1
    assert not (tmp_path / "var").exists()


def test_a_broken_configuration_is_reported_cleanly(tmp_path: Path) -> None:
    config = tmp_path / "uwvcli.yaml"
    config.write_text("sender: [\n", encoding="utf-8")
    result = run("--kenmerk", "KM-0001", "--config", str(config))
    assert result.exit_code == 2
    assert "Traceback" not in result.output and result.stdout == ""


def test_kenmerk_history_names_its_notification_and_journal_state(tmp_path: Path) -> None:
    config = write_setup(tmp_path, [])
    notification = Notification(
        key=parse_key("WG001/Z-17/zw-ziekmelding"),
        kind=Kind.ZW_ZIEKMELDING,
        employer_id="WG001",
        employee_id="1001",
        dossier_id="Z-17",
        due_date=date(2026, 11, 27),
        deadline=date(2026, 12, 4),
        state=State.DUE,
    )
    with Journal.open(tmp_path / "var" / "uwvcli.sqlite") as journal:
        journal.record_written(
            notification,
            file=tmp_path / "var" / "outbox" / "WG001-Z-17-ZM.xml",
            sha256="0" * 64,
            aanleverkenmerk="WG001-Z-17-ZM",
            revision=1,
            loonheffingennummer="123456782L01",
            berichtsoort="placeholder",
            content_sha256="1" * 64,
        )
        attempt = journal.begin_attempt(notification.key)
        journal.record_accepted(attempt, "KM-0042", T0)
        journal.add_statuses("KM-0042", _history()[:3])
    result = run("--kenmerk", "KM-0042", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "notification WG001/Z-17/zw-ziekmelding (submitted)" in result.stdout
    assert "outcome: not decided yet" in result.stdout
    document = json.loads(run("--kenmerk", "KM-0042", "--config", str(config), "-f", "json").stdout)
    assert (document["notification"], document["state"], document["outcome"]) == (
        "WG001/Z-17/zw-ziekmelding",
        "submitted",
        None,
    )
