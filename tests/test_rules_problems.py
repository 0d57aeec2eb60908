"""Blocking problems (RULES §7): one plain-English problem per cause, saying what to fix and where,
never the BSN or a name."""

from __future__ import annotations

from datetime import date

import pytest
from rules_builders import VALID_BSN, employer, legal_entity, listed, run, ziekte

from uwvcli.domain.models import Kind, OrgUnit, State

ON = date(2026, 3, 2)
ZM = "WG001/Z1/zw-ziekmelding"


def zm_problems(*, units: tuple[OrgUnit, ...] | None = None, **fields: object) -> tuple[str, ...]:
    sick = ziekte("Z1", ON, vangnet_status="no_risk", **fields)
    found = run(sick, on=ON, found=(employer(units=units),) if units is not None else ())
    report = listed(found)[ZM]
    assert report.state is (State.BLOCKED if report.problems else State.DUE)
    for problem in report.problems:
        assert sick.bsn is None or sick.bsn.strip() not in str(problem)
        assert "Jansen" not in str(problem) and "1990" not in str(problem)
    return tuple(map(str, report.problems))  # the English texts, exactly as `due` shows them


def with_entity(**fields: object) -> tuple[OrgUnit, ...]:
    return (legal_entity(**fields), OrgUnit(id="OE2", name="Filiaal", parent="OE1"))


def test_a_complete_dossier_has_no_problems() -> None:
    assert zm_problems() == ()


def test_an_eight_digit_bsn_is_accepted_with_its_leading_zero() -> None:
    assert zm_problems(bsn="12345672") == ()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"bsn": None}, "BSN is missing: add it to the employee in the HR system (export field bsn)"),
        ({"bsn": "123456789"}, "BSN fails the 11-check: correct it in the HR system (export field bsn)"),
        ({"birth_date": None}, "birth date is missing"),
        ({"loonheffingennummer": "123456781L01"}, "the employment's loonheffingennummer"),
        ({"direct_payment": True, "iban": None}, "direct_payment is set but the employment has no IBAN"),
        ({"direct_payment": True, "iban": "NL92ABNA0417164300"}, "the employment's IBAN fails its check"),
        ({"iban": "NL92ABNA0417164300"}, "the employment's IBAN fails its check"),
    ],
)
def test_each_problem_of_the_employees_data_is_one_clear_problem(fields: dict, expected: str) -> None:
    (problem,) = zm_problems(**fields)
    assert problem.startswith(expected)
    assert "HR system" in problem


@pytest.mark.parametrize(
    ("entity", "expected"),
    [
        ({"uwv_aansluitnummer": None}, "the legal entity has no uwv_aansluitnummer"),
        ({"uwv_aansluitnummer": "13000000123456"}, "uwv_aansluitnummer is not 15 digits starting with 0"),
        ({"uwv_sector": None}, "the legal entity has no uwv_sector"),
        ({"uwv_sector": "036"}, "uwv_sector is not a UWV sector code"),
        ({"uwv_risicocode": "1"}, "uwv_risicocode is not two digits"),
        ({"loonheffingennummer": None}, "no loonheffingennummer applies"),
        ({"loonheffingennummer": "123456782B01"}, "the legal entity's loonheffingennummer is not"),
        ({"iban": "NL91ABNA0417164301"}, "the legal entity's IBAN fails its check"),
    ],
)
def test_each_problem_of_the_legal_entity_says_which_org_unit_to_fix(entity: dict, expected: str) -> None:
    (problem,) = zm_problems(units=with_entity(**entity))
    assert expected in problem
    assert "org unit OE1 of employer WG001 in the configuration" in problem


def test_several_causes_give_several_problems() -> None:
    problems = zm_problems(
        bsn=None, birth_date=None, units=with_entity(uwv_sector="000", uwv_aansluitnummer=None)
    )
    assert len(problems) == 4


def test_an_org_unit_without_a_legal_entity_above_it_is_one_problem() -> None:
    orphan = (OrgUnit(id="OE1", name="Holding"), OrgUnit(id="OE2", name="Filiaal", parent="OE1"))
    (problem,) = zm_problems(units=orphan)
    assert problem.startswith("org unit OE2 of employer WG001 has no legal entity at or above it")
    assert "legal_entity: true" in problem


def test_the_uwv_data_come_from_the_nearest_legal_entity_above_the_org_unit() -> None:
    units = (
        legal_entity("OE1", uwv_sector=None),  # the top: would block
        legal_entity("OE3", parent="OE1"),  # the nearest: complete
        OrgUnit(id="OE2", name="Filiaal", parent="OE3"),
    )
    assert zm_problems(units=units) == ()
    assert zm_problems(units=units, org_unit_id="OE1") == (
        "the legal entity has no uwv_sector: add it to org unit OE1 of employer WG001 in the configuration",
    )


def test_the_employments_loonheffingennummer_is_used_first_without_fallback() -> None:
    # A valid own number is enough even when the entity has none …
    assert zm_problems(loonheffingennummer="123456782L02", units=with_entity(loonheffingennummer=None)) == ()
    # … and an invalid own number blocks even when the entity's is valid.
    assert len(zm_problems(loonheffingennummer="123456782L0")) == 1


def test_the_employments_iban_replaces_the_entitys_unless_direct_payment() -> None:
    bad_entity_iban = with_entity(iban="NL91ABNA0417164301")
    assert zm_problems(iban="NL91ABNA0417164300", units=bad_entity_iban) == ()
    # With direct payment the message carries both: the employee's and the entity's.
    (problem,) = zm_problems(direct_payment=True, iban="NL91ABNA0417164300", units=bad_entity_iban)
    assert problem.startswith("the legal entity's IBAN fails its check")


def test_a_missing_risicocode_uses_uwvs_default_and_says_so() -> None:
    for sector, code in (("052", "07"), ("009", "03"), ("013", "01")):
        sick = ziekte("Z1", ON, vangnet_status="no_risk")
        units = with_entity(uwv_risicocode=None, uwv_sector=sector)
        report = listed(run(sick, on=ON, found=(employer(units=units),)))[ZM]
        assert report.problems == ()
        (note,) = report.notes
        assert str(note) == f"risicocode {code} used (UWV's default for sector {sector})"


def test_ibans_do_not_block_an_mla() -> None:
    long = ziekte("Z1", date(2025, 1, 6), direct_payment=True, iban=None)
    mla = listed(run(long, on=date(2025, 10, 20)))["WG001/Z1/42e-weeksmelding"]
    assert mla.problems == ()
    assert mla.state is State.DUE


def test_a_partial_werkhervatting_without_daily_wage_is_blocked() -> None:
    sick = ziekte("Z1", ON, vangnet_status="no_risk", partial_recovery_date=date(2026, 3, 5))
    partial = listed(run(sick, on=date(2026, 3, 5)))["WG001/Z1/werkhervatting/partial"]
    assert partial.state is State.BLOCKED
    (problem,) = map(str, partial.problems)
    assert "partial_daily_wage" in problem and "HR system" in problem


def test_problems_never_show_the_bsn() -> None:
    sick = ziekte("Z1", ON, vangnet_status="no_risk", bsn="111222334")
    (problem,) = map(str, listed(run(sick, on=ON))[ZM].problems)
    assert "111222334" not in problem and VALID_BSN[:6] not in problem


def test_a_blocked_notification_of_a_disabled_kind_does_not_exist() -> None:
    sick = ziekte("Z1", ON, vangnet_status="no_risk", bsn=None)
    assert run(sick, on=ON, found=(employer(disabled=(Kind.ZW_ZIEKMELDING,)),)).notifications == []
