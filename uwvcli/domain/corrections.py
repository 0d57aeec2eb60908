"""Corrections and withdrawals (RULES 4.6): what counts as a change of a submitted notification.

A notification's *facts* are what its message says about the case: the employee's BSN and birth
date, the loonheffingennummer, `direct_payment`, the kind, and the kind's dates, reason codes and
amounts. Names, IBANs, contact data, the software version and the moment of building are not:
a change there is never a correction. The personal facts (BSN, birth date) are kept only as a
keyed digest, so that the journal holds no personal data; the others are kept as they are, so
that a change can be named (which date moved) without the message at hand.

Pure: no I/O, no clock; the digest's key is the caller's (the journal's own, see docs/state.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Container, Iterable, Mapping
from enum import StrEnum
from typing import NamedTuple

from uwvcli.domain import ordering
from uwvcli.domain.keys import AnyKey, NotificationKey


class Facts(NamedTuple):
    """The facts of one message: `case` (element path -> text, no personal data) and `person`
    (the personal facts, path -> text), which only `digest_person` ever reads."""

    case: Mapping[str, str]
    person: Mapping[str, str]


class StoredFacts(NamedTuple):
    """The facts as the journal keeps them: the case facts in the clear (canonical JSON) and a
    keyed digest of the personal facts."""

    case: str
    person_digest: str

    def differs_from(self, other: StoredFacts) -> tuple[str, ...]:
        """The case fact paths that differ (plus `person` when the personal digest does): empty
        when the two say the same about the case."""
        mine, theirs = json.loads(self.case), json.loads(other.case)
        changed = sorted(path for path in {*mine, *theirs} if mine.get(path) != theirs.get(path))
        if self.person_digest != other.person_digest:
            changed.append("person")
        return tuple(changed)


def canonical(pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """One text per set of facts, whatever the order they were found in."""
    return json.dumps(dict(sorted(dict(pairs).items())), ensure_ascii=False, separators=(",", ":"))


def digest_person(person: Mapping[str, str], key: bytes) -> str:
    """HMAC-SHA256 of the personal facts under `key`: equal facts give equal digests within one
    journal; the digest alone does not give the BSN back (see docs/state.md for what it protects)."""
    return hmac.new(key, canonical(person).encode(), hashlib.sha256).hexdigest()


def stored(facts: Facts, key: bytes) -> StoredFacts:
    return StoredFacts(canonical(facts.case), digest_person(facts.person, key))


# ---------------------------------------------------------------- the decision (RULES 4.6)


class Cause(StrEnum):
    """Why a withdrawal exists (stored in the journal: never change a value)."""

    CORRECTED = "corrected"  # the rules still produce it, with other facts: a replacement follows
    WITHDRAWN = "withdrawn"  # the rules no longer produce it while its dossier is there
    DEPENDANT = "dependant"  # its predecessor is withdrawn: re-sent after it when it still exists
    REQUESTED = "requested"  # a person's decision (`uwvcli withdraw`)


#: A run withdraws by itself at most this many of one employer's submitted notifications, or
#: this share of them, whichever is more (RULES 4.6, the safety brake).
BRAKE_COUNT = 5
BRAKE_SHARE = 0.10
#: A submitted notification whose dossier is gone is reported when it was submitted this recently.
GONE_REPORT_DAYS = 28


class Submitted(NamedTuple):
    """A notification UWV has (submitted, delivered or accepted) and no withdrawal is under way for."""

    key: NotificationKey
    facts: StoredFacts | None  # None: not known (then it is never called corrected)


class Decision(NamedTuple):
    withdraw: dict[NotificationKey, Cause]  # in no particular order (`ordering.sending_order`)
    gone: list[NotificationKey]  # dossier no longer in any export: reported, never withdrawn


def decide(
    submitted: Iterable[Submitted],
    produced: Mapping[AnyKey, StoredFacts | None],
    present: Container[tuple[str, str]],
    by_configuration: Container[AnyKey],
) -> Decision:
    """What RULES 4.6 makes of the submitted notifications.

    `produced`: what the rules produce now for keys UWV has, with the facts a message built now
    would carry (None: it cannot be built now, e.g. blocked — then nothing is decided for it);
    `present`: the (employer_id, dossier_id) pairs the exports hold; `by_configuration`: keys the
    rules no longer produce because of the configuration (an employer set inactive, a kind
    disabled, a start_date moved), which are never withdrawn. A withdrawn predecessor takes its
    submitted dependants with it (`DEPENDANT`)."""
    withdraw: dict[NotificationKey, Cause] = {}
    gone: list[NotificationKey] = []
    sent = {s.key: s for s in submitted}
    for key, s in sent.items():
        if (key.employer_id, key.dossier_id) not in present:
            gone.append(key)
        elif key in produced:
            now = produced[key]
            if now is not None and s.facts is not None and now.differs_from(s.facts):
                withdraw[key] = Cause.CORRECTED
        elif key not in by_configuration:
            withdraw[key] = Cause.WITHDRAWN
    for key in list(withdraw):
        for dependant in dependants(key):
            if dependant in sent and dependant not in withdraw:
                withdraw[dependant] = Cause.DEPENDANT
    return Decision(withdraw, sorted(gone, key=str))


def dependants(key: NotificationKey) -> list[NotificationKey]:
    """The keys that wait for `key` (RULES §6), nearest first: its own dossier's later steps."""
    return ordering.successors(key)


def braked(automatic: Mapping[str, int], submitted: Mapping[str, int]) -> set[str]:
    """The employers for which a run would withdraw by itself more of their submitted
    notifications than BRAKE_COUNT or BRAKE_SHARE of them, whichever is more (RULES 4.6)."""
    return {
        employer
        for employer, count in automatic.items()
        if count > max(BRAKE_COUNT, BRAKE_SHARE * submitted.get(employer, 0))
    }


def first_ao_day(facts: StoredFacts) -> str | None:
    """The DatEersteAoDag (`JJJJMMDD`) the facts carry, if any."""
    for path, value in json.loads(facts.case).items():
        if path.endswith("/DatEersteAoDag") and not path.startswith("AoPeriode"):
            return value
    return None


#: The facts whose correction UWV may still fine (Boetebesluit 2b/2c; RULES 4.6): the first sick
#: day, the recovery date and the end of employment, by the element that carries them.
FINED_WHEN_CORRECTED = ("DatEersteAoDag", "DatHersteld", "IndEDnstvrbndCtrTijdensZiekte")


def fined_when_corrected(changed: Iterable[str]) -> bool:
    """Whether a correction of these fact paths gets the recap's fine note."""
    return any(path.rsplit("/", 1)[-1] in FINED_WHEN_CORRECTED for path in changed)
