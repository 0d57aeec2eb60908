"""Problems and notes as values (domain/problems.py): every code is worded in English (terminal,
JSON) and in Dutch (recap), and what the rules produce never reaches a recap in English."""

from __future__ import annotations

import string
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from rules_builders import employer, legal_entity, run, ziekte, zwangerschap

from uwvcli.domain.models import OrgUnit
from uwvcli.domain.problems import NOTE_CODES, TEXTS, Code, Note, Problem
from uwvcli.recap import mails as recap
from uwvcli.recap.mails import EmployerRecap, RecapItem


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _worded(code: Code, /, **params: str) -> Problem | Note:
    return (Note if code in NOTE_CODES else Problem).of(code, **params)


def test_every_code_has_an_english_and_a_dutch_text_that_format_with_its_parameters() -> None:
    assert set(TEXTS) == set(Code)
    for code in Code:
        wording = TEXTS[code]
        assert wording.english.strip() and wording.dutch.strip(), code
        params = {name: f"<{name}>" for name in _fields(wording.english) | _fields(wording.dutch)}
        value = _worded(code, **params)
        assert "{" not in value.english and "{" not in value.dutch, code
        for name in _fields(wording.english):
            assert f"<{name}>" in value.english
        for name in _fields(wording.dutch):
            assert f"<{name}>" in value.dutch
        if code is not Code.LEGACY:  # a text from an older journal row is shown as it is
            assert value.dutch != value.english, code


def test_a_problem_renders_its_english_text_and_survives_the_journal_round_trip() -> None:
    problem = Problem.of(Code.SECTOR_MISSING, unit="OE1", employer="WG001")
    assert str(problem) == (
        "the legal entity has no uwv_sector: add it to org unit OE1 of employer WG001 in the configuration"
    )
    assert Problem.from_json(problem.to_json()) == problem
    # An old row's English text, an unknown code or missing parameters: shown as they are.
    assert Problem.from_json("waits for WG001/Z-1/zw-ziekmelding").code is Code.LEGACY
    assert str(Problem.from_json({"code": "from-the-future", "params": {}})) == (
        "problem from-the-future (recorded by another version of uwvcli)"
    )
    assert Problem.from_json({"code": "sector_missing", "params": {}}).code is Code.LEGACY


_LITERAL = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=12)


@given(code=st.sampled_from(sorted(set(Code) - {Code.LEGACY})), value=_LITERAL)
def test_no_fragment_of_an_english_text_is_left_in_its_dutch_rendering(code: Code, value: str) -> None:
    wording = TEXTS[code]
    worded = _worded(code, **dict.fromkeys(_fields(wording.english) | _fields(wording.dutch), value))
    fragments = [literal.strip() for literal, *_ in string.Formatter().parse(wording.english)]
    for fragment in fragments:
        if len(fragment) >= 8:  # field names such as uwv_sector are the same in both languages
            assert fragment not in worded.dutch, (code, fragment)


_BROKEN_ENTITY = st.fixed_dictionaries(
    {},
    optional={
        "uwv_aansluitnummer": st.sampled_from([None, "13000000123456"]),
        "uwv_sector": st.sampled_from([None, "036", "999"]),
        "uwv_risicocode": st.sampled_from([None, "1"]),
        "loonheffingennummer": st.sampled_from([None, "123456782B01"]),
        "iban": st.sampled_from(["NL91ABNA0417164301"]),
    },
)
_BROKEN_DOSSIER = st.fixed_dictionaries(
    {},
    optional={
        "bsn": st.sampled_from([None, "123456789"]),
        "birth_date": st.none(),
        "loonheffingennummer": st.sampled_from(["123456781L01"]),
        "direct_payment": st.booleans(),
        "iban": st.sampled_from([None, "NL92ABNA0417164300"]),
        "org_unit_id": st.sampled_from(["OE2", "OE9"]),
    },
)
ON = date(2026, 3, 2)


@settings(max_examples=60, deadline=None)
@given(entity=_BROKEN_ENTITY, fields=_BROKEN_DOSSIER, partial=st.booleans(), outside=st.booleans())
def test_what_the_rules_find_never_reaches_the_recap_in_english(
    entity: dict, fields: dict, partial: bool, outside: bool
) -> None:
    units = (legal_entity(**entity), OrgUnit(id="OE2", name="Filiaal", parent="OE1"), OrgUnit("OE9", "Los"))
    dossiers = [
        ziekte(
            "Z1",
            ON,
            vangnet_status="no_risk",
            partial_recovery_date=ON + timedelta(days=2) if partial else None,
            recovery_date=ON + timedelta(days=3),
            **fields,
        ),
        zwangerschap(
            "P1", date(2026, 7, 1), employee="1002", leave_start_date=date(2026, 4, 1) if outside else None
        ),
    ]
    evaluation = run(*dossiers, on=ON + timedelta(days=3), found=(employer(units=units),), horizon=14)
    items = [RecapItem.from_notification(n) for n in evaluation.notifications]
    message = recap.compose_recap(
        EmployerRecap(employer=employer(units=units), run_date=ON, blocked=[i for i in items if i.problems])
    )
    body = message.get_body(("plain",))
    assert body is not None
    text = " ".join(body.get_content().split())
    for n in evaluation.notifications:
        for problem in n.problems:
            assert problem.code is not Code.LEGACY
            assert str(problem) not in text
            assert recap.problem_in_dutch(problem) in text
        for note in n.notes:
            assert str(note) not in text
