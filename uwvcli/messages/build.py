"""Everything uwvcli knows about the UWV message format, in one module.

Each notification becomes one `UwvZwMeldingInternBody` document (UWV's own message v04.28, into
which UWV translates what arrives through Digipoort; see docs/messages.md for why). The day a user
has UWV's official external schema, this module is the one to change.

`build_message` writes what the rules decided; `check_message` is the project's own strict schema
of what uwvcli produces (formats, code lists, lengths, check digits and the combinations that
belong together). It runs before a message is written to the outbox and again in the simulator's
validation step. Its findings name elements and lines, never values, so they are safe to log.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, cached_property, lru_cache
from zoneinfo import ZoneInfo

from lxml import etree

from uwvcli import __version__
from uwvcli.common import xmlsafe
from uwvcli.domain.corrections import Facts
from uwvcli.domain.identifiers import (
    default_risicocode,
    is_valid_aansluitnummer,
    is_valid_bsn,
    is_valid_iban,
    is_valid_loonheffingennummer,
    is_valid_risicocode,
    is_valid_sector,
    normalize_bsn,
    normalize_iban,
)
from uwvcli.domain.keys import AnyKey
from uwvcli.domain.models import Dossier, Employer, Kind, Notification, Sender, ZwReason

NAMESPACE = "http://schemas.uwv.nl/UwvML/Berichten/UwvZwMeldingInternBody-v0428"
ROOT = "UwvZwMeldingInternBody"
BERICHT_TYPE = "OTP3"  # what UWV records for employer reports that arrive through Digipoort
SOFTWARE_NAME = "uwvcli"
ROL_KETENPARTIJ = "02"  # aanspreekpunt voor het elektronisch verzenden van het bericht
SOORT_INDIENER = "WG"  # werkgever of namens de werkgever
MAX_REFERENTIE = 64
_REVISION_SUFFIX = re.compile(r"#[0-9]+$")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_REDEN_AANGIFTE_AO: dict[ZwReason | None, str] = {
    ZwReason.ZIEK_UIT_DIENST: "03",
    ZwReason.VANGNET: "04",
    ZwReason.ZWANGERSCHAP: "06",
    ZwReason.PREGNANCY_WINDOW: "06",
    ZwReason.BEVALLING: "07",
    ZwReason.ORGAANDONATIE: "08",
}
# Code 06 covers two situations; UWV is told which one in ToelichtingMelding.
_TOELICHTING_06: dict[ZwReason | None, str] = {
    ZwReason.ZWANGERSCHAP: "Arbeidsongeschikt door zwangerschap (ZW art. 29a lid 1).",
    ZwReason.PREGNANCY_WINDOW: (
        "Arbeidsongeschikt in de periode vóór het zwangerschapsverlof waarin het verlof had kunnen "
        "ingaan maar nog niet was ingegaan (ZW art. 29a lid 2)."
    ),
}
_TOELICHTING_ASSUMED_LEAVE = (
    "Geen gewenste ingangsdatum van het zwangerschapsverlof opgegeven: de vroegst mogelijke "
    "ingangsdatum (WAZO art. 3:1 lid 2) is aangevraagd."
)
_REDEN_WAZO_SINGLE, _REDEN_WAZO_MULTIPLE = "01", "04"
#: MeldingIntrekking's CdRedenMeldingIntrekken (MESSAGES.md): the two kinds that form exists for,
#: by the block (and part) that marks them; every other kind is withdrawn in the indicator form.
_REDEN_INTREKKEN = {"MeldingZiekte": "1", "MeldingWerkhervatting/VolledigHersteld": "2"}
WITHDRAWAL_STYLES = ("indicator", "melding-intrekking")
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_GESLACHT = {"M": "1", "V": "2", "X": "0"}  # X: like the BRP, recorded as "onbekend"
# Kinds whose message concerns a benefit, and so carries the account it is paid into (RULES §7).
_PAYMENT_KINDS = {Kind.ZW_ZIEKMELDING, Kind.WERKHERVATTING, Kind.WAZO}

# The project's own length limits (UWV's UwvML formats).
_LEN_NAAM = 256
_LEN_VOORNAAM = 200
_LEN_VOORLETTERS = 6
_LEN_VOORVOEGSEL = 10
_LEN_ACHTERNAAM = 200
_LEN_CONTACTNAAM = 64
_LEN_TELEFOON = 11
_LEN_SOFTWARE = 64
_LEN_KENMERK = 40
_LEN_PERSONEELSNR = 15
_LEN_TOELICHTING = 4096


# ================================================================ building


def loonheffingennummer_for(dossier: Dossier, employer: Employer) -> str | None:
    """The loonheffingennummer the message is filed under: the employment's own when the export
    gives one (an invalid one is not replaced: it blocks), else its legal entity's."""
    own = (dossier.loonheffingennummer or "").strip()
    if own:
        return own
    entity = employer.legal_entity_for(dossier.org_unit_id)
    number = (entity.loonheffingennummer or "").strip() if entity is not None else ""
    return number or None


