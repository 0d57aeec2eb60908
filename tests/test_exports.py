"""`exports.load_dossiers`: CONTRACT §3 and the single-row checks of RULES §8."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uwvcli.domain.models import Employer, Kind, OrgUnit
from uwvcli.errors import EXIT_UNUSABLE, InputFileError
from uwvcli.inputs.exports import load_dossiers

EMPLOYERS = {
    "WG001": Employer(
        id="WG001",
        name="Testbedrijf",
        active=True,
        start_date=date(2026, 1, 1),
        recap_email=None,
        notifications=dict.fromkeys(Kind, True),
        org_units={
            "OE1": OrgUnit("OE1", "Hoofdkantoor", legal_entity=True),
            "OE2": OrgUnit("OE2", "Filiaal", parent="OE1"),
        },
    )
}
HEADER = "employer_id,org_unit_id,employee_id,bsn,last_name,birth_date,dossier_id,dossier_type,first_sick_day"
SECRET_BSN = "111222333"
SECRET_NAME = "Geheimpersoon"


def csv_file(folder: Path, *rows: str, header: str = HEADER, name: str = "d.csv", **kw) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", **{"encoding": "utf-8", **kw})
    return path


def row(dossier_id: str = "Z-1", **fields: str) -> str:
    values = {
        "employer_id": "WG001",
        "org_unit_id": "OE2",
        "employee_id": "1001",
        "bsn": SECRET_BSN,
        "last_name": SECRET_NAME,
        "birth_date": "1990-02-03",
        "dossier_id": dossier_id,
        "dossier_type": "ziekte",
        "first_sick_day": "2026-03-02",
        **fields,
    }
    return ",".join(values[name] for name in HEADER.split(","))


def load(*paths: Path, base: Path | None = None):
    return load_dossiers(list(paths), EMPLOYERS, display_base=base)


def test_semicolon_csv_with_bom_and_dutch_dates(tmp_path):
    header = HEADER.replace(",", ";") + ";recovery_date;partial_daily_wage;direct_payment;vangnet_status"
    path = tmp_path / "d.csv"
    path.write_text(
        f"{header}\r\nWG001;OE2;1001;{SECRET_BSN};Test;03-02-1990;Z-1;ziekte;02-03-2026;16-03-2026;84,50;ja;sfb\r\n",
        encoding="utf-8-sig",
    )
    [dossier], errors = load(path, base=tmp_path)
    assert errors == []
    assert dossier.source == "d.csv" and dossier.line == 2
    assert dossier.birth_date == date(1990, 2, 3)
    assert dossier.first_sick_day == date(2026, 3, 2) and dossier.recovery_date == date(2026, 3, 16)
    assert dossier.partial_daily_wage == Decimal("84.50")
    assert dossier.direct_payment is True and dossier.vangnet_status == "sfb"
    assert dossier.sick_reason == "overig" and dossier.multiple_birth is False  # absent = default


def test_comma_csv_with_iso_dates_and_empty_fields_as_absent(tmp_path):
    path = csv_file(tmp_path, row(birth_date="", bsn=""))
    [dossier], errors = load(path)
    assert errors == []
    assert dossier.bsn is None and dossier.birth_date is None  # blocks later, in the rules
    assert dossier.employer_id == "WG001" and dossier.org_unit_id == "OE2"


def test_json_list_and_object_with_native_values(tmp_path):
    objects = [
        {
            "employer_id": "WG001",
            "org_unit_id": "OE1",
            "employee_id": 1001,
            "bsn": 111222333,
            "dossier_id": "P-1",
            "dossier_type": "zwangerschap",
            "expected_delivery_date": "01-07-2026",
            "multiple_birth": True,
            "leave_start_date": None,
        },
        {
            "employer_id": "WG001",
            "org_unit_id": "OE1",
            "employee_id": "1002",
            "dossier_id": "Z-2",
            "dossier_type": "ziekte",
            "first_sick_day": "2026-03-02",
            "partial_daily_wage": 84.5,
            "direct_payment": False,
        },
    ]
    (tmp_path / "a.json").write_text(json.dumps(objects), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"dossiers": [{**objects[1], "dossier_id": "Z-3"}]}))
    dossiers, errors = load(tmp_path / "a.json", tmp_path / "b.json", base=tmp_path)
    assert errors == []
    by_id = {d.dossier_id: d for d in dossiers}
    assert by_id["P-1"].employee_id == "1001" and by_id["P-1"].bsn == SECRET_BSN
    assert by_id["P-1"].multiple_birth is True and by_id["P-1"].expected_delivery_date == date(2026, 7, 1)
    assert by_id["Z-2"].partial_daily_wage == Decimal("84.5")
    assert (by_id["Z-3"].source, by_id["Z-3"].line) == ("b.json", 0)  # JSON: index in the list


def test_bad_rows_are_reported_with_line_and_field_and_the_others_are_kept(tmp_path):
    path = csv_file(
        tmp_path,
        row("Z-1"),
        row("Z-2", first_sick_day="2026-02-30"),
        row("Z-3", employer_id="WG999"),
        row("Z-4", org_unit_id="OE9"),
        row("Z-5", dossier_type="Ziekte"),
        row("Z-6", employee_id=""),
        row("Z-7"),
    )
    dossiers, errors = load(path, base=tmp_path)
    assert [d.dossier_id for d in dossiers] == ["Z-1", "Z-7"]
    found = {(e.line, e.field): e.message for e in errors}
    assert set(found) == {
        (3, "first_sick_day"),
        (4, "employer_id"),
        (5, "org_unit_id"),
        (6, "dossier_type"),
        (7, "employee_id"),
    }
    assert "does not exist" in found[3, "first_sick_day"] or "exists" in found[3, "first_sick_day"]
    assert "WG999" in found[4, "employer_id"] and "configuration" in found[4, "employer_id"]
    assert "case matters" in found[6, "dossier_type"]
    assert all(e.source == "d.csv" for e in errors)


def test_personal_values_never_appear_in_messages(tmp_path):
    path = csv_file(
        tmp_path,
        row("Z-1", birth_date="31-02-1990") + ",Q,NLXX",
        row("Z-2", employer_id="WG999") + ",V,",
        row("Z-2") + ",V,",
        header=HEADER + ",gender,iban",
    )
    _, errors = load(path)
    assert {e.field for e in errors} == {"birth_date", "gender", "employer_id", "dossier_id"}
    for error in errors:
        for secret in ("31-02-1990", SECRET_BSN, SECRET_NAME, "'Q'", "NLXX"):
            assert secret not in error.message


def test_a_quoted_line_break_keeps_physical_line_numbers(tmp_path):
    path = csv_file(tmp_path, row("Z-1", last_name='"Test\nPersoon"'), row("Z-2", first_sick_day="x"))
    dossiers, errors = load(path)
    assert dossiers[0].last_name == "Test\nPersoon"
    assert [(e.line, e.field) for e in errors] == [(4, "first_sick_day")]


def test_a_row_with_the_wrong_number_of_fields_is_an_error_and_blank_lines_are_skipped(tmp_path):
    path = csv_file(tmp_path, row("Z-1"), "", ",,,,,,,,", "WG001,OE1,1002", row("Z-2"))
    dossiers, errors = load(path)
    assert [d.dossier_id for d in dossiers] == ["Z-1", "Z-2"]
    assert [(e.line, e.field) for e in errors] == [(5, None)]
    assert "3 fields where the header has 9" in errors[0].message


def test_every_occurrence_of_a_duplicate_dossier_id_is_an_error_across_files(tmp_path):
    first = csv_file(tmp_path, row("Z-1"), row("Z-2"), name="a.csv")
    second = csv_file(tmp_path, row("Z-3"), row("Z-1"), name="b.csv")
    dossiers, errors = load(first, second, base=tmp_path)
    assert sorted(d.dossier_id for d in dossiers) == ["Z-2", "Z-3"]
    located = sorted((e.source, e.line) for e in errors if e.field == "dossier_id")
    assert located == [("a.csv", 2), ("b.csv", 3)]
    assert all("unique" in e.message for e in errors)


def test_inconsistent_dossiers_rules_section_8(tmp_path):
    header = HEADER + ",recovery_date,partial_recovery_date,recovery_reported_date"
    path = csv_file(
        tmp_path,
        row("Z-1") + ",2026-03-02,,",  # recovery on AO day 1
        row("Z-2") + ",2026-03-10,2026-03-01,",  # partial before first sick day
        row("Z-3") + ",2026-03-10,2026-03-10,",  # partial not before recovery
        row("Z-4") + ",,,2026-03-01",  # recovery reported before first sick day
        row("Z-5") + ",2026-03-10,2026-03-05,2026-03-11",  # fine
        row("Z-6", dossier_type="zwangerschap") + ",,,",  # no expected delivery date
        row("Z-7", first_sick_day="") + ",,,",  # ziekte without first sick day
        header=header,
    )
    dossiers, errors = load(path)
    assert [d.dossier_id for d in dossiers] == ["Z-5"]
    assert [(e.line, e.field) for e in errors] == [
        (2, "recovery_date"),
        (3, "partial_recovery_date"),
        (4, "partial_recovery_date"),
        (5, "recovery_reported_date"),
        (7, "expected_delivery_date"),
        (8, "first_sick_day"),
    ]


def test_unknown_column_refuses_the_file_with_a_suggestion(tmp_path):
    path = csv_file(tmp_path, row("Z-1") + ",2026-04-01", header=HEADER + ",recovery_dat")
    with pytest.raises(InputFileError) as caught:
        load(path, base=tmp_path)
    assert caught.value.exit_code == EXIT_UNUSABLE
    assert "'recovery_dat' (did you mean 'recovery_date'?)" in str(caught.value)
    assert str(caught.value).startswith("d.csv:")


def test_unknown_json_field_is_a_row_error_with_a_suggestion(tmp_path):
    item = {
        "employer_id": "WG001",
        "org_unit_id": "OE1",
        "employee_id": "1",
        "dossier_id": "Z-1",
        "dossier_type": "ziekte",
        "first_sick_day": "2026-03-02",
        "recovery_dat": "2026-04-01",
    }
    (tmp_path / "d.json").write_text(
        json.dumps([item, {**item, "dossier_id": "Z-2", "recovery_dat": None, "tags": ["x"]}])
    )
    dossiers, errors = load(tmp_path / "d.json")
    assert dossiers == []
    assert [(e.line, e.field) for e in errors] == [(0, "recovery_dat"), (1, "recovery_dat"), (1, "tags")]
    assert "did you mean 'recovery_date'" in errors[0].message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        ("", "no header row"),
        ("employer_id,org_unit_id\nWG001,OE1\n", "lacks the required column(s) employee_id, dossier_id"),
        ("employer_id,employer_id\n", "appear twice"),
        (
            b"employer_id,org_unit_id,employee_id,dossier_id,dossier_type\nWG001,OE1,1,Z-\xe9,ziekte\n",
            "UTF-8",
        ),
    ],
)
def test_unusable_csv_files_raise_input_file_error(tmp_path, content, message):
    path = tmp_path / "d.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(path, base=tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[{", "not valid JSON (item 0, line 1, column 3: parse error: premature EOF)"),
        (
            '[\n{"dossier_id": "Z-1"},\n{"dossier_id": "Z-2"}\n{"dossier_id": "Z-3"}]',
            "(item 2, line 4, column 1: parse error: after array element, I expect ',' or ']')",
        ),
        ('{"rows": []}', "list of dossiers"),
        ('{"dossiers": {"dossier_id": "Z-1"}}', "'dossiers' is not a list"),
        ('{"dossiers": [], "dossiers": []}', "'dossiers' 2 times"),
    ],
)
def test_unusable_json_files_raise_input_file_error(tmp_path, content, message):
    (tmp_path / "d.json").write_text(content)
    with pytest.raises(InputFileError) as raised:
        load(tmp_path / "d.json")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("false", False),
        ("ja", True),
        ("nee", False),
        ("1", True),
        ("0", False),
        # CONTRACT §3: in any case, as spreadsheets write them.
        ("TRUE", True),
        ("False", False),
        ("Ja", True),
        ("NEE", False),
        (" jA ", True),
    ],
)
def test_the_six_boolean_spellings(tmp_path, text, expected):
    path = csv_file(tmp_path, row() + f",{text}", header=HEADER + ",direct_payment")
    [dossier], errors = load(path)
    assert errors == []
    assert dossier.direct_payment is expected


@pytest.mark.parametrize("text", ["TRUE", "False", "Ja", "NEE"])
def test_booleans_in_any_case_in_json_strings(tmp_path, text):
    """CONTRACT §3: a JSON string value is read like the CSV cell; `multiple_birth` "TRUE" used to
    make the row an input error."""
    (tmp_path / "d.json").write_text(
        json.dumps(
            [
                {
                    "employer_id": "WG001",
                    "org_unit_id": "OE1",
                    "employee_id": "1",
                    "dossier_id": "P-1",
                    "dossier_type": "zwangerschap",
                    "expected_delivery_date": "2026-07-01",
                    "multiple_birth": text,
                }
            ]
        )
    )
    [dossier], errors = load(tmp_path / "d.json")
    assert errors == []
    assert dossier.multiple_birth is (text.lower() in ("true", "ja"))


@pytest.mark.parametrize("text", ["yes", "J", "2", "waar", "T", "Nein"])
def test_other_boolean_spellings_are_errors(tmp_path, text):
    path = csv_file(tmp_path, row() + f",{text}", header=HEADER + ",multiple_birth")
    dossiers, [error] = load(path)
    assert (
        dossiers == []
        and error.field == "multiple_birth"
        and "true, false, ja, nee, 1 or 0 (in any case)" in error.message
    )


@settings(max_examples=150, deadline=None)
@given(day=st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_any_date_parses_in_both_spellings(tmp_path_factory, day):
    folder = tmp_path_factory.mktemp("dates")
    iso = day.isoformat()
    dutch = f"{day.day:02d}-{day.month:02d}-{day.year:04d}"
    path = csv_file(folder, row("Z-1", first_sick_day=iso), row("Z-2", first_sick_day=dutch))
    dossiers, errors = load(path)
    assert errors == []
    assert [d.first_sick_day for d in dossiers] == [day, day]


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet="0123456789-/. ", min_size=1, max_size=12))
def test_date_like_garbage_is_an_error_or_a_real_date_never_a_crash(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("garbage")
    dossiers, errors = load(csv_file(folder, row("Z-1", first_sick_day=text)))
    if dossiers:
        assert dossiers[0].first_sick_day.isoformat() in (
            text.strip(),
            "-".join(reversed(text.strip().split("-"))),
        )
    else:
        assert errors and all(e.field == "first_sick_day" for e in errors)


@settings(max_examples=150, deadline=None)
@given(
    cents=st.integers(min_value=1, max_value=10**9), decimals=st.sampled_from([0, 1, 2]), comma=st.booleans()
)
def test_amounts_with_up_to_two_decimals_parse_exactly(tmp_path_factory, cents, decimals, comma):
    folder = tmp_path_factory.mktemp("amounts")
    amount = Decimal(cents).scaleb(-decimals)
    text = f"{amount:.{decimals}f}".replace(".", "," if comma else ".")
    [dossier], errors = load(csv_file(folder, row() + f',"{text}"', header=HEADER + ",partial_daily_wage"))
    assert errors == [] and dossier.partial_daily_wage == amount


@pytest.mark.parametrize("text", ["0", "0,00", "-5", "84.505", "1.234,56", "€ 84", "84,5 "])
def test_amounts_outside_the_domain_are_errors(tmp_path, text):
    dossiers, errors = load(csv_file(tmp_path, row() + f',"{text}"', header=HEADER + ",partial_daily_wage"))
    if text.strip() == "84,5":
        assert errors == [] and dossiers[0].partial_daily_wage == Decimal("84.5")  # blanks around are fine
    else:
        assert dossiers == [] and [e.field for e in errors] == ["partial_daily_wage"]


@settings(max_examples=100, deadline=None)
@given(cells=st.lists(st.text(max_size=12), min_size=9, max_size=9))
def test_any_row_becomes_a_dossier_or_located_errors(tmp_path_factory, cells):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "d.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerow(cells)
    try:
        dossiers, errors = load(path)
    except InputFileError as error:  # only whole-file problems (e.g. a NUL byte) may escape
        assert "d.csv" in str(error)
        return
    assert len(dossiers) + (1 if errors else 0) <= 1
    assert all(e.line == 2 for e in errors)


def test_large_exports_span_chunks_with_bad_rows_and_duplicates_in_between(tmp_path):
    rows = [row(f"Z-{n}", employee_id=str(n)) for n in range(10_000)]
    rows[5000] = row("Z-5000", employee_id="5000", first_sick_day="2026-02-30")  # bad date, 2nd chunk
    rows[9999] = row("Z-17", employee_id="9999")  # duplicates Z-17 from the first chunk
    rows[7000] = row("Z-7000", employee_id="7000", last_name='"Test\nPersoon"')  # spans two lines
    dossiers, errors = load(csv_file(tmp_path, *rows))
    assert len(dossiers) == 10_000 - 3
    assert {d.dossier_id for d in dossiers}.isdisjoint({"Z-5000", "Z-17"})
    assert sorted((e.line, e.field) for e in errors) == [
        (19, "dossier_id"),
        (5002, "first_sick_day"),
        (10_002, "dossier_id"),
    ]
    after_break = next(d for d in dossiers if d.dossier_id == "Z-7001")
    assert after_break.line == 7004  # Z-7000 took lines 7002 and 7003


VALUE_POOLS = {
    "employer_id": ["WG001", "WG001", "WG999", ""],
    "org_unit_id": ["OE1", "OE2", "OE9", " OE2 "],
    "dossier_type": ["ziekte", "ziekte", "zwangerschap", "Ziekte", ""],
    "first_sick_day": ["2026-03-02", "02-03-2026", "2026-02-30", "", "2026-03-10"],
    "recovery_date": ["", "", "2026-03-09", "2026-03-02", "x"],
    "expected_delivery_date": ["", "2026-07-01"],
    "direct_payment": ["", "ja", "nee", "maybe", "NEE", "Ja"],
}
POOL_HEADER = "employee_id,dossier_id," + ",".join(VALUE_POOLS)


@settings(max_examples=40, deadline=None)
@given(choices=st.lists(st.tuples(*(st.sampled_from(pool) for pool in VALUE_POOLS.values())), max_size=40))
def test_chunked_and_single_row_loading_agree(tmp_path_factory, choices):
    """The chunked fast path and the careful row-by-row path must agree on every row: kept with
    the same values, or rejected with the same messages."""
    folder = tmp_path_factory.mktemp("agree")
    lines = [",".join([str(n), f"Z-{n}", *values]) for n, values in enumerate(choices)]
    together, together_errors = load(
        csv_file(folder, *lines, header=POOL_HEADER, name="all.csv"), base=folder
    )
    kept = {d.dossier_id: d for d in together}
    for n, line in enumerate(lines):
        alone, alone_errors = load(csv_file(folder, line, header=POOL_HEADER, name="one.csv"), base=folder)
        if alone:
            assert kept[f"Z-{n}"] == replace(alone[0], source="all.csv", line=n + 2)
        else:
            assert f"Z-{n}" not in kept
            messages = sorted(e.message for e in together_errors if e.line == n + 2)
            assert messages == sorted(e.message for e in alone_errors)


def test_a_dossier_id_that_cannot_be_used_is_an_input_error_of_its_row_without_its_value(tmp_path):
    absurd, tabbed = "Q" * 201, "Z\t7"
    rows = [row("Z-1"), row(absurd, employee_id="1002"), row(tabbed, employee_id="1003"), row("Z/2")]
    rows.append(row(tabbed, employee_id="1004"))  # twice unusable: not also a duplicate that shows it
    dossiers, errors = load(csv_file(tmp_path, *rows), base=tmp_path)
    assert [d.dossier_id for d in dossiers] == ["Z-1", "Z/2"]  # free text: a slash is fine
    assert [(e.source, e.line, e.field) for e in errors] == [("d.csv", n, "dossier_id") for n in (3, 4, 6)]
    assert "longer than 200" in errors[0].message and "control characters" in errors[1].message
    assert not any(absurd in e.message or tabbed in e.message for e in errors)
    assert [d.dossier_id for d in load(csv_file(tmp_path, row("P" * 200)))[0]] == ["P" * 200]
