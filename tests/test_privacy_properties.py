"""A property over random exports and configurations (issue 15, "Done when"): `check` and `due`
never show a traceback, `check --format json` always writes one JSON document, every row made bad
on purpose is named with its line, and no BSN, name or birth date of the input appears on stdout,
stderr or in the log file — whatever the header, the quoting or the configuration look like."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.helpers import EXPORT_FIELDS, employer
from uwvcli.cli import app

runner = CliRunner()

#: Fictitious people, 11-check valid BSNs; names no message of uwvcli could contain by chance.
PEOPLE = [
    {"bsn": "111222333", "first_name": "Quirijntje", "last_name": "Zwartekoffie", "birth_date": "1987-04-19"},
    {"bsn": "123456782", "first_name": "Wubbeltje", "last_name": "Oudkerkhof", "birth_date": "1979-11-02"},
    {"bsn": "999999990", "first_name": "Fenneke", "last_name": "Grootveldhuis", "birth_date": "2001-06-30"},
]

HOSTILE_TEXT = st.sampled_from(
    ["", " ", '"', '""', "'", ";", ",", "\r", "\n", "\0", "é", "NaN", "-1", "9" * 60, "x" * 300, "2026-02-30"]
)


def _valid_row(index: int, person: dict) -> dict:
    return {
        "employer_id": "WG001",
        "org_unit_id": "OE2",
        "employee_id": str(1000 + index),
        **person,
        "initials": "Q.",
        "gender": "V",
        "dossier_id": f"Z-{index}",
        "dossier_type": "ziekte",
        "first_sick_day": "2026-10-05",
    }


@st.composite
def exports(draw: st.DrawFn) -> tuple[str, set[int]]:
    """CSV text, and the lines of the rows made bad on purpose (a date that does not exist) while
    the header is intact: those must each be named."""
    count = draw(st.integers(1, 6))
    fields = list(EXPORT_FIELDS)
    header_kind = draw(st.sampled_from(["intact", "missing", "swapped", "unknown column", "shuffled"]))
    if header_kind == "swapped":
        i, j = draw(st.lists(st.integers(0, len(fields) - 1), min_size=2, max_size=2, unique=True))
        fields[i], fields[j] = fields[j], fields[i]
    rows, bad = [], set()
    for index in range(count):
        row = _valid_row(index, draw(st.sampled_from(PEOPLE)))
        mutation = draw(st.sampled_from(["none", "bad date", "hostile field", "unbalanced quote"]))
        if mutation == "bad date":
            row["first_sick_day"] = "2026-02-30"
        elif mutation == "hostile field":
            row[draw(st.sampled_from(EXPORT_FIELDS))] = draw(HOSTILE_TEXT)
        rows.append((row, mutation))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=draw(st.sampled_from([",", ";"])), lineterminator="\n")
    header = [*fields, "wachtwoord"] if header_kind == "unknown column" else fields
    if header_kind == "shuffled":
        header = draw(st.permutations(fields))
    if header_kind != "missing":
        writer.writerow(header)
    line = 2
    for row, mutation in rows:
        values = [row.get(name, "") for name in header]
        if mutation == "unbalanced quote":
            out.write(
                writer.dialect.delimiter.join(values[:-1])
                + writer.dialect.delimiter
                + '"'
                + values[-1]
                + "\n"
            )
            continue  # the quote runs on over the rows below: their lines are no longer countable
        writer.writerow(values)
        if mutation == "bad date" and header_kind in ("intact", "shuffled") and not _quote_above(rows, row):
            bad.add(line)
        line += 1 + sum(str(v).count("\n") + str(v).count("\r") for v in values)
    return out.getvalue(), bad


def _quote_above(rows: list[tuple[dict, str]], row: dict) -> bool:
    """An unbalanced quote above this row (it may be swallowed into that field)."""
    for other, mutation in rows:
        if other is row:
            return False
        if mutation == "unbalanced quote" or any(
            isinstance(v, str) and ('"' in v or "\r" in v or "\n" in v or "\0" in v) for v in other.values()
        ):
            return True
    return False


CONFIG_MUTATIONS = st.sampled_from(
    [
        None,
        ("paths", "outbox", "~nosuchuser/outbox"),
        ("paths", "outbox", "var/\0outbox"),
        ("sender", "name", 10**50),
        ("digipoort", "timeout_seconds", "9" * 5000),
        ("employers", 0, {"id": "111222333", "name": "Zwartekoffie"}),
        ("sender", "contact_phone", [[["deep"]]]),
    ]
)


def _config(folder: Path, mutation: tuple | None) -> Path:
    config: dict = {
        "sender": {"name": "Test Verzuimdiensten BV", "role": "Intermediair"},
        "digipoort": {"environment": "simulator"},
        "paths": {"dossiers": ["dossiers.csv"], "outbox": "var/outbox", "state": "var/uwvcli.sqlite"},
        "employers": [employer()],
    }
    if mutation is not None:
        section, key, value = mutation
        if section == "employers":
            config["employers"].append(value)
        else:
            config[section][key] = value
    path = folder / "uwvcli.yaml"
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    if mutation is not None and mutation[2] == "9" * 5000:
        text = text.replace(f"'{'9' * 5000}'", "9" * 5000)  # unquoted: YAML's integer
    path.write_text(text, encoding="utf-8")
    return path


def _personal_in(text: str) -> list[str]:
    found = []
    for person in PEOPLE:
        for kind in ("bsn", "first_name", "last_name", "birth_date"):
            value = person[kind]
            dutch = "-".join(reversed(value.split("-"))) if kind == "birth_date" else value
            for form in {value, dutch, value.replace("-", "")}:
                if re.search(rf"(?<![\w]){re.escape(form)}(?![\w])", text):
                    found.append(f"{kind} {form}")
    return found


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(export=exports(), mutation=CONFIG_MUTATIONS)
def test_no_traceback_json_every_bad_row_named_and_no_personal_data(
    tmp_path_factory, export, mutation
) -> None:
    folder = tmp_path_factory.mktemp("case")
    text, bad = export
    (folder / "dossiers.csv").write_text(text, encoding="utf-8", newline="")
    config = _config(folder, mutation)
    log = folder / "uwvcli.log"
    checked = runner.invoke(
        app,
        [
            "--log-file",
            str(log),
            "check",
            "--config",
            str(config),
            "--date",
            "2026-12-01",
            "--format",
            "json",
        ],
    )
    assert checked.exception is None or isinstance(checked.exception, SystemExit), checked.exception
    assert checked.exit_code in (0, 1, 2)
    document = json.loads(checked.stdout)
    if mutation is None and bad:
        named = {p["line"] for p in document["problems"] if p["source"] == "dossiers.csv"}
        assert bad <= named, (bad, document["problems"])
    due = runner.invoke(app, ["--log-file", str(log), "due", "--config", str(config), "--date", "2026-12-01"])
    assert due.exception is None or isinstance(due.exception, SystemExit), due.exception
    assert due.exit_code in (0, 1, 2)
    shown = checked.stdout + checked.stderr + due.stdout + due.stderr + log.read_text(encoding="utf-8")
    assert _personal_in(shown) == [], shown