def build_message(
    notification: Notification,
    dossier: Dossier,
    employer: Employer,
    sender: Sender,
    *,
    aanleverkenmerk: str,
    created: datetime,
    revision: int = 1,
) -> bytes:
    """The unsigned UTF-8 message for one notification, elements in schema order; `revision`
    makes its ReferentieMelding `<key>#<revision>` from 2 on (MESSAGES.md).

    Missing or malformed data is not repaired or refused here: the element is left out or written
    as given, and `check_message` names the problem (the rules block such notifications first).
    """
    root = etree.Element(_q(ROOT), nsmap={None: NAMESPACE})
    _add(root, "CdBerichtType", BERICHT_TYPE)
    _ketenpartij(root, sender, aanleverkenmerk)
    pays = notification.kind in _PAYMENT_KINDS
    _natuurlijk_persoon(root, dossier, with_account=pays and dossier.direct_payment)
    _MELDINGEN[notification.kind](root, notification, dossier, _timestamp(created))
    if revision > 1:
        melding = next(e for e in root if _local(e) in _MELDING_BLOCKS)
        melding.find(_q("ReferentieMelding")).text = referentie_melding(notification.key, revision)
    if notification.kind in (Kind.MLA, Kind.HERSTEL_MLA):
        for first, last in notification.earlier_periods:
            periode = _group(root, "AoPeriode")
            _add(periode, "DatEersteAoDag", _date(first))
            _add(periode, "DatLaatsteAoDag", _date(last))
    _administratieve_eenheid(root, dossier, employer, with_account=pays)
    # Indented: support staff read outbox files; whitespace between elements means nothing to UWV.
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def content_digest(xml: bytes, key: AnyKey) -> str:
    """sha256 of what a message from `build_message` for `key` says about its notification, to
    notice a correction of the exports: its exclusive C14N without the sender block (Ketenpartij:
    the aanleverkenmerk, uwvcli's version, the contact details), with DatTijdOpstellenMelding set
    to one fixed moment and the ReferentieMelding to revision 1's, so that neither a new
    revision, a new phone number nor the time of building counts as a change. (Removing only
    `#<n>` is not enough: a key too long to carry `#<n>` after itself names its shortened base
    from revision 2 on.) Journals keep these digests: what goes into them never changes, and
    revision 1's reference is the one every version wrote."""
    root = etree.fromstring(xml, xmlsafe.parser())
    for sender_block in root.findall(_q("Ketenpartij")):
        root.remove(sender_block)
    for moment in root.iterfind(f"*/{_q('DatTijdOpstellenMelding')}"):
        moment.text = _DIGEST_MOMENT
    for reference in root.iterfind(f"*/{_q('ReferentieMelding')}"):
        reference.text = referentie_melding(key)
    return hashlib.sha256(etree.tostring(root, method="c14n", exclusive=True)).hexdigest()


#: Elements that say nothing about the case (RULES 4.6): the reference and moment of building,
#: a free-text explanation. Names, IBANs and contact data live outside the facts' blocks.
_NOT_FACTS = frozenset({"ReferentieMelding", "DatTijdOpstellenMelding", "ToelichtingMelding"})
#: The personal facts, kept only as a digest (`domain.corrections.digest_person`).
_PERSON_FACTS = ("Burgerservicenr", "Geboortedat")


def message_facts(xml: bytes) -> Facts:
    """The facts of a message as `build_message` writes it (signed or not): the melding block's
    and the earlier periods' values by element path, the loonheffingennummer, and the BSN and
    birth date apart. Read from the message itself, so the facts of a sent revision can be read
    back from its outbox file, exactly as they were sent."""
    root = etree.fromstring(xml, xmlsafe.parser())
    case: dict[str, str] = {}
    periods = 0
    for block in root:
        name = etree.QName(block).localname
        if name == "AoPeriode":
            periods += 1
            name = f"AoPeriode[{periods}]"
        elif not name.startswith("Melding"):
            continue
        case[name] = ""  # the kind: a melding block with no facts of its own still counts
        case.update(_leaves(block, name))
    case["Loonheffingennr"] = _text_at(root, "AdministratieveEenheid", "Loonheffingennr")
    person = {field: _text_at(root, "NatuurlijkPersoon", field) for field in _PERSON_FACTS}
    return Facts(case, person)


