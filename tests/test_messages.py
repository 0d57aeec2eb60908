"""The UWV messages: every kind and option validates against UWV's reference schema and the
project's own strict checks, carries what MESSAGES.md says, and nothing it must not."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.message_samples import (
    BRANCH,
    BSN,
    CASES,
    CREATED,
    EMPLOYEE_IBAN,
    ENTITY,
    ENTITY_IBAN,
    NS,
    SENDER,
    build,
    dossier,
    employer,
    notification,
    zw,
)
from uwvcli.domain.keys import (
    NotificationKey,
    Variant,
    aanleverkenmerk,
    dossier_id_problem,
    employer_id_problem,
)
from uwvcli.domain.models import Kind, OrgUnit, Sender, ZwReason
from uwvcli.messages.build import (
    MAX_REFERENTIE,
    NAMESPACE,
    SHORT_BASE_REVISIONS,
    build_message,
    build_withdrawal,
    check_message,
    content_digest,
    loonheffingennummer_for,
    message_facts,
    message_reference,
    reference_base,
    referentie_melding,
    withdrawn_reference,
)


@functools.cache
def reference_schema(shared: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(shared / "reference/uwv/UwvZwMeldingInternBody-v0428-b01.xsd")))


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def text(root: etree._Element, path: str) -> str | None:
    return root.findtext("/".join(f"u:{p}" for p in path.split("/")), namespaces=NS)


def names(root: etree._Element) -> set[str]:
    return {etree.QName(e).localname for e in root.iter()}


# ---------------------------------------------------------------- every kind and option


@pytest.mark.parametrize("case", CASES)
def test_every_kind_and_option_validates_against_uwv_schema_and_own_checks(shared: Path, case: str) -> None:
    n, d = CASES[case]
    xml = build(n, d)
    schema = reference_schema(shared)
    assert schema.validate(parse(xml)), schema.error_log.last_error
    assert check_message(xml) == []


@pytest.mark.parametrize("case", CASES)
def test_no_delivery_date_no_medical_data_no_percentages(case: str) -> None:
    n, d = CASES[case]
    root = parse(build(n, d))
    forbidden = {"DatBevalling", "CdRedenZiekmelding", "DatVerwachtHerstel", "PercLoondoorbetalingTijdensAo"}
    assert not names(root) & forbidden
    assert not any("Perc" in name or "Diagnose" in name for name in names(root))


def test_common_blocks_carry_sender_employee_and_legal_entity() -> None:
    n, d = CASES["zw-vangnet"]
    root = parse(build(n, d))
    assert text(root, "CdBerichtType") == "OTP3"
    assert text(root, "Ketenpartij/Naam") == SENDER.name
    assert text(root, "Ketenpartij/CdRolKetenpartij") == "02"
    assert text(root, "Ketenpartij/CdSrtIndiener") == "WG"
    assert text(root, "Ketenpartij/NaamSoftwarePakket") == "uwvcli"
    assert text(root, "Ketenpartij/BerichtkenmerkIndiener") == "WG001-Z-17-ZM"
    assert text(root, "Ketenpartij/Contactgegevens/NaamContactpersoonAfd") == "J. Jansen"
    assert text(root, "Ketenpartij/Contactgegevens/TelefoonnrContactpersoonAfd") == "0201234567"
    assert text(root, "NatuurlijkPersoon/Burgerservicenr") == BSN
    assert text(root, "NatuurlijkPersoon/Geboortedat") == "19900203"
    assert text(root, "NatuurlijkPersoon/Geslacht") == "2"
    assert text(root, "NatuurlijkPersoon/Voorletters") == "TJ"
    assert text(root, "NatuurlijkPersoon/Voorvoegsel") == "van der"
    assert text(root, "AdministratieveEenheid/Loonheffingennr") == "123456782L01"
    assert text(root, "AdministratieveEenheid/Naam") == "Bakkerij De Vries BV"
    assert text(root, "AdministratieveEenheid/AansluitingsnrBv") == "013000000123456"
    assert text(root, "AdministratieveEenheid/SectorRisicogroep/CdRisicopremiegroep") == "05"
    assert text(root, "AdministratieveEenheid/SectorRisicogroep/CdSectorOsv") == "013"
    assert text(root, "AdministratieveEenheid/Arbeidsverhouding/Personeelsnr") == "1001"
    assert text(root, "MeldingZiekte/ReferentieMelding") == "WG001/Z-17/zw-ziekmelding"
    assert text(root, "MeldingZiekte/DatTijdOpstellenMelding") == "20260302160405"  # Amsterdam time
    assert parse(build(n, d)).getroottree().docinfo.encoding == "UTF-8"


@pytest.mark.parametrize(
    ("case", "code", "has_toelichting"),
    [
        ("zw-zwangerschap", "06", True),
        ("zw-window", "06", True),
        ("zw-bevalling", "07", False),
        ("zw-orgaandonatie", "08", False),
        ("zw-vangnet", "04", False),
        ("zw-ziek-uit-dienst", "03", False),
    ],
)
def test_zw_reason_codes(case: str, code: str, has_toelichting: bool) -> None:
    n, d = CASES[case]
    root = parse(build(n, d))
    assert text(root, "MeldingZiekte/CdRedenAangifteAo") == code
    assert (text(root, "MeldingZiekte/ToelichtingMelding") is not None) == has_toelichting


def test_the_two_pregnancy_situations_are_told_apart() -> None:
    own = text(parse(build(*CASES["zw-zwangerschap"])), "MeldingZiekte/ToelichtingMelding")
    window = text(parse(build(*CASES["zw-window"])), "MeldingZiekte/ToelichtingMelding")
    assert own and window and own != window
    assert "29a lid 2" in window and "29a lid 1" in own


def test_ziek_uit_dienst_says_employment_ends_and_omits_unknown_report_date() -> None:
    root = parse(build(*CASES["zw-ziek-uit-dienst"]))
    assert text(root, "MeldingZiekte/IndEDnstvrbndCtrTijdensZiekte") == "1"
    assert text(root, "MeldingZiekte/DatOntvangstMeldingWerkgever") is None
    other = parse(build(*CASES["zw-vangnet"]))
    assert text(other, "MeldingZiekte/IndEDnstvrbndCtrTijdensZiekte") == "2"
    assert text(other, "MeldingZiekte/DatOntvangstMeldingWerkgever") == "20260202"


def test_direct_payment_sends_the_employees_iban_and_the_entitys_for_the_employer() -> None:
    root = parse(build(*CASES["zw-direct-payment"]))
    assert text(root, "MeldingZiekte/IndDirecteUitkering") == "1"
    assert text(root, "NatuurlijkPersoon/Bankrekening/Iban") == EMPLOYEE_IBAN
    assert text(root, "AdministratieveEenheid/Bankrekening/Iban") == ENTITY_IBAN


def test_without_direct_payment_the_employments_account_is_the_employers() -> None:
    n, d = zw(ZwReason.VANGNET, vangnet_status="no_risk", iban="nl20 ingb 0001 2345 67")
    root = parse(build(n, d))
    assert text(root, "MeldingZiekte/IndDirecteUitkering") == "2"
    assert root.find("u:NatuurlijkPersoon/u:Bankrekening", NS) is None
    assert text(root, "AdministratieveEenheid/Bankrekening/Iban") == EMPLOYEE_IBAN
    assert check_message(build(n, d)) == []


def test_mla_and_herstel_carry_no_bank_accounts() -> None:
    for case in ("mla-one-period", "herstel-mla"):
        n, d = CASES[case]
        root = parse(build(n, dataclasses.replace(d, direct_payment=True, iban=EMPLOYEE_IBAN)))
        assert root.find(".//u:Bankrekening", NS) is None


def test_werkhervatting_partial_carries_the_daily_wage_with_two_decimals() -> None:
    root = parse(build(*CASES["werkhervatting-partial"]))
    assert text(root, "MeldingWerkhervatting/DatEersteAoDag") == "20260202"
    assert (
        text(root, "MeldingWerkhervatting/WerkhervattingGedeeltelijk/DatGedeeltelijkeWerkhervatting")
        == "20260302"
    )
    assert (
        text(root, "MeldingWerkhervatting/WerkhervattingGedeeltelijk/BedrSvLoonPerDagGedWerkenTijdAo")
        == "84.50"
    )
    assert root.find("u:MeldingWerkhervatting/u:VolledigHersteld", NS) is None


def test_werkhervatting_full_carries_the_recovery_date() -> None:
    root = parse(build(*CASES["werkhervatting-full"]))
    assert text(root, "MeldingWerkhervatting/VolledigHersteld/DatHersteld") == "20260309"
    assert root.find("u:MeldingWerkhervatting/u:WerkhervattingGedeeltelijk", NS) is None


def test_mla_chain_lists_earlier_periods_and_is_interrupted() -> None:
    root = parse(build(*CASES["mla-chain"]))
    assert text(root, "MeldingLangdurigAo/DatEersteAoDag") == "20250106"
    assert text(root, "MeldingLangdurigAo/IndOnafgebrokenAo") == "2"
    periods = [
        (p.findtext("u:DatEersteAoDag", namespaces=NS), p.findtext("u:DatLaatsteAoDag", namespaces=NS))
        for p in root.findall("u:AoPeriode", NS)
    ]
    assert periods == [("20250106", "20250214"), ("20250220", "20250302")]
    single = parse(build(*CASES["mla-one-period"]))
    assert text(single, "MeldingLangdurigAo/IndOnafgebrokenAo") == "1"
    assert single.find("u:AoPeriode", NS) is None


def test_herstel_mla() -> None:
    root = parse(build(*CASES["herstel-mla"]))
    assert text(root, "MeldingHersteldLangdurigAo/DatHersteld") == "20260112"
    assert text(root, "MeldingHersteldLangdurigAo/DatEersteAoDag") == "20250321"


def test_wazo_single_chosen_start() -> None:
    root = parse(build(*CASES["wazo-chosen-start"]))
    assert text(root, "MeldingWazo/CdRedenAanvraagWazo") == "01"
    assert text(root, "MeldingWazo/DatGewensteAanvangWazoVerlof") == "20260525"
    assert text(root, "MeldingWazo/DatVermoedelijkeBevalling") == "20260701"
    assert text(root, "MeldingWazo/IndDirecteUitkering") == "2"
    assert text(root, "MeldingWazo/ToelichtingMelding") is None


def test_wazo_multiple_birth_with_assumed_start_says_so() -> None:
    root = parse(build(*CASES["wazo-multiple-assumed-start"]))
    assert text(root, "MeldingWazo/CdRedenAanvraagWazo") == "04"
    assert text(root, "MeldingWazo/DatGewensteAanvangWazoVerlof") == "20260423"
    assert "vroegst mogelijke" in (text(root, "MeldingWazo/ToelichtingMelding") or "")
    assert text(root, "NatuurlijkPersoon/Bankrekening/Iban") == EMPLOYEE_IBAN


@pytest.mark.parametrize(("sector", "expected"), [("052", "07"), ("009", "03"), ("013", "01")])
def test_missing_risicocode_gets_uwvs_default(sector: str, expected: str) -> None:
    entity = dataclasses.replace(ENTITY, uwv_sector=sector, uwv_risicocode=None)
    xml = build(*CASES["zw-vangnet"], emp=employer(entity, BRANCH))
    assert text(parse(xml), "AdministratieveEenheid/SectorRisicogroep/CdRisicopremiegroep") == expected
    assert check_message(xml) == []


def test_contact_details_and_name_parts_are_optional(shared: Path) -> None:
    n, d = CASES["no-name-parts"]
    xml = build(n, d, sender=Sender(name="Bakkerij De Vries BV", role="Bedrijf"))
    root = parse(xml)
    assert root.find("u:Ketenpartij/u:Contactgegevens", NS) is None
    assert not names(root) & {
        "EersteVoornaam",
        "Voorletters",
        "Voorvoegsel",
        "SignificantDeelVanDeAchternaam",
    }
    assert not names(root) & {"Geslacht"}
    assert reference_schema(shared).validate(root)
    assert check_message(xml) == []


def test_eight_digit_bsn_gets_its_leading_zero() -> None:
    n, d = zw(ZwReason.VANGNET, bsn="11122233")  # a spreadsheet dropped the zero of 011122233?
    assert text(parse(build(n, d)), "NatuurlijkPersoon/Burgerservicenr") == "011122233"


def test_employment_override_of_the_loonheffingennummer() -> None:
    n, d = zw(ZwReason.VANGNET, loonheffingennummer="111222333L02")
    assert text(parse(build(n, d)), "AdministratieveEenheid/Loonheffingennr") == "111222333L02"


def test_long_keys_are_shortened_uniquely_for_referentie_melding() -> None:
    a = "WG001/" + "X" * 70 + "/werkhervatting/partial"
    b = "WG001/" + "X" * 70 + "/werkhervatting/full"
    assert len(referentie_melding(a)) == 64 and len(referentie_melding(b)) == 64
    assert referentie_melding(a) != referentie_melding(b)
    assert referentie_melding("WG001/Z-1/wazo") == "WG001/Z-1/wazo"


# ---------------------------------------------------------------- loonheffingennummer_for


def test_loonheffingennummer_for_prefers_the_employment_then_the_legal_entity() -> None:
    assert loonheffingennummer_for(dossier(loonheffingennummer="111222333L02"), employer()) == "111222333L02"
    assert loonheffingennummer_for(dossier(), employer()) == "123456782L01"
    # An invalid override is not silently replaced by the entity's: it must block.
    assert loonheffingennummer_for(dossier(loonheffingennummer="123L01"), employer()) == "123L01"


def test_loonheffingennummer_for_without_legal_entity_or_number() -> None:
    orphan = OrgUnit(id="OE2", name="Filiaal")
    assert loonheffingennummer_for(dossier(), employer(orphan)) is None
    bare = dataclasses.replace(ENTITY, loonheffingennummer=None)
    assert loonheffingennummer_for(dossier(), employer(bare, BRANCH)) is None


# ---------------------------------------------------------------- check_message finds each error


def with_value(xml: bytes, path: str, value: str) -> bytes:
    root = parse(xml)
    element = root.find("/".join(f"u:{p}" for p in path.split("/")), NS)
    assert element is not None, path
    element.text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


ZW = build(*CASES["zw-direct-payment"])
PARTIAL = build(*CASES["werkhervatting-partial"])


@pytest.mark.parametrize(
    ("xml", "path", "bad", "expected"),
    [
        (ZW, "NatuurlijkPersoon/Geboortedat", "19900230", "date JJJJMMDD that exists"),
        (ZW, "NatuurlijkPersoon/Geboortedat", "1990-02-03", "date JJJJMMDD"),
        (ZW, "MeldingZiekte/DatEersteAoDag", "2026022", "date JJJJMMDD"),
        (ZW, "MeldingZiekte/DatTijdOpstellenMelding", "202603021604", "timestamp JJJJMMDDHHMMSS"),
        (ZW, "MeldingZiekte/DatTijdOpstellenMelding", "20260302250000", "timestamp JJJJMMDDHHMMSS"),
        (ZW, "MeldingZiekte/IndDirecteUitkering", "J", "not one of the codes 1, 2"),
        (ZW, "NatuurlijkPersoon/Geslacht", "V", "not one of the codes 0, 1, 2, 9"),
        (PARTIAL, "MeldingWerkhervatting/WerkhervattingGedeeltelijk/BedrSvLoonPerDagGedWerkenTijdAo", "84,50",
         "two decimals and a dot"),
        (PARTIAL, "MeldingWerkhervatting/WerkhervattingGedeeltelijk/BedrSvLoonPerDagGedWerkenTijdAo", "84.5",
         "two decimals and a dot"),
        (PARTIAL, "MeldingWerkhervatting/WerkhervattingGedeeltelijk/BedrSvLoonPerDagGedWerkenTijdAo", "0.00",
         "above zero"),
        (ZW, "NatuurlijkPersoon/Burgerservicenr", "111222334", "11-check"),
        (ZW, "NatuurlijkPersoon/Burgerservicenr", "11122233", "9 digits"),
        (ZW, "AdministratieveEenheid/Loonheffingennr", "123456783L01", "loonheffingennummer"),
        (ZW, "AdministratieveEenheid/Loonheffingennr", "123456782L1", "loonheffingennummer"),
        (ZW, "AdministratieveEenheid/AansluitingsnrBv", "113000000123456", "15 digits starting with 0"),
        (ZW, "AdministratieveEenheid/SectorRisicogroep/CdSectorOsv", "036", "sector code"),
        (ZW, "AdministratieveEenheid/SectorRisicogroep/CdSectorOsv", "13", "sector code"),
        (ZW, "AdministratieveEenheid/SectorRisicogroep/CdRisicopremiegroep", "1", "2 digits"),
        (ZW, "NatuurlijkPersoon/Bankrekening/Iban", "NL20INGB0001234568", "mod-97"),
        (ZW, "AdministratieveEenheid/Bankrekening/Iban", "NL91 ABNA 0417 1643 00", "no spaces"),
        (ZW, "MeldingZiekte/CdRedenAangifteAo", "01", "not one of the codes 03, 04, 06, 07, 08"),
        (ZW, "MeldingZiekte/ReferentieMelding", "R" * 65, "longer than 64"),
        (ZW, "AdministratieveEenheid/Naam", "N" * 257, "longer than 256"),
        (ZW, "AdministratieveEenheid/Arbeidsverhouding/Personeelsnr", "P" * 16, "longer than 15"),
        (ZW, "NatuurlijkPersoon/Voorletters", "T.J.", "capital letters"),
        (ZW, "NatuurlijkPersoon/SignificantDeelVanDeAchternaam", " Testpersoon", "leading or trailing"),
        (ZW, "Ketenpartij/Contactgegevens/TelefoonnrContactpersoonAfd", "+31201234567", "1 to 11 digits"),
        (ZW, "Ketenpartij/BerichtkenmerkIndiener", "WG001/Z-17", "characters of A–Z"),
        (ZW, "CdBerichtType", "OTP1", "not one of the codes OTP3"),
    ],
)  # fmt: skip
def test_check_message_finds_each_format_error(xml: bytes, path: str, bad: str, expected: str) -> None:
    problems = check_message(with_value(xml, path, bad))
    assert len(problems) == 1, problems
    assert path in problems[0] and expected in problems[0]
    assert "line " in problems[0]


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("NatuurlijkPersoon/Burgerservicenr", "111222334"),
        ("NatuurlijkPersoon/Geboortedat", "19900230"),
        ("NatuurlijkPersoon/SignificantDeelVanDeAchternaam", "Testpersoon" + "x" * 200),
        ("NatuurlijkPersoon/EersteVoornaam", " Testa"),
        ("NatuurlijkPersoon/Bankrekening/Iban", "NL20INGB0001234568"),
        ("NatuurlijkPersoon/Geslacht", "V"),
    ],
)
def test_problems_never_repeat_personal_values(path: str, bad: str) -> None:
    problems = check_message(with_value(ZW, path, bad))
    assert problems
    for problem in problems:
        assert bad.strip() not in problem and BSN not in problem and "Testa" not in problem


def edit(xml: bytes, change) -> bytes:
    root = parse(xml)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def find(root: etree._Element, path: str) -> etree._Element:
    found = root.find("/".join(f"u:{p}" for p in path.split("/")), NS)
    assert found is not None
    return found


def element(name: str, value: str | None = None) -> etree._Element:
    new = etree.Element(f"{{{NAMESPACE}}}{name}")
    new.text = value
    return new


def remove(path: str):
    def change(root: etree._Element) -> None:
        target = find(root, path)
        target.getparent().remove(target)

    return change


def test_missing_required_element() -> None:
    problems = check_message(edit(ZW, remove("NatuurlijkPersoon/Burgerservicenr")))
    assert len(problems) == 1, problems
    assert problems[0].startswith("UwvZwMeldingInternBody/NatuurlijkPersoon (line ")
    assert problems[0].endswith(": Burgerservicenr is missing (from the export's bsn)")


def test_elements_out_of_schema_order() -> None:
    def swap(root: etree._Element) -> None:
        persoon = find(root, "NatuurlijkPersoon")
        persoon.insert(0, find(root, "NatuurlijkPersoon/Geboortedat"))

    problems = check_message(edit(ZW, swap))
    assert any(
        "NatuurlijkPersoon/Burgerservicenr (line" in p and "out of schema order" in p for p in problems
    ), problems


def test_duplicate_and_unknown_elements() -> None:
    def duplicate(root: etree._Element) -> None:
        find(root, "MeldingZiekte").append(element("IndEDnstvrbndCtrTijdensZiekte", "1"))

    assert any("occurs more than once" in p for p in check_message(edit(ZW, duplicate)))

    def unknown(root: etree._Element) -> None:
        find(root, "MeldingZiekte").insert(3, element("IndWerkverplichtingEersteAoDag", "1"))

    assert any("is not an element of uwvcli's messages" in p for p in check_message(edit(ZW, unknown)))


def test_delivery_date_is_refused() -> None:
    wazo = build(*CASES["wazo-chosen-start"])
    problems = check_message(
        edit(wazo, lambda root: find(root, "MeldingWazo").insert(0, element("DatBevalling", "20260630")))
    )
    assert any("DatBevalling" in p and "never sent" in p for p in problems)
    assert not any("20260630" in p for p in problems)


def test_combinations_that_do_not_belong_together() -> None:
    # Two notifications in one message.
    mla = parse(build(*CASES["mla-one-period"]))
    both = edit(ZW, lambda root: root.insert(4, find(mla, "MeldingLangdurigAo")))
    assert any("exactly one of MeldingZiekte" in p for p in check_message(both))
    # A werkhervatting that is both partial and full.
    full = parse(build(*CASES["werkhervatting-full"]))
    both_parts = edit(
        PARTIAL,
        lambda r: find(r, "MeldingWerkhervatting").append(
            find(full, "MeldingWerkhervatting/VolledigHersteld")
        ),
    )
    assert any("exactly one of WerkhervattingGedeeltelijk" in p for p in check_message(both_parts))
    # Code 06 without saying which situation.
    pregnant = build(*CASES["zw-window"])
    assert any(
        "ToelichtingMelding" in p
        for p in check_message(edit(pregnant, remove("MeldingZiekte/ToelichtingMelding")))
    )
    # Earlier periods but "uninterrupted".
    chain = build(*CASES["mla-chain"])
    assert any(
        "IndOnafgebrokenAo" in p
        for p in check_message(with_value(chain, "MeldingLangdurigAo/IndOnafgebrokenAo", "1"))
    )
    # Direct payment without the employee's account.
    assert any(
        "direct payment" in p for p in check_message(edit(ZW, remove("NatuurlijkPersoon/Bankrekening")))
    )
    # A recovery before the first sick day.
    early = with_value(
        build(*CASES["werkhervatting-full"]), "MeldingWerkhervatting/VolledigHersteld/DatHersteld", "20260101"
    )
    assert any("must be after DatEersteAoDag" in p for p in check_message(early))
    # A period that ends before it starts.
    backwards = with_value(chain, "AoPeriode/DatLaatsteAoDag", "20241231")
    assert any("DatLaatsteAoDag is before DatEersteAoDag" in p for p in check_message(backwards))


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (b"<UwvZwMeldingInternBody", "not well-formed XML"),
        (b"<?xml version='1.0'?><Other xmlns='urn:x'/>", "root element is {urn:x}Other"),
        (
            b"<?xml version='1.0' encoding='ISO-8859-1'?><UwvZwMeldingInternBody xmlns='"
            + NAMESPACE.encode()
            + b"'/>",
            "not declared as UTF-8",
        ),
    ],
)
def test_unusable_documents(xml: bytes, expected: str) -> None:
    assert any(expected in p for p in check_message(xml))


def test_entities_are_not_expanded_and_nothing_is_fetched() -> None:
    attack = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        b'<UwvZwMeldingInternBody xmlns="'
        + NAMESPACE.encode()
        + b'"><CdBerichtType>&secret;&b;</CdBerichtType>'
        b"</UwvZwMeldingInternBody>"
    )
    problems = check_message(attack)
    assert any("DOCTYPE" in p for p in problems)
    assert not any("root:" in p for p in problems)


# ---------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_date_check_accepts_exactly_the_dates_that_exist(value: str) -> None:
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
        exists = True
    except ValueError:
        exists = False
    problems = check_message(with_value(ZW, "NatuurlijkPersoon/Geboortedat", value))
    assert (problems == []) == exists


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)), st.integers(1, 400))
def test_any_real_sickness_dates_make_a_valid_werkhervatting(first: date, days: int) -> None:
    d = dossier(first_sick_day=first, recovery_date=first + timedelta(days=days))
    xml = build(notification(Kind.WERKHERVATTING, d, "full"), d)
    assert check_message(xml) == []
    assert text(parse(xml), "MeldingWerkhervatting/VolledigHersteld/DatHersteld") == (
        first + timedelta(days=days)
    ).strftime("%Y%m%d")


@settings(max_examples=100, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2))
def test_any_daily_wage_is_written_with_two_decimals_and_a_dot(wage: Decimal) -> None:
    d = dossier(partial_recovery_date=date(2026, 3, 2), partial_daily_wage=wage)
    xml = build(notification(Kind.WERKHERVATTING, d, "partial"), d)
    assert check_message(xml) == []
    written = text(
        parse(xml), "MeldingWerkhervatting/WerkhervattingGedeeltelijk/BedrSvLoonPerDagGedWerkenTijdAo"
    )
    assert Decimal(written) == wage and written.count(".") == 1 and len(written.split(".")[1]) == 2


@settings(max_examples=150, deadline=None)
@given(
    st.text(min_size=0, max_size=300),
    st.one_of(st.none(), st.text(max_size=20)),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_any_names_give_a_well_formed_valid_message(
    last_name: str, initials: str | None, prefix: str | None
) -> None:
    """Names come from exports as typed: the message must stay valid XML whatever they hold
    (control characters, surrogates excluded by XML itself, very long text)."""
    n, d = zw(ZwReason.VANGNET, last_name=last_name, initials=initials, name_prefix=prefix)
    xml = build(n, d)
    assert check_message(xml) == []


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.binary(min_size=0, max_size=3))
def test_check_message_survives_any_damage_and_never_echoes_personal_data(
    position: int, replacement: bytes
) -> None:
    """The simulator runs these checks on whatever arrives: damage gives findings, never a crash,
    and the findings never quote the employee's data."""
    position %= len(ZW)
    damaged = ZW[:position] + replacement + ZW[position + 1 :]
    problems = check_message(damaged)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
    for problem in problems:
        assert BSN not in problem and "Testpersoon" not in problem and "19900203" not in problem


