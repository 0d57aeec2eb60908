"""What blocks a notification (RULES §7), and what the rules note about one, as values: a code
and its parameters, never personal data. One table (`TEXTS`) words each code twice: in English
for the terminal, the logs and the JSON of `due`/`status` (CONTRACT §4: `problems` is a list of
these texts), and in Dutch for the employer's recap, with the place to fix it. The recap renders
the Dutch text from the code, so a rewording of the English cannot leave a mail half-translated.

The journal stores a blocked notification's problems as `to_json` values and reads them back
with `from_json`; a row written before problems were values holds the English text itself,
which comes back as a `LEGACY` problem shown as it is. A date parameter is an ISO date
(`2026-12-01`); each rendering may show it its own way (`dutch_with`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Self


class Code(StrEnum):
    """The value is stored in the journal: never change one, only add (a renamed code keeps
    loading through `_RENAMED`)."""

    # Problems: the employee's own data (HR system)
    BSN_MISSING = "bsn_missing"
    BSN_INVALID = "bsn_invalid"
    BIRTH_DATE_MISSING = "birth_date_missing"
    EMPLOYMENT_LOONHEFFINGENNUMMER_INVALID = "employment_loonheffingennummer_invalid"
    EMPLOYMENT_IBAN_INVALID = "employment_iban_invalid"
    DIRECT_PAYMENT_WITHOUT_IBAN = "direct_payment_without_iban"
    PARTIAL_DAILY_WAGE_MISSING = "partial_daily_wage_missing"
    LEAVE_START_OUTSIDE_WINDOW = "leave_start_outside_window"
    # Problems: the legal entity in the configuration
    NO_LEGAL_ENTITY = "no_legal_entity"
    AANSLUITNUMMER_MISSING = "aansluitnummer_missing"
    AANSLUITNUMMER_INVALID = "aansluitnummer_invalid"
    SECTOR_MISSING = "sector_missing"
    SECTOR_INVALID = "sector_invalid"
    RISICOCODE_INVALID = "risicocode_invalid"
    LOONHEFFINGENNUMMER_MISSING = "loonheffingennummer_missing"
    ENTITY_LOONHEFFINGENNUMMER_INVALID = "entity_loonheffingennummer_invalid"
    ENTITY_IBAN_INVALID = "entity_iban_invalid"
    # Problems: found while preparing
    WAITS_FOR = "waits_for"
    MESSAGE_CHECK = "message_check"
    CANCELLED = "cancelled"  # vervallen: no longer due before it was sent
    WITHDRAWALS_BRAKED = "withdrawals_braked"  # RULES 4.6: the safety brake holds them
    CANNOT_WITHDRAW = "cannot_withdraw"  # the sent file a withdrawal is built from is unusable
    LEGACY = "legacy"  # a journal row from before problems were values: its text, as it is
    # Notes (informational, not blocking)
    RISICOCODE_DEFAULT = "risicocode_default"
    LEAVE_START_ASSUMED = "leave_start_assumed"
    CORRECTED_DATE_FINE = "corrected_date_fine"  # RULES 4.6: a corrected date may still be fined


#: Stored values of codes that were renamed, so that old journal rows keep loading: before
#: corrections existed an unsent notification that was no longer due was called "withdrawn";
#: that word now means a withdrawal UWV accepted (RULES 4.6), the unsent case is "cancelled".
_RENAMED: Mapping[str, Code] = {"withdrawn": Code.CANCELLED}


@dataclass(frozen=True, slots=True)
class Wording:
    english: str  # exactly what `due`, `status` and their JSON show
    dutch: str  # what the recap shows; both are `str.format` templates over the parameters


_HR = "in het HR-systeem"
_IN_CONFIG = "org unit {unit} of employer {employer} in the configuration"
_UNIT = "bij organisatie-eenheid {unit} in de uwvcli-configuratie"

TEXTS: Mapping[Code, Wording] = {
    Code.BSN_MISSING: Wording(
        "BSN is missing: add it to the employee in the HR system (export field bsn)",
        f"BSN ontbreekt — vul het aan {_HR} (exportveld bsn)",
    ),
    Code.BSN_INVALID: Wording(
        "BSN fails the 11-check: correct it in the HR system (export field bsn)",
        f"BSN klopt niet (elfproef) — corrigeer het {_HR} (exportveld bsn)",
    ),
    Code.BIRTH_DATE_MISSING: Wording(
        "birth date is missing: add it to the employee in the HR system (export field birth_date)",
        f"Geboortedatum ontbreekt — vul die aan {_HR} (exportveld birth_date)",
    ),
    Code.EMPLOYMENT_LOONHEFFINGENNUMMER_INVALID: Wording(
        "the employment's loonheffingennummer is not 9 digits, L, 2 digits with a valid 11-check: "
        "correct or clear it in the HR system (export field loonheffingennummer; it replaces the "
        "legal entity's)",
        f"Het loonheffingennummer van het dienstverband is ongeldig — corrigeer of wis het {_HR} "
        "(exportveld loonheffingennummer; het vervangt dat van de juridische entiteit)",
    ),
    Code.EMPLOYMENT_IBAN_INVALID: Wording(
        "the employment's IBAN fails its check (ISO 13616): correct it in the HR system (export field iban)",
        f"Het IBAN van het dienstverband klopt niet — corrigeer het {_HR} (exportveld iban)",
    ),
    Code.DIRECT_PAYMENT_WITHOUT_IBAN: Wording(
        "direct_payment is set but the employment has no IBAN: add the employee's IBAN (export "
        "field iban) or clear direct_payment in the HR system",
        "Directe uitbetaling staat aan, maar er is geen IBAN van de werknemer — vul het in of zet directe "
        f"uitbetaling uit {_HR}",
    ),
    Code.PARTIAL_DAILY_WAGE_MISSING: Wording(
        "the partial return to work has no partial_daily_wage (gross SV wage per day while "
        "working partially): add it in the HR system",
        f"Het loon per dag tijdens gedeeltelijk werken ontbreekt — vul het aan {_HR} "
        "(exportveld partial_daily_wage)",
    ),
    Code.LEAVE_START_OUTSIDE_WINDOW: Wording(
        "leave_start_date lies outside the lawful window (from 6 to 4 weeks before the expected "
        "delivery date; 10 to 8 weeks for a multiple birth): correct it in the HR system",
        "De gewenste verlofdatum valt buiten de wettelijke periode (6 tot 4 weken vóór de "
        f"vermoedelijke bevallingsdatum, bij een meerling 10 tot 8 weken) — corrigeer die {_HR}",
    ),
    Code.NO_LEGAL_ENTITY: Wording(
        "org unit {unit} of employer {employer} has no legal entity at or above it: set "
        "`legal_entity: true` (with the UWV data) on it or on a parent org unit in the configuration",
        "Organisatie-eenheid {unit} valt niet onder een juridische entiteit — zet legal_entity: true "
        "(met de UWV-gegevens) op deze of een bovenliggende eenheid in de uwvcli-configuratie",
    ),
    Code.AANSLUITNUMMER_MISSING: Wording(
        f"the legal entity has no uwv_aansluitnummer: add it to {_IN_CONFIG}",
        f"UWV-aansluitnummer ontbreekt — vul het in {_UNIT}",
    ),
    Code.AANSLUITNUMMER_INVALID: Wording(
        f"the legal entity's uwv_aansluitnummer is not 15 digits starting with 0: correct it in {_IN_CONFIG}",
        f"UWV-aansluitnummer is ongeldig (15 cijfers, beginnend met 0) — corrigeer het {_UNIT}",
    ),
    Code.SECTOR_MISSING: Wording(
        f"the legal entity has no uwv_sector: add it to {_IN_CONFIG}",
        f"UWV-sectorcode ontbreekt — vul uwv_sector in {_UNIT}",
    ),
    Code.SECTOR_INVALID: Wording(
        "the legal entity's uwv_sector is not a UWV sector code (001–069 except 036 and 037, "
        f"or 998): correct it in {_IN_CONFIG}",
        f"UWV-sectorcode bestaat niet (001–069 behalve 036 en 037, of 998) — corrigeer uwv_sector {_UNIT}",
    ),
    Code.RISICOCODE_INVALID: Wording(
        f"the legal entity's uwv_risicocode is not two digits: correct it in {_IN_CONFIG}, or remove it "
        "to use UWV's default",
        f"Risicopremiegroep is geen twee cijfers — corrigeer uwv_risicocode {_UNIT}, of laat hem weg "
        "(dan geldt de standaardwaarde van UWV)",
    ),
    Code.LOONHEFFINGENNUMMER_MISSING: Wording(
        f"no loonheffingennummer applies: add one to {_IN_CONFIG}, or to the employment in the HR "
        "system (export field loonheffingennummer)",
        f"Er is geen loonheffingennummer — vul het in {_UNIT}, of bij het dienstverband {_HR}",
    ),
    Code.ENTITY_LOONHEFFINGENNUMMER_INVALID: Wording(
        "the legal entity's loonheffingennummer is not 9 digits, L, 2 digits with a valid "
        f"11-check on the 9 digits: correct it in {_IN_CONFIG}",
        "Het loonheffingennummer van de juridische entiteit is ongeldig (9 cijfers, L, 2 cijfers, "
        f"elfproef) — corrigeer het {_UNIT}",
    ),
    Code.ENTITY_IBAN_INVALID: Wording(
        f"the legal entity's IBAN fails its check (ISO 13616): correct it in {_IN_CONFIG}",
        f"Het IBAN van de juridische entiteit klopt niet — corrigeer iban {_UNIT}",
    ),
    Code.WAITS_FOR: Wording(
        "waits for {key}",
        "Wacht op de {label} van dossier {dossier}, die zelf geblokkeerd is — los dat probleem eerst op",
    ),
    Code.MESSAGE_CHECK: Wording(
        "{detail}",
        "Het opgestelde bericht voldoet niet aan het berichtformaat van UWV ({detail}) — neem contact op "
        "met de beheerder van uwvcli",
    ),
    Code.CANCELLED: Wording(
        "no longer due on {day} according to the exports; cancelled, not sent",
        "Volgens de exports op {day} niet meer nodig; vervallen, niet verstuurd",
    ),
    Code.WITHDRAWALS_BRAKED: Wording(
        "{employer}: {count} withdrawals held back: the export looks incomplete or wrong. Check it; "
        "if the withdrawals are right, run again with --allow-withdrawals",
        "{count} intrekkingen tegengehouden: de export lijkt onvolledig of onjuist — controleer hem; "
        "kloppen de intrekkingen, laat de beheerder dan `uwvcli run --allow-withdrawals` draaien",
    ),
    Code.CANNOT_WITHDRAW: Wording(
        "cannot be withdrawn: {reason}",
        "Kan niet worden ingetrokken ({reason}) — trek de melding in bij UWV en neem contact op met de "
        "beheerder van uwvcli",
    ),
    Code.LEGACY: Wording("{text}", "{text}"),
    Code.RISICOCODE_DEFAULT: Wording(
        "risicocode {code} used (UWV's default for sector {sector})",
        "Geen risicopremiegroep ingevuld: {code} gebruikt, de standaardwaarde die UWV voorschrijft voor "
        "sector {sector} (UWV geeft sinds 2020 geen risicopremiegroepen meer uit)",
    ),
    Code.CORRECTED_DATE_FINE: Wording(
        "UWV may fine an incorrect date (€ {fine}), even when corrected",
        "UWV kan een onjuiste datum beboeten (€ {fine}), ook als die is gecorrigeerd",
    ),
    Code.LEAVE_START_ASSUMED: Wording(
        "earliest lawful leave start assumed",
        "er is geen verlofdatum opgegeven; de vroegst toegestane ingangsdatum van het verlof "
        "({leave_start}) is aangevraagd.",
    ),
}

NOTE_CODES = frozenset({Code.RISICOCODE_DEFAULT, Code.LEAVE_START_ASSUMED, Code.CORRECTED_DATE_FINE})


@dataclass(frozen=True, slots=True)
class _Worded:
    """A code and its parameters (names → plain text, no personal data), rendered from `TEXTS`."""

    code: Code
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, code: Code, /, **params: object) -> Self:
        return cls(code, tuple((name, str(value)) for name, value in sorted(params.items())))

    @property
    def english(self) -> str:
        return TEXTS[self.code].english.format_map(dict(self.params))

    @property
    def dutch(self) -> str:
        return self.dutch_with(str)

    def dutch_with(self, show: Callable[[str], str]) -> str:
        """The Dutch text, each parameter shown through `show` (the recap writes dates in Dutch)."""
        return TEXTS[self.code].dutch.format_map({name: show(value) for name, value in self.params})

    def __str__(self) -> str:
        return self.english

    def to_json(self) -> dict[str, object]:
        return {"code": str(self.code), "params": dict(self.params)}


@dataclass(frozen=True, slots=True)
class Problem(_Worded):
    """One reason a notification cannot be sent (RULES §7)."""

    @classmethod
    def from_json(cls, value: object) -> Problem:
        """What `to_json` gave. A plain string (a journal row of an older version) comes back as
        `LEGACY`, its text shown as it is; so does a value this version cannot word (a code of a
        newer version, a parameter missing), as its code."""
        if not isinstance(value, dict):
            return legacy(str(value))
        code, params = value.get("code"), value.get("params")
        try:
            found = cls.of(
                _RENAMED.get(str(code)) or Code(str(code)), **(params if isinstance(params, dict) else {})
            )
            found.english  # noqa: B018 - every parameter the texts need is there
            found.dutch  # noqa: B018
        except (ValueError, KeyError, IndexError):
            return legacy(f"problem {code} (recorded by another version of uwvcli)")
        return found


@dataclass(frozen=True, slots=True)
class Note(_Worded):
    """Information for the recap about a notification that goes out (e.g. a default used)."""


def legacy(text: str) -> Problem:
    return Problem.of(Code.LEGACY, text=text)


def waits_for(key: object, label: str, dossier_id: str) -> Problem:
    """The notification waits for a blocked predecessor (RULES §6): `key` as the terminal shows
    it, `label` the predecessor's Dutch name (`labels.kind_label`), of the same dossier."""
    return Problem.of(Code.WAITS_FOR, key=key, label=label, dossier=dossier_id)


def message_check(detail: str) -> Problem:
    """The built message failed uwvcli's own check (`messages.build.check_message`)."""
    return Problem.of(Code.MESSAGE_CHECK, detail=detail)


def withdrawals_braked(employer_id: str, count: int) -> Problem:
    """RULES 4.6, the safety brake: a run would withdraw `count` of this employer's submitted
    notifications by itself, more than the brake allows; `run --allow-withdrawals` confirms them.
    The run says it once per employer, `due` with each withdrawal it holds."""
    return Problem.of(Code.WITHDRAWALS_BRAKED, employer=employer_id, count=count)


def cannot_withdraw(reason: str) -> Problem:
    """The withdrawal cannot be built: the file that was sent is not known, gone or altered
    (`reason` names the file, never its content)."""
    return Problem.of(Code.CANNOT_WITHDRAW, reason=reason)


def corrected_date_fine(fine: int) -> Note:
    """RULES 4.6: a corrected first sick day, recovery date or end of employment may be fined
    all the same: `fine` euro, the fine of a report that was never made (the recap's bands)."""
    return Note.of(Code.CORRECTED_DATE_FINE, fine=fine)
