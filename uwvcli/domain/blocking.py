"""RULES §7: what blocks a notification — the employee's data and the legal entity's configured
UWV data — once, for the rules (`rules.evaluate`) and for `uwvcli check`, which warns about a
configured value that will block before any notification is due. Pure: values in, `Problem`
values out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from uwvcli.domain.identifiers import (
    default_risicocode,
    is_valid_aansluitnummer,
    is_valid_bsn,
    is_valid_iban,
    is_valid_loonheffingennummer,
    is_valid_risicocode,
    is_valid_sector,
)
from uwvcli.domain.models import Dossier, Employer, Kind, OrgUnit
from uwvcli.domain.problems import Code, Note, Problem

# The notifications whose message carries an IBAN (MESSAGES.md): only these are blocked by one.
CARRIES_IBAN = frozenset({Kind.ZW_ZIEKMELDING, Kind.WERKHERVATTING, Kind.WAZO})


def no_legal_entity(employer: Employer, org_unit_id: str) -> Problem:
    return Problem.of(Code.NO_LEGAL_ENTITY, unit=org_unit_id, employer=employer.id)


def legal_entity_problems(employer: Employer, entity: OrgUnit) -> list[tuple[str, Problem]]:
    """(configuration key, problem) for every configured value of a legal entity that blocks
    the notifications of the employees under it. A key names the value, the problem never
    repeats it (an IBAN may be a person's)."""
    where = {"unit": entity.id, "employer": employer.id}
    found: list[tuple[str, Problem]] = []

    def check(
        key: str, value: str | None, is_valid: Callable[[str], bool], missing: Code | None, invalid: Code
    ) -> None:
        if not value:
            if missing is not None:
                found.append((key, Problem.of(missing, **where)))
        elif not is_valid(value):
            found.append((key, Problem.of(invalid, **where)))

    check(
        "uwv_aansluitnummer",
        entity.uwv_aansluitnummer,
        is_valid_aansluitnummer,
        Code.AANSLUITNUMMER_MISSING,
        Code.AANSLUITNUMMER_INVALID,
    )
    check("uwv_sector", entity.uwv_sector, is_valid_sector, Code.SECTOR_MISSING, Code.SECTOR_INVALID)
    if entity.uwv_risicocode is not None and not is_valid_risicocode(entity.uwv_risicocode):
        found.append(("uwv_risicocode", Problem.of(Code.RISICOCODE_INVALID, **where)))  # absent: a default
    check(
        "loonheffingennummer",
        entity.loonheffingennummer,
        is_valid_loonheffingennummer,
        Code.LOONHEFFINGENNUMMER_MISSING,
        Code.ENTITY_LOONHEFFINGENNUMMER_INVALID,
    )
    check("iban", entity.iban, is_valid_iban, None, Code.ENTITY_IBAN_INVALID)  # optional
    return found


@dataclass(frozen=True, slots=True)
class EntityCheck:
    """What the legal entity above one org unit contributes to every notification: computed
    once per org unit, not once per notification."""

    problems: tuple[Problem, ...]
    loonheffingennummer_problem: Problem | None  # used only when the employment has none of its own
    iban_problem: Problem | None  # the entity's IBAN is set but invalid
    notes: tuple[Note, ...]


def check_entity(employer: Employer, org_unit_id: str) -> EntityCheck:
    entity = employer.legal_entity_for(org_unit_id)
    if entity is None:
        # The loonheffingennummer and IBAN have the same cause: one problem is enough.
        return EntityCheck((no_legal_entity(employer, org_unit_id),), None, None, ())
    by_key = legal_entity_problems(employer, entity)
    notes: tuple[Note, ...] = ()
    if entity.uwv_risicocode is None and is_valid_sector(entity.uwv_sector):
        code = default_risicocode(entity.uwv_sector)
        notes = (Note.of(Code.RISICOCODE_DEFAULT, code=code, sector=entity.uwv_sector),)
    return EntityCheck(
        problems=tuple(p for key, p in by_key if key not in ("loonheffingennummer", "iban")),
        loonheffingennummer_problem=next((p for key, p in by_key if key == "loonheffingennummer"), None),
        iban_problem=next((p for key, p in by_key if key == "iban"), None),
        notes=notes,
    )


def dossier_problems(dossier: Dossier, carries_iban: bool, entity: EntityCheck) -> tuple[Problem, ...]:
    """The problems of §7 that come from the employee's own data and the legal entity, in the
    order a clerk fixes them; each says which export field or configured value to correct."""
    found: list[Problem] = []
    if not dossier.bsn:
        found.append(Problem.of(Code.BSN_MISSING))
    elif not is_valid_bsn(dossier.bsn):
        found.append(Problem.of(Code.BSN_INVALID))
    if dossier.birth_date is None:
        found.append(Problem.of(Code.BIRTH_DATE_MISSING))
    found.extend(entity.problems)
    if dossier.loonheffingennummer:
        if not is_valid_loonheffingennummer(dossier.loonheffingennummer):
            found.append(Problem.of(Code.EMPLOYMENT_LOONHEFFINGENNUMMER_INVALID))
    elif entity.loonheffingennummer_problem:
        found.append(entity.loonheffingennummer_problem)
    if carries_iban:
        found.extend(_iban_problems(dossier, entity))
    return tuple(found)


def _iban_problems(dossier: Dossier, entity: EntityCheck) -> list[Problem]:
    """The IBANs the message would carry (MESSAGES.md): with direct payment the employee's and
    the entity's; otherwise the employment's, else the entity's."""
    invalid_own = Problem.of(Code.EMPLOYMENT_IBAN_INVALID)
    if dossier.direct_payment:
        found = []
        if not dossier.iban:
            found.append(Problem.of(Code.DIRECT_PAYMENT_WITHOUT_IBAN))
        elif not is_valid_iban(dossier.iban):
            found.append(invalid_own)
        if entity.iban_problem:
            found.append(entity.iban_problem)
        return found
    if dossier.iban:
        return [] if is_valid_iban(dossier.iban) else [invalid_own]
    return [entity.iban_problem] if entity.iban_problem else []
