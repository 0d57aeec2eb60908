"""What a person sees on a terminal: tables that fit 80 columns without breaking a word, a date,
a code or a kenmerk; every column with --wide; each status text said once; the shared options on
either side of the command name; readable --help."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from delivery_support import lifecycle, record_placeholder
from helpers import employer, write_setup
from rich.console import Console
from typer.testing import CliRunner

from uwvcli.app.due import preview
from uwvcli.app.status import overview
from uwvcli.cli import app
from uwvcli.cli import due as due_cli
from uwvcli.cli import status as status_cli
from uwvcli.cli.console import Terminal
from uwvcli.cli.output import csv_document
from uwvcli.cli.send import explanation, render_report
from uwvcli.delivery.loop import Delivery, SendReport
from uwvcli.domain.keys import parse_key
from uwvcli.inputs.config import load_config
from uwvcli.state.journal import Journal

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
KENMERKEN = ("3f2b8c1e-9d4a-4e7b-8c2d-1a5e6f7b8c9d", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def terminal(width: int, *, wide: bool = False) -> Terminal:
    term = Terminal()
    term.out = Console(
        file=io.StringIO(),
        force_terminal=True,
        width=width,
        color_system=None,
        highlight=False,
        soft_wrap=True,
    )
    term.wide = wide
    return term


def shown(term: Terminal) -> str:
    return term.out.file.getvalue()


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("samples") / "samples"
    shutil.copytree(SAMPLES, folder, ignore=shutil.ignore_patterns("var"))
    return folder / "uwvcli.yaml"


def _due_table(samples: Path, width: int, *, wide: bool = False) -> tuple[str, list]:
    config = load_config(samples)
    plan = preview(config, date(2026, 12, 1), horizon=14)
    term = terminal(width, wide=wide)
    due_cli.render_table(term, config, date(2026, 12, 1), plan.notifications)
    return shown(term), plan.notifications


def test_due_at_80_columns_fits_and_breaks_no_word_date_or_code(samples: Path) -> None:
    text, notifications = _due_table(samples, 80)
    lines = text.splitlines()
    table = [line for line in lines if "│" in line]
    assert table and all(len(line) <= 80 for line in table)
    assert len(table) == len(notifications)  # one line per notification
    assert "Employer" in text and "Employe\n" not in text and "Employe│" not in text
    # every deadline whole, on the notification's own line
    for listed, line in zip(notifications, table, strict=True):
        if listed.deadline:
            assert listed.deadline.isoformat() in line
    # the problems, left out of the narrow table, are listed under it, with the notification's key
    blocked = [n for n in notifications if n.problems]
    for n in blocked:
        at = lines.index(str(n.key))
        assert lines[at + 1 : at + 1 + len(n.problems)] == [f"  {problem}" for problem in n.problems]


def test_due_at_200_columns_shows_every_column_and_the_problems_in_the_table(samples: Path) -> None:
    text, notifications = _due_table(samples, 200)
    header = next(line for line in text.splitlines() if "Employer" in line)
    for column in ("Name", "Due", "Deadline", "Days left", "State", "Problems"):
        assert column in header
    assert "Bakkerij Testbrood BV" in text
    assert not any(str(n.key) in text.splitlines() for n in notifications)


def test_wide_shows_every_column_on_a_narrow_terminal_without_folding_dates(samples: Path) -> None:
    text, notifications = _due_table(samples, 80, wide=True)
    header = next(line for line in text.splitlines() if "Employer" in line)
    assert "Name" in header and "Days left" in header and "Problems" in header
    assert len(ISO_DATE.findall(text)) >= 2 * len(notifications) - 3  # due and deadline, whole


@pytest.fixture
def journal_config(tmp_path: Path) -> Path:
    """A journal with an accepted and a rejected message, each with a real-looking UUID kenmerk."""
    path = write_setup(tmp_path, rows=[], employers=[employer("WG001")])
    config = load_config(path)
    with Journal.open(config.paths.state) as journal:
        for key, employee, kenmerk, statuses, outcome in (
            ("WG001/D1/zw-ziekmelding", "1001", KENMERKEN[0], (("400", None), ("500", None)), "accepted"),
            ("WG001/D3/werkhervatting/full", "1003", KENMERKEN[1], (("311", "VAS500"),), "rejected"),
        ):
            record_placeholder(journal, key, employee_id=employee)
            journal.record_accepted(journal.begin_attempt(parse_key(key)), kenmerk, T0)
            journal.add_statuses(kenmerk, lifecycle(T0, *statuses))
            journal.set_outcome(parse_key(key), outcome)
    return path


@pytest.mark.parametrize("width", [80, 320])
def test_status_never_wraps_a_kenmerk_and_says_each_status_text_once(
    journal_config: Path, width: int
) -> None:
    config = load_config(journal_config)
    term = terminal(width)
    status_cli.render(term, config, overview(config))
    text = shown(term)
    assert all(len(line) <= width for line in text.splitlines() if "│" in line)
    assert sorted(UUID.findall(text)) == sorted(KENMERKEN)  # each whole, once, copyable
    # 500's statusomschrijving is its Dutch name: shown once, not as name and again as Digipoort's text
    assert " ".join(text.split()).count("Validatie bij de uitvragende partij gelukt") == 1


def test_send_summary_at_80_columns_keeps_kenmerk_and_code_whole() -> None:
    report = SendReport()
    report.note(
        Delivery(
            "WG001/Z-111/herstel-42e-weeksmelding",
            "WG001-Z-111-HMLA",
            "accepted",
            kenmerk=KENMERKEN[1],
            code="500",
            text="Validatie bij de uitvragende partij gelukt.",
        )
    )
    report.note(
        Delivery(
            "WG001/Z-112/zw-ziekmelding",
            "WG001-Z-112-ZM",
            "rejected",
            kenmerk=KENMERKEN[0],
            code="311",
            foutcode="VAS500",
            text="Validatie niet gelukt",
        )
    )
    term = terminal(80)
    render_report(term, report)
    text = shown(term)
    assert all(len(line) <= 80 for line in text.splitlines() if "│" in line)
    assert UUID.findall(text) == [KENMERKEN[0]] and f"  kenmerk {KENMERKEN[0]}" in text.splitlines()
    assert "WG001/Z-111/herstel-42e-weeksmelding" in text
    assert KENMERKEN[1] not in text  # accepted: nothing to do; `uwvcli status` has its kenmerk
    said = explanation(report.lines[0])
    assert said.count("Validatie bij de uitvragende partij gelukt") == 1 and said.startswith("500 ")


def test_status_says_whether_a_filter_matched_nothing_or_nothing_was_done(journal_config: Path) -> None:
    runner = CliRunner()
    filtered = runner.invoke(app, ["status", "--config", str(journal_config), "--state", "parked"])
    assert filtered.exit_code == 0 and "No notifications match the filter." in filtered.stdout
    (journal_config.parent / "empty").mkdir()
    empty = write_setup(journal_config.parent / "empty", rows=[])
    nothing = runner.invoke(app, ["status", "--config", str(empty)])
    assert nothing.exit_code == 0 and "Nothing done yet" in nothing.stdout


# ---------------------------------------------------------------- options


def test_shared_options_work_before_and_after_the_command_name(samples: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    before = runner.invoke(app, ["--config", str(samples), "due", "--date", "2026-12-01", "--format", "json"])
    after = runner.invoke(app, ["due", "--date", "2026-12-01", "--format", "json", "--config", str(samples)])
    assert before.exit_code == after.exit_code == 1, before.output
    assert before.stdout == after.stdout and '"notifications"' in before.stdout
    log = tmp_path / "uwvcli.log"
    quiet = runner.invoke(
        app, ["due", "-c", str(samples), "--date", "2026-12-01", "-q", "--log-file", str(log)]
    )
    assert quiet.exit_code == 1
    assert "INFO" not in quiet.stderr and "WARNING" in quiet.stderr  # quiet: warnings only
    assert "WARNING" in log.read_text(encoding="utf-8")  # the log file got the lines anyway


def test_h_is_help_and_capital_v_the_version() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["-h"]).stdout.startswith("Usage: ")
    assert "Examples:" in runner.invoke(app, ["due", "-h"]).stdout
    assert runner.invoke(app, ["-V"]).stdout.startswith("uwvcli ")
    assert "--install-completion" in runner.invoke(app, ["--help"]).stdout


@pytest.mark.parametrize(
    "command", ["due", "run", "send", "status", "report", "resolve", "explain", "check", "simulator"]
)
def test_every_command_has_examples_and_readable_metavars(command: str) -> None:
    text = CliRunner().invoke(app, [command, "--help"], terminal_width=100).stdout
    assert "Examples:" in text and f"uwvcli {command}" in text.split("Examples:")[1]
    options = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("-"))
    for click_type in ("<int range>", "<float range>", "<path>", "<str>", "<int>", "list["):
        assert click_type not in options
    assert "--config FILE" in text and "--verbose" in text and "--log-file FILE" in text


def test_the_config_is_found_in_etc_and_the_error_names_every_place_tried(
    tmp_path: Path, monkeypatch
) -> None:
    app_module = importlib.import_module("uwvcli.cli.app")  # `uwvcli.cli.app` is also the Typer app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UWVCLI_CONFIG", raising=False)
    missing = CliRunner().invoke(app, ["due"])
    assert missing.exit_code == 2
    assert "./uwvcli.yaml" in missing.stderr and "/etc/uwvcli/uwvcli.yaml" in missing.stderr
    assert "UWVCLI_CONFIG" in missing.stderr
    etc = write_setup(tmp_path, rows=[])
    monkeypatch.setattr(app_module, "DEFAULT_CONFIGS", (Path("nowhere.yaml"), etc))
    found = CliRunner().invoke(app, ["due", "--date", "2026-12-01", "--format", "json"])
    assert found.exit_code == 0, found.output


# ---------------------------------------------------------------- CSV for Excel, --output


def test_due_csv_for_dutch_excel_into_an_owner_only_file(samples: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["due", "-c", str(samples), "--date", "2026-12-01"]
    plain = runner.invoke(app, [*args, "--format", "csv"])
    target = tmp_path / "due.csv"
    excel = runner.invoke(app, [*args, "--excel", "--output", str(target)])
    assert excel.exit_code == plain.exit_code == 1  # the samples need attention
    assert excel.stdout == ""  # the file got it
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # BOM: Excel reads UTF-8
    assert target.stat().st_mode & 0o777 == 0o600
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == list(csv.reader(io.StringIO(plain.stdout)))
    assert rows[0][0] == "key" and len(rows) > 10


def test_status_csv_for_excel_on_stdout_and_json_into_a_file(journal_config: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    excel = runner.invoke(app, ["status", "-c", str(journal_config), "--excel"])
    assert excel.stdout_bytes.startswith(b"\xef\xbb\xbf") and excel.stdout.count(";") > 20
    target = tmp_path / "status.json"
    written = runner.invoke(app, ["status", "-c", str(journal_config), "-f", "json", "-o", str(target)])
    assert written.exit_code == 1 and written.stdout == ""
    assert {row["kenmerk"] for row in json.loads(target.read_text())["notifications"]} == set(KENMERKEN)
    refused = runner.invoke(app, ["status", "-c", str(journal_config), "--output", str(tmp_path / "t.txt")])
    assert refused.exit_code == 2 and not (tmp_path / "t.txt").exists()


def test_excel_csv_keeps_a_formula_looking_value_as_text() -> None:
    text = csv_document(("employee_id",), [("=HYPERLINK(1)",), ("-1+2",), ("1001",)], excel=True)
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")) == [
        ["employee_id"],
        ["'=HYPERLINK(1)"],
        ["'-1+2"],
        ["1001"],
    ]


# ---------------------------------------------------------------- the README's first screen


def test_the_readme_shows_what_the_sample_run_prints_and_where_it_lands(tmp_path: Path) -> None:
    readme = (SAMPLES.parent / "README.md").read_text(encoding="utf-8")
    shown_run = readme[readme.index("### What the sample run shows") : readme.index("## Everyday use")]
    for must in ("samples/var/outbox/", "samples/var/recaps/", "samples/README.md", "rm -rf samples/var"):
        assert must in shown_run
    assert "Why it exits 1" in shown_run
    copy = tmp_path / "samples"
    shutil.copytree(SAMPLES, copy, ignore=shutil.ignore_patterns("var"))
    result = CliRunner().invoke(
        app, ["run", "--config", str(copy / "uwvcli.yaml"), "--date", "2026-12-01", "--no-send"]
    )
    assert result.exit_code == 1
    [summary] = [line for line in result.stderr.splitlines() if "run 2026-12-01: " in line]
    assert summary[summary.index("run 2026-12-01: ") :] in shown_run  # the pasted output is real
    for line in result.stdout.splitlines():  # every prepared notification as the README shows it
        result_word, _key, _due, *_ = line.split("\t")
        assert result_word in ("written", "late", "blocked")
    assert shown_run.count("│ WG00") >= len(result.stdout.splitlines())


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script` for a real terminal")
def test_a_real_80_column_terminal_gets_a_table_that_fits(samples: Path) -> None:
    uwvcli = Path(sys.executable).with_name("uwvcli")
    command = f"{uwvcli} due --config {shlex.quote(str(samples))} --date 2026-12-01 --horizon 14"
    env = {**os.environ, "COLUMNS": "80", "LINES": "50", "TERM": "xterm-256color"}
    env.pop("CI", None)
    done = subprocess.run(
        ["script", "-qec", command, "/dev/null"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", done.stdout).replace("\r", "")
    table = [line for line in screen.splitlines() if "│" in line]
    assert table and all(len(line.rstrip()) <= 80 for line in table)
    assert len(ISO_DATE.findall("\n".join(table))) >= len(table) - 2  # a deadline per row, never split


def test_shell_completion_completes_commands_and_options() -> None:
    uwvcli = Path(sys.executable).with_name("uwvcli")

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
            "_UWVCLI_COMPLETE": "complete_bash",
        }
        return subprocess.run([uwvcli], env=env, capture_output=True, text=True, timeout=60).stdout.split()

    assert complete("uwvcli du") == ["due"]
    assert complete("uwvcli due --ho") == ["--horizon"]
    assert "--wide" in complete("uwvcli status --w")
