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
from collections.abc import Iterable, Mapping
from typing import NamedTuple


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
