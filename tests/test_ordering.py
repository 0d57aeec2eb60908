"""RULES §6 in one place: the predecessor relation and the sending order derived from it."""

from __future__ import annotations

import pytest

from uwvcli.domain.keys import parse_key
from uwvcli.domain.ordering import predecessors, waits_for


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        ("WG1/D1/zw-ziekmelding", "WG1/D1/werkhervatting/partial", True),
        ("WG1/D1/werkhervatting/partial", "WG1/D1/werkhervatting/full", True),
        ("WG1/D1/zw-ziekmelding", "WG1/D1/werkhervatting/full", True),
        ("WG1/D2/zw-ziekmelding", "WG1/D1/werkhervatting/full", False),  # another dossier's sickness
        ("WG1/D1/42e-weeksmelding", "WG1/D1/herstel-42e-weeksmelding", True),
        ("WG1/D1/42e-weeksmelding", "WG1/D3/herstel-42e-weeksmelding", False),
        ("WG1/D1/werkhervatting/full", "WG1/D1/werkhervatting/partial", False),
        ("WG1/D1/zw-ziekmelding", "WG1/D1/wazo", False),
        ("WG2/D1/zw-ziekmelding", "WG1/D1/werkhervatting/full", False),
        ("WG1/D1/werkhervatting/full", "WG1/D1/zw-ziekmelding", False),
        ("WG1/a/b/zw-ziekmelding", "WG1/a/b/werkhervatting/partial", True),  # a dossier id with a slash
        ("WG1/a/zw-ziekmelding", "WG1/a/b/werkhervatting/partial", False),
    ],
)
def test_predecessors_follow_the_rules_order(earlier: str, later: str, expected: bool) -> None:
    assert (parse_key(earlier) in predecessors(parse_key(later))) is expected


def test_a_successor_waits_for_its_nearest_held_back_predecessor() -> None:
    zw, partial, full = (
        parse_key(f"WG1/D1/{k}") for k in ("zw-ziekmelding", "werkhervatting/partial", "werkhervatting/full")
    )
    assert waits_for(full, {zw, partial}) == partial
    assert waits_for(full, {zw}) == zw
    assert waits_for(full, set()) is None
    assert waits_for(zw, {partial, full}) is None


def test_withdrawals_go_before_every_notification_of_their_dossier_dependants_first() -> None:
    from datetime import date
    from typing import NamedTuple

    from uwvcli.domain.ordering import sending_order

    class Item(NamedTuple):
        key: object
        due_date: date

    texts = [
        "WG001/Z-1/zw-ziekmelding",
        "WG001/Z-1/werkhervatting/full",
        "WG001/Z-1/zw-ziekmelding/intrekking/1",
        "WG001/Z-1/werkhervatting/partial/intrekking/1",
        "WG001/Z-1/werkhervatting/full/intrekking/1",
    ]
    ordered = sending_order(Item(parse_key(t), date(2026, 12, 1)) for t in texts)
    assert [str(i.key) for i in ordered] == [
        "WG001/Z-1/werkhervatting/full/intrekking/1",
        "WG001/Z-1/werkhervatting/partial/intrekking/1",
        "WG001/Z-1/zw-ziekmelding/intrekking/1",
        "WG001/Z-1/zw-ziekmelding",
        "WG001/Z-1/werkhervatting/full",
    ]
    ziekmelding = parse_key("WG001/Z-1/zw-ziekmelding/intrekking/1")
    full = parse_key("WG001/Z-1/werkhervatting/full/intrekking/1")
    assert waits_for(ziekmelding, {full}) == full
    assert waits_for(full, {ziekmelding}) is None
