"""docs/cli.md holds every command's --help; this test fails when they drift apart.

Regenerate with `UWVCLI_UPDATE_DOCS=1 python -m pytest tests/test_cli_docs.py`."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from uwvcli.cli import app

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
COMMANDS = (
    "due", "run", "send", "status", "report", "resolve", "recover", "withdraw", "explain", "check",
    "simulator",
)  # fmt: skip

INTRO = """# uwvcli commands

Every command's `--help`, generated from the code (`tests/test_cli_docs.py` fails when this file
and the code disagree). Exit codes, configuration and export format: see the README.
"""


def render_help() -> str:
    runner = CliRunner()
    sections = [INTRO]
    for command in (None, *COMMANDS):
        args = [command, "--help"] if command else ["--help"]
        result = runner.invoke(app, args, terminal_width=100, prog_name="uwvcli")
        assert result.exit_code == 0, result.output
        title = f"uwvcli {command}" if command else "uwvcli"
        sections.append(f"## `{title}`\n\n```text\n{result.stdout.rstrip()}\n```\n")
    return "\n".join(sections)


#: What follows this line in docs/cli.md is written by hand (output formats), kept as it is.
BY_HAND = "\n<!-- Written by hand from here on; the help above is generated. -->\n"


def test_docs_cli_md_matches_every_commands_help() -> None:
    expected = render_help()
    generated, marker, by_hand = DOCS.read_text(encoding="utf-8").partition(BY_HAND)
    if os.environ.get("UWVCLI_UPDATE_DOCS") == "1":
        DOCS.write_text(expected + marker + by_hand, encoding="utf-8")
        generated = expected
    assert generated == expected, (
        "docs/cli.md is out of date: regenerate it (see this test module's docstring)"
    )


def test_every_command_of_the_contract_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"## `uwvcli {command}`" in text
        assert "--config" in text.split(f"## `uwvcli {command}`", 1)[1].split("## ", 1)[0]
