"""What names a notification: its kind, its key and the aanleverkenmerk derived from the key.

A key is built once, by the rules, from its parts, and travels as a value: nobody splits its
text again. Its text (CONTRACT §4: `<employer_id>/<dossier_id>/<kind>[/partial|/full]`) is what
users, the JSON outputs and the journal see. Text comes back as a key in one place only,
`parse_key` (the journal's key column, a key a person typed): a dossier id is free text and may
hold `/` itself, but the text is still unambiguous read from both ends, because employer ids hold
no `/` (the configuration refuses them) and the last segment is always a kind or a variant, two
sets of words that do not overlap.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Container, Sequence
from enum import StrEnum
from typing import NamedTuple


class Kind(StrEnum):
    """The five notifications uwvcli sends; the value is the public name (CONTRACT §4)."""

    ZW_ZIEKMELDING = "zw-ziekmelding"
    WERKHERVATTING = "werkhervatting"
    MLA = "42e-weeksmelding"
    HERSTEL_MLA = "herstel-42e-weeksmelding"
    WAZO = "wazo"


class Variant(StrEnum):
    """Which return to work a werkhervatting reports (RULES §4.2); no other kind has one."""

    PARTIAL = "partial"
    FULL = "full"


#: A dossier id longer than this cannot be used (CONTRACT §3 sets no limit; HR systems use a few
#: dozen characters): the row is an input error, so no unbounded text reaches files or messages.
DOSSIER_ID_LIMIT = 200
#: Digipoort's limit on the aanleverkenmerk (DIGIPOORT.md).
AANLEVERKENMERK_LIMIT = 40

_SEPARATOR = "/"
_VARIANT_KIND = Kind.WERKHERVATTING  # the one kind that has a variant, and always one


class InvalidKey(ValueError):
    """Text that is not a notification key; the message says why (it may show the text: a key
    holds ids, no personal data)."""


class NotificationKey(NamedTuple):
    """The identity of one notification. A named tuple rather than a dataclass: the rules make
    one per notification (700,000 for a million dossiers), and a tuple is built, hashed and
    compared in C. The rules build it from checked parts; text becomes a key in `parse_key`."""

    employer_id: str
    dossier_id: str
    kind: Kind
    variant: Variant | None = None

    def __str__(self) -> str:
        text = f"{self.employer_id}/{self.dossier_id}/{self.kind}"
        return f"{text}/{self.variant}" if self.variant is not None else text


#: What marks the key of a withdrawal: `<key>/intrekking/<revision withdrawn>` (RULES 4.6).
WITHDRAWAL_MARK = "intrekking"


class WithdrawalKey(NamedTuple):
    """The identity of a withdrawal (intrekking) of one submitted revision of a notification
    (RULES 4.6). It has the fields of the notification's key, so whatever asks a key for its
    employer, dossier or kind gets those of the withdrawn notification, plus the revision; it
    never equals a `NotificationKey` (tuples of other lengths)."""

    employer_id: str
    dossier_id: str
    kind: Kind
    variant: Variant | None
    revision: int  # the revision withdrawn

    @property
    def withdraws(self) -> NotificationKey:
        return NotificationKey(self.employer_id, self.dossier_id, self.kind, self.variant)

    def __str__(self) -> str:
        return f"{self.withdraws}/{WITHDRAWAL_MARK}/{self.revision}"


#: Any key the journal holds.
AnyKey = NotificationKey | WithdrawalKey


def withdrawal_of(key: NotificationKey, revision: int) -> WithdrawalKey:
    return WithdrawalKey(key.employer_id, key.dossier_id, key.kind, key.variant, revision)


_KINDS = {str(kind): kind for kind in Kind}
_VARIANTS = {str(variant): variant for variant in Variant}


def parse_key(text: str) -> NotificationKey | WithdrawalKey:
    """The key whose text (`str(key)`) this is; `InvalidKey` (a ValueError) otherwise.

    Read from both ends: the employer id up to the first `/`, the kind (and variant) from the end,
    the dossier id — which may contain `/` — in between. A text ending in `/intrekking/<n>` is a
    withdrawal's key (a notification key always ends in a kind or variant, so the two never
    meet). `parse_key(str(k)) == k` for every key."""
    rest, _, revision = text.rpartition(_SEPARATOR)
    withdrawn, _, mark = rest.rpartition(_SEPARATOR)
    if mark == WITHDRAWAL_MARK and revision.isdigit() and revision.isascii():
        if int(revision) < 1 or revision != str(int(revision)):
            raise InvalidKey(f"{text!r}: a withdrawal's revision is a number from 1, without leading zeros")
        return withdrawal_of(parse_notification_key(withdrawn), int(revision))
    return parse_notification_key(text)


def parse_notification_key(text: str) -> NotificationKey:
    """Like `parse_key`, for the key of a notification only (not a withdrawal)."""
    employer_id, separator, rest = text.partition(_SEPARATOR)
    rest, _, last = rest.rpartition(_SEPARATOR)
    if not separator or not rest:
        raise InvalidKey(f"{text!r} is not a notification key: expected <employer_id>/<dossier_id>/<kind>")
    variant = _VARIANTS.get(last)
    if variant is not None:
        rest, _, last = rest.rpartition(_SEPARATOR)
    kind = _KINDS.get(last)
    if kind is None:
        raise InvalidKey(f"{text!r} does not end in a notification kind ({', '.join(Kind)}) or a variant")
    if not employer_id or not rest:
        raise InvalidKey(f"{text!r} lacks its employer id or its dossier id")
    if (kind is _VARIANT_KIND) != (variant is not None):
        raise InvalidKey(f"{text!r}: a {_VARIANT_KIND} key ends in {' or '.join(Variant)}, no other key does")
    return NotificationKey(employer_id, rest, kind, variant)


def dossier_id_problem(dossier_id: str) -> str | None:
    """Why a (trimmed, non-empty) dossier id cannot be used, or None. The message never repeats
    the id: an id with control characters or of absurd length is no text to print."""
    if len(dossier_id) > DOSSIER_ID_LIMIT:
        return (
            f"dossier_id is longer than {DOSSIER_ID_LIMIT} characters: use the HR system's dossier "
            "number. This row was skipped."
        )
    if not dossier_id.isprintable():
        return (
            "dossier_id contains control characters (a tab, a line break or an invisible character): "
            "correct it in the HR system. This row was skipped."
        )
    return None


def usable_dossier_ids(dossier_ids: Sequence[str | None]) -> bool:
    """Whether every id of a column passes `dossier_id_problem` (None = missing, reported
    elsewhere), in two C-level passes: the loader asks this of every chunk of rows."""
    present = list(filter(None, dossier_ids))
    return max(map(len, present), default=0) <= DOSSIER_ID_LIMIT and "".join(present).isprintable()


# ---------------------------------------------------------------- aanleverkenmerk (DIGIPOORT.md)

_KIND_CODES = {
    Kind.ZW_ZIEKMELDING: "ZM",
    Kind.WERKHERVATTING: "WH",
    Kind.MLA: "MLA",
    Kind.HERSTEL_MLA: "HMLA",
    Kind.WAZO: "WAZO",
}
_VARIANT_CODES = {Variant.PARTIAL: "-P", Variant.FULL: "-V"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DIGEST_LENGTH = 8


def aanleverkenmerk(key: NotificationKey | WithdrawalKey, revision: int = 1) -> str:
    """uwvcli's own stable reference of one message: at most 40 safe characters, only the
    employer id, dossier id and kind (no personal data). `revision` > 1 marks a corrected
    resubmission (`-r2`).

    `WG001/Z-17/werkhervatting/partial` → `WG001-Z-17-WH-P`. Distinct keys give distinct
    references: when the ids need a character replaced (`Z 900` and `Z_900` would both read
    `Z_900`) or are too long to fit, the text is cut and a short hash of the exact key added.
    Such a reference ends in lowercase hex, a plain one in a kind code, so the two never meet;
    the plain ones differ because employer ids do not start with another's id and a `-` (the
    configuration refuses that). Ids that fit unchanged keep the references earlier versions
    gave them, so journals and outboxes stay valid. A withdrawal's reference is its notification's
    with `-I<revision withdrawn>` after the kind code (`WG001-Z-17-ZM-I1`)."""
    code = _KIND_CODES[key.kind] + (_VARIANT_CODES[key.variant] if key.variant is not None else "")
    if isinstance(key, WithdrawalKey):  # `-I<n>`: never a kind code, so never a notification's
        code += f"-I{key.revision}"
    plain = f"{key.employer_id}-{key.dossier_id}-{code}"
    text = _UNSAFE.sub("_", plain)
    suffix = f"-r{revision}" if revision > 1 else ""
    if text == plain and len(text) + len(suffix) <= AANLEVERKENMERK_LIMIT:
        return text + suffix
    digest = hashlib.sha256(str(key).encode()).hexdigest()[:_DIGEST_LENGTH]
    return f"{text[: AANLEVERKENMERK_LIMIT - len(suffix) - _DIGEST_LENGTH - 1]}-{digest}{suffix}"


def employer_id_problem(employer_id: str, others: Container[str]) -> str | None:
    """Why an employer id cannot name notifications next to the `others`, or None: a `/` would
    make its keys ambiguous, and an id that starts with another one and a `-` (`WG` and `WG-2`)
    could give two notifications one aanleverkenmerk (`WG` + `2-Z1`, `WG-2` + `Z1`)."""
    if _SEPARATOR in employer_id:
        return "must not contain '/': it is part of every notification key (CONTRACT §4)"
    starts = (employer_id[:at] for at, c in enumerate(employer_id) if c == "-")
    clash = next((start for start in starts if start in others), None)
    if clash is not None:
        return (
            f"must not start with the id of employer {clash!r} followed by '-': their aanleverkenmerken "
            "could coincide; choose another id"
        )
    return None
