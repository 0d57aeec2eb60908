"""The commands support runs by hand start quickly (issue 14): `uwvcli --version` and `uwvcli
explain CODE` import only what they need. Guarded by what a fresh `uwvcli` process has imported
when it leaves (never by the clock): not the signing, transport, database or export modules of
the other commands, and, for JSON and piped text, not Rich's tables and panels either."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import uwvcli.cli
from uwvcli.cli import app
from uwvcli.cli.app import COMMANDS

CLI = Path(uwvcli.cli.__file__).parent

#: Runs `uwvcli.cli.main` as the console script does and, as it leaves (`os._exit`), writes the
#: names of every module imported by then to the file named by argv[1].
PROBE = """
import json, os, sys
leave = os._exit
def report(code):
    with open(where, "w") as modules:
        json.dump(sorted(sys.modules), modules)
    leave(code)
os._exit = report
where, *arguments = sys.argv[1:]
sys.argv = ["uwvcli", *arguments]
from uwvcli.cli import main
main()
"""

#: What a run, a send or a status overview needs, and a code's explanation does not.
HEAVY = (
    "lxml",
    "cryptography",
    "signxml",
    "requests",
    "urllib3",
    "sqlite3",
    "smtplib",
    "uwvcli.app.run",
    "uwvcli.app.daily",
    "uwvcli.app.check",
    "uwvcli.app.explain",
    "uwvcli.state.journal",
    "uwvcli.state.outbox",
    "uwvcli.messages",
    "uwvcli.delivery",
    "uwvcli.digipoort.client",
    "uwvcli.digipoort.findings",
    "uwvcli.inputs",
    "uwvcli.domain.rules",
    "uwvcli.domain.models",
)
RICH_RENDERING = ("rich.table", "rich.panel")


def started(tmp_path: Path, *arguments: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    listing = tmp_path / "modules.json"
    process = subprocess.run(
        [sys.executable, "-c", PROBE, str(listing), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    return process, set(json.loads(listing.read_text(encoding="utf-8")))


def imported(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == name or m.startswith(f"{name}.") for name in names))


def other_commands(modules: set[str], *running: str) -> list[str]:
    """The command modules imported besides those of the commands `running`."""
    return sorted(modules & {f"uwvcli.cli.{name}" for name in COMMANDS if name not in running})


def test_version_imports_no_command(tmp_path: Path) -> None:
    process, modules = started(tmp_path, "--version")
    assert (process.returncode, process.stdout) == (0, f"uwvcli {uwvcli.__version__}\n")
    assert imported(modules, (*HEAVY, *RICH_RENDERING, "yaml", "uwvcli.digipoort")) == []
    assert other_commands(modules) == []


@pytest.mark.parametrize(
    "arguments",
    [("explain", "311", "--format", "json"), ("explain", "311"), ("explain", "ALS100", "999", "-f", "json")],
)
def test_explain_imports_only_the_codes_table(tmp_path: Path, arguments: tuple[str, ...]) -> None:
    """JSON, and plain text on a pipe (as support pastes it), without Rich's tables and panels."""
    process, modules = started(tmp_path, *arguments)
    assert process.returncode == (1 if "999" in arguments else 0), process.stderr
    if "json" in arguments:
        shown = json.loads(process.stdout)
        codes = [shown["code"]] if isinstance(shown, dict) else [info["code"] for info in shown]
        assert codes == [a for a in arguments[1:] if a not in ("--format", "-f", "json")]
    else:
        assert process.stdout.startswith("311  Validatie niet gelukt")
    assert imported(modules, (*HEAVY, *RICH_RENDERING)) == []
    assert other_commands(modules, "explain") == []


def test_a_mistyped_command_is_still_recognised_before_any_command_is_loaded(tmp_path: Path) -> None:
    process, modules = started(tmp_path, "stauts")
    assert process.returncode == 2
    assert "No such command 'stauts'. Did you mean 'status'?" in process.stderr
    assert other_commands(modules) == []


def test_every_command_module_registers_the_command_it_is_listed_as() -> None:
    """`COMMANDS` names the modules the group imports on demand: each one registers exactly its
    own command, and every module of `uwvcli/cli/` that registers one is listed."""
    result = CliRunner().invoke(app, ["--help"], prog_name="uwvcli")  # lists, so loads, them all
    assert result.exit_code == 0, result.output
    registered = [info.name for info in app.registered_commands]
    assert sorted(registered) == sorted(COMMANDS)
    assert len(set(registered)) == len(registered)
    registering = {path.stem for path in CLI.glob("*.py") if "@command(" in path.read_text(encoding="utf-8")}
    assert registering == set(COMMANDS)
    for info in app.registered_commands:
        assert info.callback is not None and info.callback.__module__ == f"uwvcli.cli.{info.name}"