@pytest.mark.parametrize("value", [BSN, "19900203", "Testpersoon"])
def test_a_tag_run_together_with_personal_data_is_not_quoted_by_the_syntax_finding(value: str) -> None:
    """`<Burgerservicenr x111222333…`: libxml2 calls the value an attribute name and quotes it
    ("Specification mandates value for attribute x111222333"); the finding must not."""
    at = ZW.index(f">{value}<".encode())
    damaged = ZW[:at] + b" x" + ZW[at + 1 :]
    (problem,) = check_message(damaged)
    assert "not well-formed" in problem
    assert value not in problem and value[1:] not in problem


# ---------------------------------------------------------------- withdrawals and revisions (MESSAGES.md)


@pytest.mark.parametrize("style", ["indicator", "melding-intrekking"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_withdrawal_of_every_kind_validates_and_names_what_was_sent(
    shared: Path, case: str, style: str
) -> None:
    n, d = CASES[case]
    sent = build(n, d)
    withdrawal = build_withdrawal(
        sent, SENDER, style=style, aanleverkenmerk="WG001-Z-17-ZM-I1", created=CREATED
    )
    assert check_message(withdrawal) == []
    assert reference_schema(shared).validate(etree.fromstring(withdrawal)), reference_schema(shared).error_log
    assert withdrawn_reference(withdrawal) == message_reference(sent) == str(n.key)
    assert withdrawn_reference(sent) is None
    root = parse(withdrawal)
    assert text(root, "Ketenpartij/BerichtkenmerkIndiener") == "WG001-Z-17-ZM-I1"
    short_form = style == "melding-intrekking" and (
        n.kind is Kind.ZW_ZIEKMELDING or (n.kind is Kind.WERKHERVATTING and n.variant == "full")
    )
    assert (root.find("u:MeldingIntrekking", NS) is not None) == short_form
    if not short_form:  # the facts exactly as they were sent, plus the indicator
        assert message_facts(withdrawal).case == {
            **message_facts(sent).case,
            **{
                f"{block}/IndVerzoekTotIntrekken": "1"
                for block in message_facts(sent).case
                if block.startswith("Melding") and "/" not in block
            },
        }
        assert message_facts(withdrawal).person == message_facts(sent).person


def test_the_cd_reden_of_a_melding_intrekking_says_ziekmelding_or_full_recovery() -> None:
    for case, reden in (("zw-vangnet", "1"), ("zw-direct-payment", "1"), ("werkhervatting-full", "2")):
        n, d = CASES[case]
        withdrawal = build_withdrawal(
            build(n, d), SENDER, style="melding-intrekking", aanleverkenmerk="X-I1", created=CREATED
        )
        assert text(parse(withdrawal), "MeldingIntrekking/CdRedenMeldingIntrekken") == reden


def test_revision_2_and_later_carry_the_revision_in_the_referentie_melding() -> None:
    n, d = CASES["zw-vangnet"]
    second = build_message(
        n, d, employer(), SENDER, aanleverkenmerk="WG001-Z-17-ZM-r2", created=CREATED, revision=2
    )
    assert text(parse(second), "MeldingZiekte/ReferentieMelding") == f"{n.key}#2"
    assert check_message(second) == []
    assert content_digest(second, n.key) == content_digest(build(n, d), n.key)  # no change of content
    long_key = n.key._replace(dossier_id="D" * 80)
    assert len(referentie_melding(long_key, 12)) <= 64 and referentie_melding(long_key, 12).endswith("#12")
    assert reference_base(f"{n.key}#2") == str(n.key)
    assert len({referentie_melding(long_key, r) for r in range(1, 30)}) == 29


@pytest.mark.parametrize("length", [10, 55, 60, 63, 70, 120])
def test_a_revision_of_a_key_of_any_length_is_no_change_of_content(length: int) -> None:
    """The journal's fingerprint decides whether a rejected message is sent again and whether a
    notification a person withdrew stays withdrawn: a new revision alone must never look like
    a correction, also for a key too long to carry `#<n>` after itself."""
    n, d = CASES["zw-vangnet"]
    dossier_id = ("Z" * length)[:length]
    n, d = (
        replace(n, key=n.key._replace(dossier_id=dossier_id), dossier_id=dossier_id),
        replace(d, dossier_id=dossier_id),
    )
    digests = {
        content_digest(
            build_message(
                n,
                d,
                employer(),
                SENDER,
                aanleverkenmerk=aanleverkenmerk(n.key, r),
                created=CREATED,
                revision=r,
            ),
            n.key,
        )
        for r in (1, 2, 3, 12)
    }
    assert len(digests) == 1
    assert n.first_ao_day is not None
    moved = replace(n, first_ao_day=n.first_ao_day - timedelta(days=1))  # a correction: a new digest
    assert content_digest(build(moved, d), n.key) not in digests


#: Ids as HR systems and configurations hold them: short and long, with `/`, `#`, `-`, spaces and
#: letters outside ASCII (everything the loaders let through).
_IDS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(
    str.isprintable
)
_KEYS = st.builds(
    lambda employer_id, dossier_id, kind, variant: NotificationKey(
        employer_id, dossier_id, kind, variant if kind is Kind.WERKHERVATTING else None
    ),
    _IDS.map(str.strip).filter(lambda e: e and employer_id_problem(e, ()) is None),
    _IDS.map(str.strip).filter(lambda d: d and dossier_id_problem(d) is None),
    st.sampled_from(Kind),
    st.sampled_from(Variant),
)
_REVISIONS = st.integers(min_value=1, max_value=SHORT_BASE_REVISIONS)


@settings(max_examples=300)
@given(key=_KEYS, revisions=st.lists(_REVISIONS, min_size=1, max_size=5))
def test_every_revision_of_a_key_fits_and_shares_one_base(key: NotificationKey, revisions: list[int]) -> None:
    """MESSAGES.md: `<key>#<n>`, at most 64 characters; the simulator (like UWV) links a revision
    to the one it replaces by the base, so every revision of one key must name the same one."""
    first = referentie_melding(key, 1)
    base = reference_base(first)
    for revision in revisions:
        reference = referentie_melding(key, revision)
        assert len(reference) <= MAX_REFERENTIE and reference == reference.strip()
        assert reference_base(reference) == base
        if revision > 1:  # `<key>#<n>`, or the shortened base and `#<n>` when that does not fit
            before, _, after = reference.rpartition("#")
            assert after == str(revision) and before in (str(key), base)
    if len(str(key)) <= MAX_REFERENTIE:
        assert first == str(key)  # what journals, outboxes and UWV already hold


@settings(max_examples=300)
@given(a=_KEYS, b=_KEYS, revision_a=_REVISIONS, revision_b=_REVISIONS)
def test_distinct_keys_never_share_a_base_nor_a_reference(
    a: NotificationKey, b: NotificationKey, revision_a: int, revision_b: int
) -> None:
    if a == b:
        return
    first_a, first_b = referentie_melding(a, revision_a), referentie_melding(b, revision_b)
    assert reference_base(first_a) != reference_base(first_b)
    assert first_a != first_b


@pytest.mark.parametrize("length", [59, 60, 62, 63, 64, 65, 70, 120])
def test_long_keys_of_every_length_keep_revision_1_and_link_later_revisions(length: int) -> None:
    """Revision 1 is what earlier versions sent (the key, or its first 55 characters and a hash);
    revisions 2 and later of a key too long for `#<n>` carry its 59-character shortened base."""
    key = NotificationKey("WG001", "D" * (length - len("WG001//zw-ziekmelding")), Kind.ZW_ZIEKMELDING)
    assert len(str(key)) == length
    first, second, tenth = (referentie_melding(key, r) for r in (1, 2, 10))
    assert first == (str(key) if length <= 64 else f"{str(key)[:55]}-{first[-8:]}")
    assert reference_base(first) == reference_base(second) == reference_base(tenth)
    if length <= 62:
        assert second == f"{key}#2"
    else:
        assert second.rpartition("#")[0] == tenth.rpartition("#")[0] == reference_base(first)
        assert len(reference_base(first)) == 59
    legacy = f"{str(key)[:53]}-{first[-8:]}#2" if length > 64 else None  # what 0.x sent as revision 2
    if legacy is not None:
        assert reference_base(legacy) == reference_base(first)
