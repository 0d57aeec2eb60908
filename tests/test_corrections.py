"""Corrections (RULES 4.6): a notification's facts, and what counts as a change of them."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.message_samples import BSN, CASES, CREATED, SENDER, build, dossier, employer, notification
from uwvcli.app.credentials import load_credentials
from uwvcli.domain import ordering
from uwvcli.domain.corrections import (
    BRAKE_COUNT,
    Cause,
    Facts,
    StoredFacts,
    Submitted,
    braked,
    canonical,
    decide,
    digest_person,
    stored,
)
from uwvcli.domain.keys import NotificationKey, Variant
from uwvcli.domain.models import Kind
from uwvcli.messages.build import build_message, message_facts
from uwvcli.messages.signing import sign_document

KEY = b"k" * 32


def facts_of(xml: bytes) -> StoredFacts:
    return stored(message_facts(xml), KEY)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_facts_hold_no_name_iban_or_contact_and_the_person_only_as_a_digest(case: str) -> None:
    n, d = CASES[case]
    found = message_facts(build(n, d))
    text = canonical(found.case)
    for personal in (BSN, d.last_name, d.first_name, d.iban, SENDER.contact_phone):
        assert not personal or personal not in text
    assert "NL" not in text  # no IBAN at all
    assert found.person["Burgerservicenr"] == BSN and found.person["Geboortedat"]
    assert BSN not in stored(found, KEY).person_digest


@pytest.mark.parametrize("case", sorted(CASES))
def test_names_iban_contact_version_and_moment_are_not_facts(case: str) -> None:
    n, d = CASES[case]
    before = facts_of(build(n, d))
    renamed = dataclasses.replace(
        d, last_name="Anders", first_name="Nieuw", initials="A.", iban="NL20INGB0001234567"
    )
    other_sender = dataclasses.replace(SENDER, contact_name="Iemand Anders", contact_phone="0309876543")
    after = build_message(
        n,
        renamed,
        employer(),
        other_sender,
        aanleverkenmerk="WG001-Z-17-ZM-r7",
        created=CREATED + timedelta(days=3),
    )
    assert facts_of(after).differs_from(before) == ()


def test_a_moved_first_sick_day_is_a_change_of_that_date() -> None:
    d = dossier()
    moved = dataclasses.replace(d, first_sick_day=d.first_sick_day - timedelta(days=1))
    before = facts_of(build(notification(Kind.ZW_ZIEKMELDING, d), d))
    after = facts_of(build(notification(Kind.ZW_ZIEKMELDING, moved), moved))
    assert after.differs_from(before) == ("MeldingZiekte/DatEersteAoDag",)


def test_another_bsn_or_birth_date_is_a_change_of_the_person() -> None:
    d = dossier()
    before = facts_of(build(notification(Kind.ZW_ZIEKMELDING, d), d))
    for changed in (
        dataclasses.replace(d, bsn="123456782"),
        dataclasses.replace(d, birth_date=date(1990, 2, 4)),
    ):
        after = facts_of(build(notification(Kind.ZW_ZIEKMELDING, changed), changed))
        assert after.differs_from(before) == ("person",)


def test_the_facts_of_a_signed_outbox_file_are_those_of_the_message(tmp_path) -> None:
    credentials = load_credentials(SENDER, environment="simulator", state_dir=tmp_path)
    n, d = CASES[sorted(CASES)[0]]
    xml = build(n, d)
    assert message_facts(sign_document(xml, credentials)) == message_facts(xml)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["A/B", "A/C", "AoPeriode[1]/D", "Loonheffingennr"]), st.text(max_size=5)
    ),
    st.dictionaries(st.sampled_from(["Burgerservicenr", "Geboortedat"]), st.text(max_size=9)),
    st.randoms(),
)
def test_facts_compare_by_value_never_by_order(case: dict, person: dict, rng) -> None:
    items = list(case.items())
    rng.shuffle(items)
    a, b = stored(Facts(case, person), KEY), stored(Facts(dict(items), dict(reversed(person.items()))), KEY)
    assert a == b and a.differs_from(b) == ()
    assert digest_person(person, KEY) != digest_person(
        person, b"x" * 32
    )  # keyed: another journal, other digests


# ---------------------------------------------------------------- the decision (RULES 4.6)

STEPS = [
    (Kind.ZW_ZIEKMELDING, None),
    (Kind.WERKHERVATTING, Variant.PARTIAL),
    (Kind.WERKHERVATTING, Variant.FULL),
    (Kind.MLA, None),
    (Kind.HERSTEL_MLA, None),
    (Kind.WAZO, None),
]
A, B = StoredFacts('{"x":"1"}', "p"), StoredFacts('{"x":"2"}', "p")
keys = st.builds(
    lambda dossier, step: NotificationKey("WG001", dossier, *step),
    st.sampled_from(["D1", "D2", "D3"]),
    st.sampled_from(STEPS),
)


@st.composite
def situations(draw):  # type: ignore[no-untyped-def]
    sent = draw(st.sets(keys, max_size=12))
    facts = {key: draw(st.sampled_from([A, B, None])) for key in sent}
    produced = {key: draw(st.sampled_from([A, B, None])) for key in sent if draw(st.booleans())}
    present = {("WG001", d) for d in draw(st.sets(st.sampled_from(["D1", "D2", "D3"])))}
    configured = {key for key in sent if draw(st.booleans()) and key not in produced}
    return [Submitted(k, facts[k]) for k in sent], produced, present, configured


@settings(max_examples=300, deadline=None)
@given(situations())
def test_the_decision_follows_rules_4_6(situation) -> None:  # type: ignore[no-untyped-def]
    submitted, produced, present, configured = situation
    decision = decide(submitted, produced, present, configured)
    facts = {s.key: s.facts for s in submitted}
    for s in submitted:
        here = (s.key.employer_id, s.key.dossier_id) in present
        cause = decision.withdraw.get(s.key)
        assert (s.key in decision.gone) == (not here)
        if not here:
            assert cause is None  # gone: reported, never withdrawn by itself
        elif cause is Cause.CORRECTED:
            assert (
                produced[s.key] is not None and produced[s.key] != facts[s.key] and facts[s.key] is not None
            )
        elif cause is Cause.WITHDRAWN:
            assert s.key not in produced and s.key not in configured
        elif cause is None:  # same facts, unknown facts, or configuration: nothing
            assert s.key in configured or (
                s.key in produced and (produced[s.key] in (None, facts[s.key]) or facts[s.key] is None)
            )
    for key in decision.withdraw:  # a withdrawn predecessor takes its submitted dependants along
        for later in ordering.successors(key):
            if later in facts:
                assert later in decision.withdraw


def test_a_changed_first_sick_day_of_a_ziekmelding_withdraws_its_werkhervatting_too() -> None:
    zm = NotificationKey("WG001", "D1", Kind.ZW_ZIEKMELDING)
    full = NotificationKey("WG001", "D1", Kind.WERKHERVATTING, Variant.FULL)
    decision = decide([Submitted(zm, A), Submitted(full, A)], {zm: B, full: A}, {("WG001", "D1")}, set())
    assert decision.withdraw == {zm: Cause.CORRECTED, full: Cause.DEPENDANT}


@given(st.integers(0, 400), st.integers(0, 400))
def test_the_brake_holds_more_than_five_or_ten_percent_whichever_is_more(count: int, submitted: int) -> None:
    held = braked({"WG001": count}, {"WG001": submitted}) == {"WG001"}
    assert held == (count > max(BRAKE_COUNT, submitted / 10))
    if count <= BRAKE_COUNT:
        assert not held
