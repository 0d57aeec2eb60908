"""The notification key as a value: its text (CONTRACT §4) read back in one place, and the
aanleverkenmerk derived from it, distinct for distinct keys, within Digipoort's limits."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from uwvcli.domain.keys import (
    AANLEVERKENMERK_LIMIT,
    InvalidKey,
    Kind,
    NotificationKey,
    Variant,
    WithdrawalKey,
    aanleverkenmerk,
    employer_id_problem,
    parse_key,
    withdrawal_of,
)

#: Employer ids as a valid configuration may have them: none holds a `/`, none starts with
#: another one and a `-`.
EMPLOYERS = ["WG001", "WG-2", "A B", "Wé", "x.y_z"]
STEPS = [(kind, None) for kind in Kind if kind is not Kind.WERKHERVATTING] + [
    (Kind.WERKHERVATTING, variant) for variant in Variant
]

dossier_ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=120
) | st.sampled_from(["Z/901", "Z 900", "Z_900", "Zé-Ø1", "a/wazo", "b/full", "c/werkhervatting", "/", "//"])
keys = st.builds(
    lambda employer, dossier, step: NotificationKey(employer, dossier, *step),
    st.sampled_from(EMPLOYERS),
    dossier_ids,
    st.sampled_from(STEPS),
)


@given(keys)
def test_the_text_of_every_key_reads_back_as_that_key(key: NotificationKey) -> None:
    assert parse_key(str(key)) == key


def test_the_text_is_the_contracts() -> None:
    assert str(NotificationKey("WG001", "Z-17", Kind.WAZO)) == "WG001/Z-17/wazo"
    full = NotificationKey("WG001", "Z/901", Kind.WERKHERVATTING, Variant.FULL)
    assert str(full) == "WG001/Z/901/werkhervatting/full"
    assert parse_key("WG001/Z/901/werkhervatting/full") == full
    assert parse_key("WG001/Z/full/wazo").dossier_id == "Z/full"


@pytest.mark.parametrize(
    "text",
    ["", "WG001", "WG001/wazo", "/Z-1/wazo", "WG001/Z-1/ziekmelding", "WG001/Z-1/werkhervatting",
     "WG001/Z-1/wazo/full", "WG001/Z-1/partial", "WG001//wazo"],
)  # fmt: skip
def test_text_that_is_no_key_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(InvalidKey):
        parse_key(text)


@given(st.lists(keys, min_size=2, max_size=30, unique=True), st.integers(1, 12))
def test_distinct_keys_get_distinct_aanleverkenmerken_of_safe_characters(
    found: list[NotificationKey], revision: int
) -> None:
    references = [aanleverkenmerk(key, revision) for key in found]
    assert len(set(references)) == len(found)
    for reference in references:
        assert len(reference) <= AANLEVERKENMERK_LIMIT
        assert re.fullmatch(r"[A-Za-z0-9._-]+", reference)


def test_ids_that_sanitise_alike_or_are_long_get_a_hash_and_the_plain_ones_do_not() -> None:
    spaced, underscored = (
        aanleverkenmerk(NotificationKey("WG001", d, Kind.WAZO)) for d in ("Z 900", "Z_900")
    )
    assert underscored == "WG001-Z_900-WAZO"
    assert spaced.startswith("WG001-Z_900-WAZO-") and spaced != underscored
    assert aanleverkenmerk(NotificationKey("WG001", "Z/901", Kind.ZW_ZIEKMELDING), 2).endswith("-r2")
    long = aanleverkenmerk(NotificationKey("WG001", "D" * 90, Kind.MLA))
    assert len(long) == AANLEVERKENMERK_LIMIT
    assert aanleverkenmerk(NotificationKey("WG001", "Z-17", Kind.WERKHERVATTING, Variant.PARTIAL)) == (
        "WG001-Z-17-WH-P"
    )


def _released(key: str, revision: int = 1) -> str:
    """The aanleverkenmerk as uwvcli 1.x built it, the oracle for journals written by it."""
    codes = {"zw-ziekmelding": "ZM", "werkhervatting": "WH", "42e-weeksmelding": "MLA",
             "herstel-42e-weeksmelding": "HMLA", "wazo": "WAZO"}  # fmt: skip
    employer_id, dossier_id, kind, *variant = key.split("/")
    parts = [employer_id, dossier_id, codes[kind]]
    if variant:
        parts[-1] += "-P" if variant[0] == "partial" else "-V"
    text = re.sub(r"[^A-Za-z0-9._-]", "_", "-".join(parts))
    suffix = f"-r{revision}" if revision > 1 else ""
    if len(text) + len(suffix) > 40:
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        text = f"{text[: 40 - len(suffix) - 9]}-{digest}"
    return text + suffix


@given(
    st.sampled_from(["WG001", "WG-2", "x.y_z"]),
    st.text(st.sampled_from("AZaz09._-"), min_size=1, max_size=80),
    st.sampled_from(STEPS),
    st.integers(1, 5),
)
def test_ids_that_need_no_replacement_keep_the_aanleverkenmerk_journals_already_hold(
    employer: str, dossier: str, step: tuple[Kind, Variant | None], revision: int
) -> None:
    key = NotificationKey(employer, dossier, *step)
    assert aanleverkenmerk(key, revision) == _released(str(key), revision)


def test_an_employer_id_must_not_make_keys_or_references_ambiguous() -> None:
    assert employer_id_problem("WG/1", ["WG/1"]) is not None
    assert employer_id_problem("WG-2", ["WG", "WG-2"]) is not None
    assert employer_id_problem("WG", ["WG", "WG-2"]) is None
    assert employer_id_problem("WG-2", ["WG-2", "WG2"]) is None


# ---------------------------------------------------------------- withdrawals (RULES 4.6)

withdrawal_keys = st.builds(withdrawal_of, keys, st.integers(1, 99))
any_keys = keys | withdrawal_keys


@given(any_keys)
def test_the_text_of_every_withdrawal_key_reads_back_as_that_key(
    key: NotificationKey | WithdrawalKey,
) -> None:
    assert parse_key(str(key)) == key


def test_a_withdrawal_key_is_the_contracts_and_never_a_notification_key() -> None:
    key = NotificationKey("WG001", "Z/17", Kind.WERKHERVATTING, Variant.FULL)
    withdrawal = withdrawal_of(key, 2)
    assert str(withdrawal) == "WG001/Z/17/werkhervatting/full/intrekking/2"
    assert parse_key(str(withdrawal)) == withdrawal and withdrawal.withdraws == key
    assert withdrawal != key and withdrawal.kind is Kind.WERKHERVATTING
    assert parse_key("WG001/x/intrekking/1/wazo") == NotificationKey("WG001", "x/intrekking/1", Kind.WAZO)
    assert aanleverkenmerk(withdrawal_of(NotificationKey("WG001", "Z-17", Kind.ZW_ZIEKMELDING), 1)) == (
        "WG001-Z-17-ZM-I1"
    )


@pytest.mark.parametrize(
    "text", ["WG001/Z-1/wazo/intrekking/0", "WG001/Z-1/wazo/intrekking/01", "WG001/Z-1/intrekking/1"]
)
def test_text_that_is_no_withdrawal_key_is_refused(text: str) -> None:
    with pytest.raises(InvalidKey):
        parse_key(text)


@given(st.lists(any_keys, min_size=2, max_size=30, unique=True), st.integers(1, 12))
def test_withdrawals_and_notifications_never_share_an_aanleverkenmerk(
    found: list[NotificationKey | WithdrawalKey], revision: int
) -> None:
    references = [aanleverkenmerk(key, r) for key in found for r in (1, revision)]
    assert len(set(references)) == len({(key, r) for key in found for r in (1, revision)})
    for reference in references:
        assert len(reference) <= AANLEVERKENMERK_LIMIT
