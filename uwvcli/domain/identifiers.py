"""The Dutch identifiers UWV checks, in one place so that the rules (which block a notification)
and the message builder (which writes the value) always agree on what is valid (RULES §7,
MESSAGES "Formats"). Pure functions; none of them ever echoes the value it was given.
"""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum.nl import bsn as _bsn

_LOONHEFFINGENNUMMER = re.compile(r"[0-9]{9}L[0-9]{2}")
_AANSLUITNUMMER = re.compile(r"0[0-9]{14}")
_RISICOCODE = re.compile(r"[0-9]{2}")
_EIGHT_DIGITS = re.compile(r"[0-9]{8}")

# CdSectorOsv: the sectors 001–069 of the Wet financiering sociale verzekeringen, except 036 and
# 037 (abolished), plus 998 ("not applicable").
_SECTORS = frozenset({f"{n:03d}" for n in range(1, 70)} - {"036", "037"} | {"998"})

# UWV no longer issues risicopremiegroepen (since 2020) but rejects an empty one; these are the
# values it prescribes instead.
_DEFAULT_RISICOCODES = {"052": "07", "009": "03"}
_DEFAULT_RISICOCODE = "01"


def normalize_bsn(value: str) -> str:
    """The BSN as the message carries it: surrounding blanks removed, and an 8-digit number
    (a spreadsheet that dropped the leading zero) given its zero back."""
    value = value.strip()
    return f"0{value}" if _EIGHT_DIGITS.fullmatch(value) else value


def is_valid_bsn(value: str | None) -> bool:
    """Nine digits (after `normalize_bsn`) that pass the BSN 11-check."""
    if not value:
        return False
    number = value.strip()
    if len(number) == 8:
        number = f"0{number}"
    return len(number) == 9 and number.isascii() and number.isdigit() and _passes_eleven_check(number)


def is_valid_loonheffingennummer(value: str | None) -> bool:
    """`^[0-9]{9}L[0-9]{2}$`, and the 9 digits (the RSIN or BSN of the employer) pass the
    11-check."""
    if value is None or _LOONHEFFINGENNUMMER.fullmatch(value) is None:
        return False
    return _passes_eleven_check(value)


def _passes_eleven_check(digits: str) -> bool:
    """The BSN/RSIN 11-check (python-stdnum's) on the first nine ASCII digits, not all zeros.
    Both callers have checked that they are nine ASCII digits, so python-stdnum's checksum is
    asked directly: its `is_valid` first cleans the text of separators, which here costs more
    than the check itself, for every notification of a big export."""
    number = digits[:9]
    return int(number) > 0 and _bsn.checksum(number) == 0


def normalize_iban(value: str) -> str:
    """The IBAN as the message carries it: no spaces, capitals (`NL91 abna …` → `NL91ABNA…`)."""
    return _iban.compact(value)


def is_valid_iban(value: str | None) -> bool:
    """ISO 13616: the country's length and format, and the mod-97 check. Spaces and lower case,
    as IBANs are often written, are accepted; `normalize_iban` gives the form to send."""
    return value is not None and _iban.is_valid(value)


def is_valid_aansluitnummer(value: str | None) -> bool:
    """UWV aansluitnummer (AansluitingsnrBv): 15 digits starting with 0."""
    return value is not None and _AANSLUITNUMMER.fullmatch(value) is not None


def is_valid_sector(value: str | None) -> bool:
    """Sector code (CdSectorOsv): `001`–`069` except `036` and `037`, or `998`."""
    return value in _SECTORS


def is_valid_risicocode(value: str | None) -> bool:
    """Risicopremiegroep (CdRisicopremiegroep): two digits."""
    return value is not None and _RISICOCODE.fullmatch(value) is not None


def default_risicocode(sector: str | None) -> str:
    """UWV's prescribed risicocode when none is configured: `07` for sector 052, `03` for
    sector 009, `01` otherwise."""
    return _DEFAULT_RISICOCODES.get(sector or "", _DEFAULT_RISICOCODE)


#: The shape of an address uwvcli mails an employee's copy to: one local part, one domain with a
#: dot, no spaces or separators that could add a second recipient.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def is_email_address(value: str | None) -> bool:
    """Whether `value` looks like a single e-mail address (no display name, at most 254 chars)."""
    return value is not None and len(value) <= 254 and _EMAIL.fullmatch(value) is not None
