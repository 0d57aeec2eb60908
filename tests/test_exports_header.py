"""The header of an export, as people and spreadsheets write it: capitals and padding accepted,
a wrong separator named as such, a missing required column one message for the file; and no
header cell (which might be a person's data) quoted in those messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_exports import EMPLOYERS, HEADER, SECRET_BSN, SECRET_NAME, csv_file, row

from uwvcli.errors import EXIT_UNUSABLE, InputFileError
from uwvcli.inputs.exports import load_dossiers


def test_capitalised_and_padded_header_cells_are_the_field_names(tmp_path: Path) -> None:
    header = HEADER.replace("employer_id", " Employer_ID ").replace("dossier_type", "Dossier Type")
    header = header.replace("first_sick_day", "FIRST_SICK_DAY")
    dossiers, errors = load_dossiers([csv_file(tmp_path, row(), header=header)], EMPLOYERS)
    assert errors == []
    assert [(d.employer_id, d.dossier_type) for d in dossiers] == [("WG001", "ziekte")]


@pytest.mark.parametrize(("separator", "named"), [("\t", "a tab"), ("|", "'|'")])
def test_a_wrong_separator_is_named_as_such_without_quoting_the_header(
    tmp_path: Path, separator: str, named: str
) -> None:
    path = csv_file(tmp_path, row().replace(",", separator), header=HEADER.replace(",", separator))
    with pytest.raises(InputFileError) as raised:
        load_dossiers([path], EMPLOYERS)
    message = str(raised.value)
    assert "the header has one column" in message and "the separator must be ',' or ';'" in message
    assert named in message
    assert "employer_id" not in message and SECRET_BSN not in message and SECRET_NAME not in message
    assert raised.value.exit_code == EXIT_UNUSABLE


def test_a_missing_column_is_one_message_naming_the_field(tmp_path: Path) -> None:
    header = HEADER.replace("employer_id,", "")
    rows = [row(f"Z-{n}").split(",", 1)[1] for n in range(5)]
    with pytest.raises(InputFileError) as raised:
        load_dossiers([csv_file(tmp_path, *rows, header=header)], EMPLOYERS)
    assert str(raised.value).count("employer_id") == 1


def test_a_required_field_no_json_object_has_is_one_message_for_the_file(tmp_path: Path) -> None:
    objects = [dict(zip(HEADER.split(","), row(f"Z-{n}").split(","), strict=True)) for n in range(5)]
    for item in objects:
        del item["employer_id"]
    path = tmp_path / "d.json"
    path.write_text(json.dumps(objects), encoding="utf-8")
    with pytest.raises(InputFileError) as raised:
        load_dossiers([path], EMPLOYERS)
    message = str(raised.value)
    assert "no dossier has the required field(s) employer_id" in message and message.count("employer_id") == 1
    assert SECRET_BSN not in message


def test_a_field_only_some_json_objects_lack_stays_a_row_error(tmp_path: Path) -> None:
    objects = [dict(zip(HEADER.split(","), row(f"Z-{n}").split(","), strict=True)) for n in range(3)]
    del objects[1]["employer_id"]
    path = tmp_path / "d.json"
    path.write_text(json.dumps(objects), encoding="utf-8")
    dossiers, errors = load_dossiers([path], EMPLOYERS)
    assert len(dossiers) == 2 and [(e.line, e.field) for e in errors] == [(1, "employer_id")]
