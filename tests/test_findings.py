"""`uwvcli.digipoort.findings`: what a status's `statusdetails` says, as lines safe to show — the
business acknowledgement of the captured reference response, the simulator's own findings
unchanged, and never a BSN-like number or a date, whatever the text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.message_samples import BIRTH_DATE, BSN, CASES, NS, build
from uwvcli.common.privacy import REDACTED
from uwvcli.digipoort.findings import MAX_CHARS, MAX_LINES, findings
from uwvcli.messages.build import check_message
from uwvcli.simulator.server import lifecycle

#: What must never survive (the oracle is written independently of the module's own patterns).
EIGHT_DIGITS = re.compile(r"\d{8}")
DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")


def response_message(*specifications: tuple[str, str, str]) -> str:
    """A Responsemessage as UWV answers, with one Specification per (Class, Code, Description)."""
    specs = "".join(
        f"<Specification><Class>{c}</Class><Code>{code}</Code><Description>{d}</Description></Specification>"
        for c, code, d in specifications
    )
    return (
        '<Responsemessage version="2006.1"><Identification><MessageId>BERICHT-1</MessageId>'
        "<DatumTijdOntvangst>2026-12-01T16:04:13+01:00</DatumTijdOntvangst>"
        f"<ResponseType>error</ResponseType></Identification>{specs}</Responsemessage>"
    )


# ---------------------------------------------------------------- the captured reference


def reference_details(shared: Path) -> str:
    path = shared / "reference/digipoort/captured-responses/wus-js/valid-newstatus-response.xml"
    statuses = etree.parse(str(path)).getroot().iter("{*}statusdetails")
    return [element.text for element in statuses][-1]


def test_the_captured_acknowledgement_gives_its_specification_line(shared: Path) -> None:
    details = reference_details(shared)
    assert details.startswith("<Responsemessage")  # unescaped by the SOAP parser, as uwvcli stores it
    assert findings(details) == [
        "0001: Status: Verwerkbaar"
    ]  # class A: not repeated, Identification left out


# ---------------------------------------------------------------- the shapes


def test_each_specification_is_one_line_with_its_class_unless_it_is_the_acknowledgement_class() -> None:
    details = response_message(
        ("F", "ZW0123", "Datum eerste arbeidsongeschiktheidsdag ligt in de toekomst."),
        ("W", "ZW0456", "Sectorcode wijkt af van de registratie."),
    )
    assert findings(details) == [
        "ZW0123: Datum eerste arbeidsongeschiktheidsdag ligt in de toekomst. (Class F)",
        "ZW0456: Sectorcode wijkt af van de registratie. (Class W)",
    ]


def test_an_acknowledgement_without_findings_says_nothing() -> None:
    assert findings(response_message()) == []


def test_namespaced_responses_are_read_too() -> None:
    details = response_message(("F", "X1", "Fout.")).replace(
        "<Responsemessage ", '<Responsemessage xmlns="urn:example:uwv" '
    )
    assert findings(details) == ["X1: Fout. (Class F)"]


@pytest.mark.parametrize(
    "details",
    [
        "<Responsemessage><Specification>",
        "<not xml",
        "<a>one</b>",
        "<?xml version='1.0' encoding='latin-1'?><a/",
    ],
)
def test_text_that_is_not_a_document_is_shown_as_text(details: str) -> None:
    assert findings(details) == [details]


def test_plain_text_gives_its_non_empty_lines_without_control_characters() -> None:
    assert findings("Eerste regel.\r\n\n   \nTweede\x1b[31m regel.\x00\n") == [
        "Eerste regel.",
        "Tweede [31m regel.",
    ]


@pytest.mark.parametrize("details", [None, "", "  \n\t"])
def test_nothing_gives_no_lines(details: str | None) -> None:
    assert findings(details) == []


def test_long_details_are_cut_and_say_how_much_is_left_out() -> None:
    lines = findings("\n".join(f"Bevinding {i}: " + "x" * 500 for i in range(25)))
    assert len(lines) == MAX_LINES and all(len(line) <= MAX_CHARS for line in lines)
    assert lines[0].startswith("Bevinding 0: xxx") and lines[0].endswith("…")
    assert lines[-1] == "… and 16 more"
    assert findings("a\nb\n" * 10, more="… en nog {n}")[-1] == "… en nog 11"


# ---------------------------------------------------------------- privacy


def test_bsns_and_dates_quoted_by_uwv_are_redacted_other_numbers_stay() -> None:
    details = response_message(
        ("F", "ZW0001", f"Burgerservicenummer {BSN} is onbekend bij UWV."),
        ("F", "ZW0002", f"Geboortedatum {BIRTH_DATE:%d-%m-%Y} wijkt af (ook {BIRTH_DATE:%Y%m%d})."),
        ("F", "ZW0003", f"Datum {BIRTH_DATE.isoformat()} of {BIRTH_DATE:%d/%m/%Y} of {BIRTH_DATE:%d.%m.%Y}."),
        ("F", "ZW0004", "Loon 84.50 per dag, regel 12, sector 013."),
    )
    assert findings(details) == [
        f"ZW0001: Burgerservicenummer {REDACTED} is onbekend bij UWV. (Class F)",
        f"ZW0002: Geboortedatum {REDACTED} wijkt af (ook {REDACTED}). (Class F)",
        f"ZW0003: Datum {REDACTED} of {REDACTED} of {REDACTED}. (Class F)",
        "ZW0004: Loon 84.50 per dag, regel 12, sector 013. (Class F)",
    ]


def test_a_date_glued_to_other_digits_leaves_no_fragment() -> None:
    (line,) = findings("waarde 12-2020-01-011990-02-03 en 1234\x005678")
    assert line == f"waarde {REDACTED} en 1234 5678"


_PIECES = st.sampled_from(
    ["1", "12", "2020", "1990-02-03", "03-02-1990", "19900203", "111222333", "-", "/", ".", " ", "\n",
     "\x00", "<", ">", "</Description>", "<Specification>", "&amp;", "&lt;", "Code", "٣", "\u202e"]
)  # fmt: skip
_TEXT = st.one_of(st.text(), st.lists(_PIECES | st.text(max_size=3)).map("".join))


@given(_TEXT)
@settings(max_examples=400, deadline=None)
def test_any_text_gives_short_lines_without_bsn_like_numbers_or_dates(details: str) -> None:
    lines = findings(details)
    assert len(lines) <= MAX_LINES
    for line in lines:
        assert len(line) <= MAX_CHARS and line.isprintable()
        assert not EIGHT_DIGITS.search(line) and not DATE_LIKE.search(line), line


@given(st.lists(st.tuples(st.sampled_from("AFW"), _TEXT, _TEXT), max_size=12))
@settings(max_examples=200, deadline=None)
def test_any_response_message_gives_safe_lines(specifications: list[tuple[str, str, str]]) -> None:
    escape = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    cleaned = [
        (c, "".join(escape.get(ch, ch) for ch in code), "".join(escape.get(ch, ch) for ch in text))
        for c, code, text in specifications
    ]
    for line in findings(response_message(*cleaned)):
        assert not EIGHT_DIGITS.search(line) and not DATE_LIKE.search(line), line


# ---------------------------------------------------------------- the simulator's own findings

ZW = build(*CASES["zw-direct-payment"])
_BAD_VALUES = [
    ("NatuurlijkPersoon/Geboortedat", "19900230"),
    ("NatuurlijkPersoon/Burgerservicenr", "111222334"),
    ("NatuurlijkPersoon/Geslacht", "V"),
    ("MeldingZiekte/DatEersteAoDag", "2026022"),
    ("AdministratieveEenheid/SectorRisicogroep/CdSectorOsv", "036"),
    ("AdministratieveEenheid/Bankrekening/Iban", "NL91 ABNA 0417 1643 00"),
    ("NatuurlijkPersoon/Voorletters", "T.J."),
]


def with_values(changes: list[tuple[str, str]]) -> bytes:
    root = etree.fromstring(ZW)
    for path, value in changes:
        root.find("/".join(f"u:{p}" for p in path.split("/")), NS).text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@given(st.lists(st.sampled_from(_BAD_VALUES), min_size=1, unique=True))
@settings(max_examples=30, deadline=None)
def test_the_simulators_own_311_findings_come_through_unchanged(changes: list[tuple[str, str]]) -> None:
    problems = check_message(with_values(changes))
    *_, rejected = lifecycle(None, problems)
    assert rejected.code == "311" and problems
    assert findings(rejected.details) == problems


def test_the_simulators_510_sentence_comes_through() -> None:
    *_, rejected = lifecycle("510", [])
    assert findings(rejected.details) == [rejected.details]