def _leaves(element: etree._Element, path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for child in element:
        name = etree.QName(child).localname
        if name in _NOT_FACTS:
            continue
        if len(child):
            found.update(_leaves(child, f"{path}/{name}"))
        else:
            found[f"{path}/{name}"] = child.text or ""
    return found


def _text_at(root: etree._Element, *path: str) -> str:
    found = root.find("/".join(map(_q, path)))
    return (found.text or "") if found is not None else ""


def build_withdrawal(
    sent: bytes, sender: Sender, *, style: str, aanleverkenmerk: str, created: datetime
) -> bytes:
    """The withdrawal (intrekking) of a message that was submitted, from that message as it was
    sent (its outbox file, signed or not): its facts exactly as they were, so UWV finds what it
    withdraws (MESSAGES.md). A fresh sender block (a new BerichtkenmerkIndiener) and a new
    DatTijdOpstellenMelding; style `indicator` keeps the melding block and adds
    IndVerzoekTotIntrekken 1; style `melding-intrekking` replaces the block of a ziekmelding or
    full werkhervatting by MeldingIntrekking{ReferentieMelding, DatEersteAoDag,
    CdRedenMeldingIntrekken} (and drops the employee's account, which a withdrawal does not
    need); other kinds use the indicator form either way."""
    if style not in WITHDRAWAL_STYLES:
        raise ValueError(f"unknown withdrawal style {style!r}")
    root = etree.fromstring(sent, xmlsafe.parser(keep_comments=False))
    for signature in root.findall(f"{{{_DSIG}}}Signature"):
        root.remove(signature)
    for old in root.findall(_q("Ketenpartij")):
        position = root.index(old)
        root.remove(old)
        _ketenpartij(root, sender, aanleverkenmerk)
        root.insert(position, root[-1])
    melding = next((e for e in root if _local(e) in _MELDING_BLOCKS), None)
    if melding is None or _local(melding) == "MeldingIntrekking":
        raise ValueError("the message holds no melding to withdraw")
    reden = _REDEN_INTREKKEN.get(_local(melding))
    if reden is None and melding.find(_q("VolledigHersteld")) is not None:
        reden = _REDEN_INTREKKEN.get(f"{_local(melding)}/VolledigHersteld")
    if style == "melding-intrekking" and reden is not None:
        replacement = etree.Element(_q("MeldingIntrekking"))
        _add(replacement, "ReferentieMelding", melding.findtext(_q("ReferentieMelding")))
        _add(replacement, "DatEersteAoDag", melding.findtext(_q("DatEersteAoDag")))
        _add(replacement, "CdRedenMeldingIntrekken", reden)
        root.replace(melding, replacement)
        for account in root.findall(f"{_q('NatuurlijkPersoon')}/{_q('Bankrekening')}"):
            account.getparent().remove(account)
    else:
        indicator = etree.Element(_q("IndVerzoekTotIntrekken"))
        indicator.text = "1"
        melding.insert(0, indicator)
        moment = melding.find(_q("DatTijdOpstellenMelding"))
        if moment is not None:
            moment.text = _timestamp(created)
    etree.indent(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def withdrawn_reference(withdrawal: bytes) -> str | None:
    """The ReferentieMelding a withdrawal names (either style), or None when the message is no
    withdrawal. The simulator asks this of what it receives."""
    root = etree.fromstring(withdrawal, xmlsafe.parser(keep_comments=False))
    for melding in root:
        name = _local(melding)
        if name == "MeldingIntrekking" or (
            name in _MELDING_BLOCKS and melding.findtext(_q("IndVerzoekTotIntrekken")) == "1"
        ):
            return melding.findtext(_q("ReferentieMelding"))
    return None


def message_reference(message: bytes) -> str | None:
    """The ReferentieMelding of a message's melding block."""
    root = etree.fromstring(message, xmlsafe.parser(keep_comments=False))
    melding = next((e for e in root if _local(e) in _MELDING_BLOCKS), None)
    return melding.findtext(_q("ReferentieMelding")) if melding is not None else None


def referentie_melding(key: AnyKey, revision: int = 1) -> str:
    """The notification key as ReferentieMelding (at most 64 characters, MESSAGES.md): the key
    itself for revision 1, `<key>#<revision>` from revision 2 on, so that UWV — and the simulator
    — can tell which message a later one replaces: every revision of one key has the same base
    (`reference_base`), and distinct keys never share one.

    Up to 59 characters a key is its own base, for every revision up to `SHORT_BASE_REVISIONS`.
    A longer key needs a design, because revision 1 cannot change: it is the key itself up to 64
    characters, and for a longer key its first 55 characters, `-` and 8 hex characters of the
    key's SHA-256 (64 in all); journals, outboxes and UWV hold those values. So revision n keeps
    `<key>#<n>` while that fits (as earlier versions wrote it), and otherwise carries the key's
    *shortened base*: its first 50 characters, `-` and the same hash (59 characters, room for
    `#<n>` up to `SHORT_BASE_REVISIONS`). The shortened base is the base of every key over 59
    characters: `reference_base` maps each form such a key's references take — revision 1 as it
    always was, `<key>#<n>`, `<shortened base>#<n>`, and the 53- and 52-character cuts earlier
    versions gave revision n — to it. Never ambiguous: a key ends in a kind or variant, a
    shortened base in `-` and lowercase hex, which never ends a key; two shortened bases meet only
    when two keys start alike and share their hash. Beyond `SHORT_BASE_REVISIONS` (no
    notification is resubmitted that often) the value still fits and is unique, but no longer
    names its base."""
    text = str(key)
    if revision <= 1:
        return text if len(text) <= MAX_REFERENTIE else _cut(text, MAX_REFERENTIE)
    suffix = f"#{revision}"
    if len(text) + len(suffix) <= MAX_REFERENTIE:
        return text + suffix
    base = _cut(text, _SHORT_BASE_LENGTH)
    if len(base) + len(suffix) <= MAX_REFERENTIE:
        return base + suffix
    return _cut(text, MAX_REFERENTIE - len(suffix)) + suffix


def reference_base(reference: str) -> str:
    """What every revision of one notification's ReferentieMelding shares (see
    `referentie_melding`): without its `#<revision>`, and, for a key too long to carry `#<n>`
    after itself, its shortened base (its first 50 characters, `-` and the hash of the key),
    whichever form the reference has. Text of any other form is returned without its revision."""
    rest = _REVISION_SUFFIX.sub("", reference)
    shortened = _SHORTENED.fullmatch(rest)
    if shortened is not None:
        return rest[:_SHORT_PREFIX] + shortened[1]
    if len(rest) > _SHORT_BASE_LENGTH:  # the key itself, too long to carry every `#<n>`
        return _cut(rest, _SHORT_BASE_LENGTH)
    return rest


#: A shortened reference is the key's first characters, `-` and this many hex digits of its hash.
_DIGEST_LENGTH = 8
#: Revisions up to this one of a key too long for `#<n>` name their shortened base.
SHORT_BASE_REVISIONS = 9999
_SHORT_BASE_LENGTH = MAX_REFERENTIE - len(f"#{SHORT_BASE_REVISIONS}")  # 59
_SHORT_PREFIX = _SHORT_BASE_LENGTH - 1 - _DIGEST_LENGTH  # 50
#: A shortened reference of any length a version gave it (the prefix is never shorter than 50).
_SHORTENED = re.compile(rf".{{{_SHORT_PREFIX},}}(-[0-9a-f]{{{_DIGEST_LENGTH}}})", re.DOTALL)


def _cut(text: str, length: int) -> str:
    """`text` in `length` characters: its start, `-` and a short hash of all of it."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:_DIGEST_LENGTH]
    return f"{text[: length - 1 - _DIGEST_LENGTH]}-{digest}"


def _ketenpartij(root: etree._Element, sender: Sender, aanleverkenmerk: str) -> None:
    partij = _group(root, "Ketenpartij")
    _add(partij, "Naam", _text(sender.name, _LEN_NAAM))
    _add(partij, "CdRolKetenpartij", ROL_KETENPARTIJ)
    _add(partij, "CdSrtIndiener", SOORT_INDIENER)
    _add(partij, "NaamSoftwarePakket", SOFTWARE_NAME)
    _add(partij, "VersieSoftwarePakket", __version__)
    _add(partij, "BerichtkenmerkIndiener", aanleverkenmerk)
    name, phone = _text(sender.contact_name, _LEN_CONTACTNAAM), _phone(sender.contact_phone)
    if name or phone:
        contact = _group(partij, "Contactgegevens")
        _add(contact, "NaamContactpersoonAfd", name)
        _add(contact, "TelefoonnrContactpersoonAfd", phone)


def _natuurlijk_persoon(root: etree._Element, dossier: Dossier, *, with_account: bool) -> None:
    persoon = _group(root, "NatuurlijkPersoon")
    _add(persoon, "Burgerservicenr", normalize_bsn(dossier.bsn) if dossier.bsn else None)
    _add(persoon, "Geboortedat", _date(dossier.birth_date))
    _add(persoon, "Geslacht", _GESLACHT.get(dossier.gender or ""))
    _add(persoon, "EersteVoornaam", _text(dossier.first_name, _LEN_VOORNAAM))
    _add(persoon, "Voorletters", _initials(dossier.initials))
    _add(persoon, "Voorvoegsel", _text(dossier.name_prefix, _LEN_VOORVOEGSEL))
    _add(persoon, "SignificantDeelVanDeAchternaam", _text(dossier.last_name, _LEN_ACHTERNAAM))
    if with_account:
        _add(_group(persoon, "Bankrekening"), "Iban", _iban(dossier.iban))


def _melding_ziekte(root: etree._Element, n: Notification, dossier: Dossier, created: str) -> None:
    melding = _group(root, "MeldingZiekte")
    _add(melding, "ReferentieMelding", referentie_melding(n.key))
    _add(melding, "DatTijdOpstellenMelding", created)
    _add(melding, "DatOntvangstMeldingWerkgever", _date(dossier.sick_reported_date))
    _add(melding, "DatEersteAoDag", _date(n.first_ao_day or dossier.first_sick_day))
    _add(melding, "ToelichtingMelding", _TOELICHTING_06.get(n.zw_reason))
    _add(melding, "IndDirecteUitkering", _indicator(dossier.direct_payment))
    _add(melding, "CdRedenAangifteAo", _REDEN_AANGIFTE_AO.get(n.zw_reason))
    _add(melding, "IndEDnstvrbndCtrTijdensZiekte", _indicator(n.employment_ends))


def _melding_wazo(root: etree._Element, n: Notification, dossier: Dossier, created: str) -> None:
    melding = _group(root, "MeldingWazo")  # never DatBevalling: the actual delivery date is not sent
    _add(melding, "ReferentieMelding", referentie_melding(n.key))
    _add(melding, "DatTijdOpstellenMelding", created)
    _add(melding, "ToelichtingMelding", _TOELICHTING_ASSUMED_LEAVE if n.leave_start_assumed else None)
    _add(melding, "IndDirecteUitkering", _indicator(dossier.direct_payment))
    reden = _REDEN_WAZO_MULTIPLE if dossier.multiple_birth else _REDEN_WAZO_SINGLE
    _add(melding, "CdRedenAanvraagWazo", reden)
    _add(melding, "DatGewensteAanvangWazoVerlof", _date(n.leave_start or dossier.leave_start_date))
    _add(melding, "DatVermoedelijkeBevalling", _date(dossier.expected_delivery_date))


def _melding_werkhervatting(root: etree._Element, n: Notification, dossier: Dossier, created: str) -> None:
    melding = _group(root, "MeldingWerkhervatting")
    _add(melding, "ReferentieMelding", referentie_melding(n.key))
    _add(melding, "DatTijdOpstellenMelding", created)
    _add(melding, "DatEersteAoDag", _date(n.first_ao_day or dossier.first_sick_day))
    if n.variant == "partial":
        gedeeltelijk = _group(melding, "WerkhervattingGedeeltelijk")
        _add(gedeeltelijk, "DatGedeeltelijkeWerkhervatting", _date(dossier.partial_recovery_date))
        _add(gedeeltelijk, "BedrSvLoonPerDagGedWerkenTijdAo", _amount(dossier.partial_daily_wage))
    else:
        _add(_group(melding, "VolledigHersteld"), "DatHersteld", _date(dossier.recovery_date))


def _melding_langdurig_ao(root: etree._Element, n: Notification, dossier: Dossier, created: str) -> None:
    melding = _group(root, "MeldingLangdurigAo")
    _add(melding, "ReferentieMelding", referentie_melding(n.key))
    _add(melding, "DatEersteAoDag", _date(n.first_ao_day or dossier.first_sick_day))
    _add(melding, "IndOnafgebrokenAo", _indicator(not n.earlier_periods))


def _melding_hersteld_langdurig_ao(
    root: etree._Element, n: Notification, dossier: Dossier, created: str
) -> None:
    melding = _group(root, "MeldingHersteldLangdurigAo")
    _add(melding, "ReferentieMelding", referentie_melding(n.key))
    _add(melding, "DatHersteld", _date(dossier.recovery_date))
    _add(melding, "DatEersteAoDag", _date(n.first_ao_day or dossier.first_sick_day))


_MELDINGEN: dict[Kind, Callable[[etree._Element, Notification, Dossier, str], None]] = {
    Kind.ZW_ZIEKMELDING: _melding_ziekte,
    Kind.WAZO: _melding_wazo,
    Kind.WERKHERVATTING: _melding_werkhervatting,
    Kind.MLA: _melding_langdurig_ao,
    Kind.HERSTEL_MLA: _melding_hersteld_langdurig_ao,
}


def _administratieve_eenheid(
    root: etree._Element, dossier: Dossier, employer: Employer, *, with_account: bool
) -> None:
    eenheid = _group(root, "AdministratieveEenheid")
    entity = employer.legal_entity_for(dossier.org_unit_id)
    _add(eenheid, "Loonheffingennr", loonheffingennummer_for(dossier, employer))
    if entity is not None:
        _add(eenheid, "Naam", _text(entity.name, _LEN_NAAM))
        _add(eenheid, "AansluitingsnrBv", _plain(entity.uwv_aansluitnummer))
        # Benefits paid to the employer go to the employment's account, else the entity's.
        account = (None if dossier.direct_payment else _iban(dossier.iban)) or _iban(entity.iban)
        if with_account and account:
            _add(_group(eenheid, "Bankrekening"), "Iban", account)
        sector = _plain(entity.uwv_sector)
        if sector:
            groep = _group(eenheid, "SectorRisicogroep")
            _add(groep, "CdRisicopremiegroep", _plain(entity.uwv_risicocode) or default_risicocode(sector))
            _add(groep, "CdSectorOsv", sector)
    _add(_group(eenheid, "Arbeidsverhouding"), "Personeelsnr", dossier.employee_id)


# ---------------------------------------------------------------- value formats


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _group(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, _q(name))


def _add(parent: etree._Element, name: str, value: str | None) -> None:
    """Append the leaf `name`; an absent (None) value leaves it out."""
    if value is not None:
        etree.SubElement(parent, _q(name)).text = value


def _date(value: date | None) -> str | None:
    return value.strftime("%Y%m%d") if value else None


def _timestamp(value: datetime) -> str:
    """JJJJMMDDHHMMSS in Dutch local time (UWV's clock), whatever zone `value` is in."""
    if value.tzinfo is not None:
        value = value.astimezone(AMSTERDAM)
    return value.strftime("%Y%m%d%H%M%S")


#: The moment every content digest is taken at (2000-01-01 00:00 UTC, as it always has been).
_DIGEST_MOMENT = _timestamp(datetime(2000, 1, 1, tzinfo=UTC))


def _indicator(value: bool) -> str:
    return "1" if value else "2"


def _amount(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"


def _plain(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


@lru_cache(maxsize=4096)  # python-stdnum is slow, and an employer's IBAN goes into every message
def _iban(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    return normalize_iban(value)


def _phone(value: str | None) -> str | None:
    """Digits only, as UWV's N..11 format wants: separators dropped, +31 written as 0."""
    digits = re.sub(r"[\s\-./()]", "", value or "")
    if digits.startswith("+31"):
        digits = "0" + digits[3:]
    elif digits.startswith("0031"):
        digits = "0" + digits[4:]
    return digits or None


def _initials(value: str | None) -> str | None:
    """`J.P.` → `JP`: letters only, capitals, at most six (UWV's format)."""
    letters = "".join(ch for ch in (value or "").upper() if ch.isalpha())
    return letters[:_LEN_VOORLETTERS] or None


def _text(value: str | None, limit: int) -> str | None:
    """Free text made safe for XML (no control or non-characters, single spaces), cut to `limit`."""
    return " ".join(_NOT_TEXT.sub(" ", value or "").split())[:limit].strip() or None


#: What XML text must not contain: the control characters (Unicode category Cc, a fixed set),
#: lone surrogates (Cs) and the non-characters U+FFFE and U+FFFF. One regular expression instead
#: of a category look-up per character: every name and free text passes through here twice.
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# ================================================================ checking


def check_message(xml: bytes) -> list[str]:
    """The project's strict checks of one unsigned message; an empty list means it is fine.

    Each finding names the element path and line and what is wrong, never the value (which may
    be personal data).
    """
    try:
        root = etree.fromstring(xml, xmlsafe.parser(keep_comments=False))
    except etree.XMLSyntaxError as error:
        return [f"the message is not well-formed XML: {xmlsafe.syntax_reason(error)}"]
    tree = root.getroottree()
    problems: list[str] = []
    if tree.docinfo.doctype:
        problems.append("the message has a DOCTYPE, which UWV messages do not have")
    if (tree.docinfo.encoding or "").upper() != "UTF-8":
        problems.append("the message is not declared as UTF-8")
    if root.tag != _q(ROOT):
        return [*problems, f"the root element is {_local(root)}, not {ROOT} in namespace {NAMESPACE}"]
    _check_element(root, _SCHEMA, ROOT, problems)
    if not problems:
        problems.extend(_check_combinations(root))
    return problems


_Check = Callable[[str], str | None]  # returns what is wrong with a value, or None


@dataclass(frozen=True)
class _Node:
    name: str
    check: _Check | None = None  # a leaf's value format
    children: tuple[_Node, ...] = ()
    required: bool = False
    repeatable: bool = False

    @cached_property
    def order(self) -> dict[str, int]:
        """Each child's position in schema order, by name (looked up for every element checked)."""
        return {child.name: index for index, child in enumerate(self.children)}


def _req(name: str, check: _Check | None = None, *children: _Node) -> _Node:
    return _Node(name, check, children, required=True)


def _opt(name: str, check: _Check | None = None, *children: _Node) -> _Node:
    return _Node(name, check, children)


# ---- value checks

_EIGHT_DIGITS = re.compile(r"[0-9]{8}")
_FOURTEEN_DIGITS = re.compile(r"[0-9]{14}")
_AMOUNT = re.compile(r"[0-9]{1,9}\.[0-9]{2}")
_NINE_DIGITS = re.compile(r"[0-9]{9}")
_THREE_DIGITS = re.compile(r"[0-9]{3}")
_TWO_DIGITS = re.compile(r"[0-9]{2}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_INITIALS = re.compile(rf"[^\W\d_]{{1,{_LEN_VOORLETTERS}}}")
_KENMERK = re.compile(rf"[A-Za-z0-9._-]{{1,{_LEN_KENMERK}}}")


def _fmt_date(value: str) -> str | None:
    if _EIGHT_DIGITS.fullmatch(value):
        try:
            date(int(value[:4]), int(value[4:6]), int(value[6:]))
            return None
        except ValueError:
            pass
    return "must be a date JJJJMMDD that exists"


def _fmt_timestamp(value: str) -> str | None:
    if _FOURTEEN_DIGITS.fullmatch(value):
        try:
            # fixed-width fields: datetime() refuses what strptime would (month 13, second 60…)
            month, day, hour, minute, second = (int(value[start : start + 2]) for start in range(4, 14, 2))
            datetime(int(value[:4]), month, day, hour, minute, second)
            return None
        except ValueError:
            pass
    return "must be a timestamp JJJJMMDDHHMMSS that exists"


def _one_of(*codes: str) -> _Check:
    def check(value: str) -> str | None:
        return None if value in codes else f"is not one of the codes {', '.join(codes)}"

    return check


_fmt_indicator = _one_of("1", "2")


def _fmt_amount(value: str) -> str | None:
    if _AMOUNT.fullmatch(value):
        try:
            if Decimal(value) > 0:
                return None
        except InvalidOperation:
            pass
    return "must be an amount above zero with two decimals and a dot (e.g. 84.50)"


def _fmt_bsn(value: str) -> str | None:
    if _NINE_DIGITS.fullmatch(value) and is_valid_bsn(value):
        return None
    return "must be a burgerservicenummer of 9 digits that passes the 11-check"


def _fmt_loonheffingennummer(value: str) -> str | None:
    if is_valid_loonheffingennummer(value):
        return None
    return "must be a loonheffingennummer: 9 digits (passing the 11-check), L, 2 digits"


def _fmt_aansluitnummer(value: str) -> str | None:
    return None if is_valid_aansluitnummer(value) else "must be 15 digits starting with 0"


def _fmt_sector(value: str) -> str | None:
    if _THREE_DIGITS.fullmatch(value) and is_valid_sector(value):
        return None
    return "must be a sector code of the list (001–069 except 036 and 037, or 998)"


def _fmt_risicocode(value: str) -> str | None:
    if _TWO_DIGITS.fullmatch(value) and is_valid_risicocode(value):
        return None
    return "must be a risicopremiegroep of 2 digits"


@lru_cache(maxsize=4096)  # as `_iban`
def _fmt_iban(value: str) -> str | None:
    if _IBAN.fullmatch(value) and is_valid_iban(value):
        return None
    return "must be an IBAN (ISO 13616, capitals, no spaces) that passes the mod-97 check"


def _fmt_text(limit: int) -> _Check:
    def check(value: str) -> str | None:
        if not value.strip() or value != value.strip():
            return "must be text without leading or trailing spaces"
        if len(value) > limit:
            return f"is longer than {limit} characters"
        if _NOT_TEXT.search(value):
            return "contains control characters"
        return None

    return check


def _fmt_digits(limit: int) -> _Check:
    digits = re.compile(rf"[0-9]{{1,{limit}}}")

    def check(value: str) -> str | None:
        return None if digits.fullmatch(value) else f"must be 1 to {limit} digits"

    return check


def _fmt_initials(value: str) -> str | None:
    if _INITIALS.fullmatch(value) and value == value.upper():
        return None
    return f"must be 1 to {_LEN_VOORLETTERS} capital letters without dots or spaces"


def _fmt_kenmerk(value: str) -> str | None:
    if _KENMERK.fullmatch(value):
        return None
    return f"must be 1 to {_LEN_KENMERK} characters of A–Z, a–z, 0–9, '.', '_' and '-'"


def _fmt_referentie(value: str) -> str | None:
    return _fmt_text(MAX_REFERENTIE)(value)


# ---- the schema of what uwvcli sends (a strict subset of UwvZwMeldingInternBody v04.28)

_REFERENTIE = _req("ReferentieMelding", _fmt_referentie)
_OPSTELLEN = _req("DatTijdOpstellenMelding", _fmt_timestamp)
_EERSTE_AO_DAG = _req("DatEersteAoDag", _fmt_date)
_DIRECTE_UITKERING = _req("IndDirecteUitkering", _fmt_indicator)
_TOELICHTING = _opt("ToelichtingMelding", _fmt_text(_LEN_TOELICHTING))
_INTREKKEN = _opt("IndVerzoekTotIntrekken", _one_of("1"))  # a withdrawal (indicator style)

_SCHEMA = _req(
    ROOT,
    None,
    _req("CdBerichtType", _one_of(BERICHT_TYPE)),
    _req(
        "Ketenpartij",
        None,
        _req("Naam", _fmt_text(_LEN_NAAM)),
        _req("CdRolKetenpartij", _one_of("01", "02")),
        _req("CdSrtIndiener", _one_of(SOORT_INDIENER)),
        _req("NaamSoftwarePakket", _fmt_text(_LEN_SOFTWARE)),
        _req("VersieSoftwarePakket", _fmt_text(_LEN_SOFTWARE)),
        _req("BerichtkenmerkIndiener", _fmt_kenmerk),
        _opt(
            "Contactgegevens",
            None,
            _opt("NaamContactpersoonAfd", _fmt_text(_LEN_CONTACTNAAM)),
            _opt("TelefoonnrContactpersoonAfd", _fmt_digits(_LEN_TELEFOON)),
        ),
    ),
    _req(
        "NatuurlijkPersoon",
        None,
        _req("Burgerservicenr", _fmt_bsn),
        _req("Geboortedat", _fmt_date),
        _opt("Geslacht", _one_of("0", "1", "2", "9")),
        _opt("EersteVoornaam", _fmt_text(_LEN_VOORNAAM)),
        _opt("Voorletters", _fmt_initials),
        _opt("Voorvoegsel", _fmt_text(_LEN_VOORVOEGSEL)),
        _opt("SignificantDeelVanDeAchternaam", _fmt_text(_LEN_ACHTERNAAM)),
        _opt("Bankrekening", None, _req("Iban", _fmt_iban)),
    ),
    _opt(
        "MeldingZiekte",
        None,
        _INTREKKEN,
        _REFERENTIE,
        _OPSTELLEN,
        _opt("DatOntvangstMeldingWerkgever", _fmt_date),
        _EERSTE_AO_DAG,
        _TOELICHTING,
        _DIRECTE_UITKERING,
        _req("CdRedenAangifteAo", _one_of("03", "04", "06", "07", "08")),
        _opt("IndEDnstvrbndCtrTijdensZiekte", _fmt_indicator),
    ),
    _opt(
        "MeldingWazo",
        None,
        _INTREKKEN,
        _REFERENTIE,
        _OPSTELLEN,
        _TOELICHTING,
        _DIRECTE_UITKERING,
        _req("CdRedenAanvraagWazo", _one_of(_REDEN_WAZO_SINGLE, _REDEN_WAZO_MULTIPLE)),
        _req("DatGewensteAanvangWazoVerlof", _fmt_date),
        _req("DatVermoedelijkeBevalling", _fmt_date),
    ),
    _opt(
        "MeldingWerkhervatting",
        None,
        _INTREKKEN,
        _REFERENTIE,
        _OPSTELLEN,
        _EERSTE_AO_DAG,
        _opt(
            "WerkhervattingGedeeltelijk",
            None,
            _req("DatGedeeltelijkeWerkhervatting", _fmt_date),
            _req("BedrSvLoonPerDagGedWerkenTijdAo", _fmt_amount),
        ),
        _opt("VolledigHersteld", None, _req("DatHersteld", _fmt_date)),
    ),
    _opt(
        "MeldingIntrekking",
        None,
        _REFERENTIE,
        _EERSTE_AO_DAG,
        _req("CdRedenMeldingIntrekken", _one_of(*_REDEN_INTREKKEN.values())),
    ),
    _opt(
        "MeldingLangdurigAo",
        None,
        _INTREKKEN,
        _REFERENTIE,
        _EERSTE_AO_DAG,
        _req("IndOnafgebrokenAo", _fmt_indicator),
    ),
    _opt(
        "MeldingHersteldLangdurigAo",
        None,
        _INTREKKEN,
        _REFERENTIE,
        _req("DatHersteld", _fmt_date),
        _EERSTE_AO_DAG,
    ),
    _Node(
        "AoPeriode",
        None,
        (_EERSTE_AO_DAG, _req("DatLaatsteAoDag", _fmt_date)),
        repeatable=True,
    ),
    _req(
        "AdministratieveEenheid",
        None,
        _req("Loonheffingennr", _fmt_loonheffingennummer),
        _req("Naam", _fmt_text(_LEN_NAAM)),
        _req("AansluitingsnrBv", _fmt_aansluitnummer),
        _opt("Bankrekening", None, _req("Iban", _fmt_iban)),
        _req(
            "SectorRisicogroep",
            None,
            _req("CdRisicopremiegroep", _fmt_risicocode),
            _req("CdSectorOsv", _fmt_sector),
        ),
        _req("Arbeidsverhouding", None, _req("Personeelsnr", _fmt_text(_LEN_PERSONEELSNR))),
    ),
)

# Elements of UWV's schema that uwvcli must never fill, with the reason.
_NEVER_SENT = {
    "DatBevalling": "the actual delivery date is never sent",
    "CdRedenZiekmelding": "no medical reasons are sent",
    "PercLoondoorbetalingTijdensAo": "no percentages are sent",
    "DatVerwachtHerstel": "no medical prognosis is sent",
}
_MELDING_BLOCKS = (
    "MeldingZiekte",
    "MeldingWazo",
    "MeldingWerkhervatting",
    "MeldingIntrekking",
    "MeldingLangdurigAo",
    "MeldingHersteldLangdurigAo",
)


_IN_NAMESPACE = f"{{{NAMESPACE}}}"


def _local(element: etree._Element) -> str:
    """The element's name without the message namespace ("{other}name" when it is in another)."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith(_IN_NAMESPACE):
        return tag[len(_IN_NAMESPACE) :]
    return etree.QName(element).text


# Where a user fixes a value: the export field or configuration key behind the element.
_ORIGINS = {
    "Burgerservicenr": "the export's bsn",
    "Geboortedat": "the export's birth_date",
    "EersteVoornaam": "the export's first_name",
    "Voorletters": "the export's initials",
    "Voorvoegsel": "the export's name_prefix",
    "SignificantDeelVanDeAchternaam": "the export's last_name",
    "Personeelsnr": "the export's employee_id",
    "BedrSvLoonPerDagGedWerkenTijdAo": "the export's partial_daily_wage",
    "Iban": "the export's iban or the legal entity's iban",
    "Loonheffingennr": "the export's loonheffingennummer or the legal entity's",
    "AansluitingsnrBv": "the legal entity's uwv_aansluitnummer",
    "CdSectorOsv": "the legal entity's uwv_sector",
    "CdRisicopremiegroep": "the legal entity's uwv_risicocode",
    "SectorRisicogroep": "the legal entity's uwv_sector",
    "AdministratieveEenheid": "an org unit with legal_entity: true above the employee's",
    "NaamContactpersoonAfd": "sender.contact_name",
    "TelefoonnrContactpersoonAfd": "sender.contact_phone",
}


def _origin(name: str) -> str:
    origin = _ORIGINS.get(name)
    return f" (from {origin})" if origin else ""


def _where(path: str, element: etree._Element) -> str:
    return f"{path} (line {element.sourceline})"


def _check_element(element: etree._Element, node: _Node, path: str, problems: list[str]) -> None:
    if element.attrib:
        problems.append(f"{_where(path, element)}: has attributes, which this format does not use")
    if node.check is not None:
        if len(element):
            problems.append(f"{_where(path, element)}: must hold a value, not elements")
        else:
            reason = node.check(element.text or "")
            if reason:
                problems.append(f"{_where(path, element)}: {reason}{_origin(node.name)}")
        return
    before_children = len(problems)
    stray_text = bool((element.text or "").strip())
    order, seen, position = node.order, set(), -1
    for child in element:  # one pass over the children and the text between them
        tail = child.tail
        if tail and not stray_text and not tail.isspace():
            stray_text = True
        name = _local(child)
        child_path = f"{path}/{name}"
        index = order.get(name)
        if index is None:
            if name in _NEVER_SENT:
                problems.append(f"{_where(child_path, child)}: not allowed: {_NEVER_SENT[name]}")
            else:
                problems.append(f"{_where(child_path, child)}: is not an element of uwvcli's messages here")
            continue
        spec = node.children[index]
        if name in seen and not spec.repeatable:
            problems.append(f"{_where(child_path, child)}: occurs more than once")
        elif index < position:
            problems.append(f"{_where(child_path, child)}: is out of schema order")
        seen.add(name)
        position = max(position, index)
        _check_element(child, spec, child_path, problems)
    if stray_text:  # reported before what was found among the children
        problems.insert(before_children, f"{_where(path, element)}: has text where only elements belong")
    for spec in node.children:
        if spec.required and spec.name not in seen:
            problems.append(f"{_where(path, element)}: {spec.name} is missing{_origin(spec.name)}")


@cache  # a fixed set of paths, asked for in every message
def _qualified(path: str) -> str:
    return "/".join(f"{{{NAMESPACE}}}{part}" for part in path.split("/"))


class _Paths:
    """Look-ups by slash path below the root, in the message namespace."""

    def __init__(self, root: etree._Element):
        self.root = root

    def find(self, path: str) -> etree._Element | None:
        return self.root.find(_qualified(path))

    def text(self, path: str) -> str | None:
        found = self.find(path)
        return found.text if found is not None else None

    def order(self, problems: list[str], earlier: str, later: str, *, strict: bool) -> None:
        """Dates JJJJMMDD compare as text; `strict`: `later` must be after, else not before."""
        first, second = self.find(earlier), self.find(later)
        if first is None or second is None:
            return
        if (second.text or "") < (first.text or "") or (strict and second.text == first.text):
            relation = "after" if strict else "on or after"
            problems.append(f"{_where(later, second)}: must be {relation} {earlier.rsplit('/', 1)[-1]}")


def _check_combinations(root: etree._Element) -> list[str]:
    """What belongs together, beyond the format of each value (run on a well-formed message)."""
    doc = _Paths(root)
    blocks = [name for name in _MELDING_BLOCKS if doc.find(name) is not None]
    if len(blocks) != 1:
        return [f"{ROOT}: must hold exactly one of {', '.join(_MELDING_BLOCKS)}"]
    melding = blocks[0]
    problems: list[str] = []

    if melding == "MeldingZiekte" and doc.text("MeldingZiekte/CdRedenAangifteAo") == "06":
        if doc.find("MeldingZiekte/ToelichtingMelding") is None:
            problems.append(
                "MeldingZiekte: CdRedenAangifteAo 06 needs a ToelichtingMelding saying whether the "
                "sickness is caused by the pregnancy or falls before the leave"
            )
    elif melding == "MeldingWerkhervatting":
        parts = [
            p
            for p in ("WerkhervattingGedeeltelijk", "VolledigHersteld")
            if doc.find(f"{melding}/{p}") is not None
        ]
        if len(parts) != 1:
            problems.append(
                f"{melding}: must hold exactly one of WerkhervattingGedeeltelijk and VolledigHersteld"
            )
        first = f"{melding}/DatEersteAoDag"
        doc.order(
            problems,
            first,
            f"{melding}/WerkhervattingGedeeltelijk/DatGedeeltelijkeWerkhervatting",
            strict=False,
        )
        doc.order(problems, first, f"{melding}/VolledigHersteld/DatHersteld", strict=True)
    elif melding == "MeldingHersteldLangdurigAo":
        doc.order(problems, f"{melding}/DatEersteAoDag", f"{melding}/DatHersteld", strict=True)
    elif melding == "MeldingWazo":
        doc.order(
            problems,
            f"{melding}/DatGewensteAanvangWazoVerlof",
            f"{melding}/DatVermoedelijkeBevalling",
            strict=True,
        )

    problems.extend(_check_ao_perioden(doc, melding))

    direct = doc.text(f"{melding}/IndDirecteUitkering") == "1"
    has_account = doc.find("NatuurlijkPersoon/Bankrekening") is not None
    if direct and not has_account:
        problems.append("NatuurlijkPersoon: Bankrekening/Iban is missing, which direct payment needs")
    if has_account and not direct and melding != "MeldingWerkhervatting":
        problems.append("NatuurlijkPersoon: Bankrekening is only sent when UWV pays the employee directly")
    return problems


def _check_ao_perioden(doc: _Paths, melding: str) -> list[str]:
    """Earlier periods of a 42-week chain: only in the MLA messages, in order, and announced by
    IndOnafgebrokenAo 2 (interrupted) in the MLA itself."""
    perioden = doc.root.findall(f"{{{NAMESPACE}}}AoPeriode")
    if perioden and melding not in ("MeldingLangdurigAo", "MeldingHersteldLangdurigAo"):
        return [f"AoPeriode: only a (herstel-)42e-weeksmelding carries earlier periods, not {melding}"]
    problems: list[str] = []
    for periode in perioden:
        first, last = (periode.findtext(f"{{{NAMESPACE}}}{n}") for n in ("DatEersteAoDag", "DatLaatsteAoDag"))
        if first and last and last < first:
            problems.append(f"{_where('AoPeriode', periode)}: DatLaatsteAoDag is before DatEersteAoDag")
    if melding == "MeldingLangdurigAo" and doc.text(f"{melding}/IndOnafgebrokenAo") != (
        "2" if perioden else "1"
    ):
        problems.append(f"{melding}: IndOnafgebrokenAo must be 2 when earlier AoPeriode are given, else 1")
    return problems
