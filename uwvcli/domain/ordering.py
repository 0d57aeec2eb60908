"""The order of RULES §6, defined once: within a dossier the zw-ziekmelding goes before its
werkhervattingen (partial before full), the 42e-weeksmelding before its herstel. Predecessor and
successor may go in the same run, but never the successor first, and a successor waits while a
predecessor is held back (blocked, rejected, not yet sent).

Withdrawals (RULES 4.6) go the other way: before any notification of their dossier, dependants
first (a werkhervatting's withdrawal, full before partial, before the ziekmelding's), and a
withdrawal waits while the withdrawal of a dependant of the same revision is held back.

The rules (`waits_for` of a notification), the preparation of the outbox, the journal's sending
order and the delivery loop all ask this module; none of them knows the order itself.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from datetime import date
from typing import Protocol, TypeVar

from uwvcli.domain.keys import Kind, NotificationKey, Variant, WithdrawalKey

Step = tuple[Kind, Variant | None]

#: RULES §6: each chain in the order its notifications must go; a step waits for those before it.
CHAINS: tuple[tuple[Step, ...], ...] = (
    (
        (Kind.ZW_ZIEKMELDING, None),
        (Kind.WERKHERVATTING, Variant.PARTIAL),
        (Kind.WERKHERVATTING, Variant.FULL),
    ),
    ((Kind.MLA, None), (Kind.HERSTEL_MLA, None)),
)

#: What each step waits for, nearest first (a full werkhervatting: the partial, then the ziekmelding).
_BEFORE: dict[Step, tuple[Step, ...]] = {
    step: tuple(reversed(chain[:position])) for chain in CHAINS for position, step in enumerate(chain)
}
#: Every step's place when a dossier's notifications go out together: the chains in turn, then
#: the kinds outside any chain (the wazo).
_RANK: dict[Step, int] = {
    step: rank
    for rank, step in enumerate(
        [
            *(step for chain in CHAINS for step in chain),
            *((kind, None) for kind in Kind if all(kind != k for chain in CHAINS for k, _ in chain)),
        ]
    )
}


#: What each step's withdrawal waits for: the withdrawals of the steps after it, nearest first.
_AFTER: dict[Step, tuple[Step, ...]] = {
    step: chain[position + 1 :] for chain in CHAINS for position, step in enumerate(chain)
}


def predecessors(key: NotificationKey | WithdrawalKey) -> list[NotificationKey | WithdrawalKey]:
    """The keys that must go before `key`, nearest first; they always belong to its dossier. For a
    withdrawal: the withdrawals of its dependants (of the same revision)."""
    if isinstance(key, WithdrawalKey):
        return [
            key._replace(kind=kind, variant=variant)
            for kind, variant in _AFTER.get((key.kind, key.variant), ())
        ]
    return [
        key._replace(kind=kind, variant=variant) for kind, variant in _BEFORE.get((key.kind, key.variant), ())
    ]


def successors(key: NotificationKey) -> list[NotificationKey]:
    """The keys that wait for `key`, nearest first (a ziekmelding: the partial, then the full
    werkhervatting); they always belong to its dossier."""
    return [
        key._replace(kind=kind, variant=variant) for kind, variant in _AFTER.get((key.kind, key.variant), ())
    ]


def waits_for(
    key: NotificationKey | WithdrawalKey, held_back: Container[NotificationKey | WithdrawalKey]
) -> NotificationKey | WithdrawalKey | None:
    """The nearest predecessor of `key` that is held back (and so holds `key` up), or None."""
    return next((p for p in predecessors(key) if p in held_back), None)


class _Orderable(Protocol):
    @property
    def key(self) -> NotificationKey | WithdrawalKey: ...
    @property
    def due_date(self) -> date: ...


T = TypeVar("T", bound=_Orderable)


def sending_order(items: Iterable[T]) -> list[T]:
    """Predecessors first. Predecessor and successor always share the dossier, so a dossier's
    notifications are kept together, the dossier with the earliest due date first, and ordered by
    their step inside (ties: by key text)."""
    groups: dict[tuple[str, str], list[T]] = {}
    for item in items:
        groups.setdefault((item.key.employer_id, item.key.dossier_id), []).append(item)
    ordered = sorted(groups.items(), key=lambda kv: (min(i.due_date for i in kv[1]), kv[0]))
    return [item for _, group in ordered for item in sorted(group, key=_place)]


def _place(item: _Orderable) -> tuple[int, str]:
    rank = _RANK[(item.key.kind, item.key.variant)]
    if isinstance(item.key, WithdrawalKey):  # before every notification, dependants first
        return -1 - rank, str(item.key)
    return rank, str(item.key)
