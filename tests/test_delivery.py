"""The exactly-once rules of uwvcli/digipoort/delivery.py, decided without a network: the
reconcile decision table, the outcome of a status history, backoff, sending order, endpoints."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from delivery_support import LHNR, FakeDigipoort, make_config, reference, test_credentials, write_message
from hypothesis import given
from hypothesis import strategies as st

from uwvcli.cli.send import render_report
from uwvcli.delivery.loop import (
    Delivery,
    DeliveryPolicy,
    SendReport,
    attempt_window,
    backoff_delays,
    history_outcome,
    reconcile,
    send_outbox,
)
from uwvcli.digipoort.addresses import DEFAULT_BERICHTSOORTEN, berichtsoort_for, endpoints_for
from uwvcli.domain.keys import parse_key
from uwvcli.domain.models import DigipoortSettings, Kind, StatusRecord
from uwvcli.errors import UwvcliError
from uwvcli.state.journal import Journal

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
POLICY = DeliveryPolicy(clock_skew=timedelta(minutes=5), processing_margin=timedelta(seconds=60))
ENDED = T0 + timedelta(seconds=2)  # the connection dropped two seconds after the attempt began
WINDOW = attempt_window(T0, ENDED, POLICY)
AFTER = T0 + timedelta(hours=1)  # the window has closed


# ---------------------------------------------------------------- reconcile: the decision table


def test_one_unknown_process_in_the_window_is_adopted() -> None:
    listed = {"K-OLD": T0 - timedelta(days=3), "K-NEW": T0 + timedelta(seconds=2)}
    decision = reconcile(listed, known={"K-OLD"}, window=WINDOW, now=AFTER)
    assert (decision.verdict, decision.kenmerk) == ("adopt", "K-NEW")


def test_our_own_known_processes_are_never_adopted_even_inside_the_window() -> None:
    listed = {"K-MINE": T0 + timedelta(seconds=1)}
    assert reconcile(listed, known={"K-MINE"}, window=WINDOW, now=AFTER).verdict == "absent"


def test_nothing_listed_after_the_window_means_it_never_arrived() -> None:
    assert reconcile({}, known=set(), window=WINDOW, now=AFTER).verdict == "absent"


def test_nothing_listed_while_the_window_is_open_is_not_yet_proof() -> None:
    """The request may still be on its way or being processed: resending now could duplicate it."""
    assert reconcile({}, known=set(), window=WINDOW, now=T0 + timedelta(seconds=5)).verdict == "wait"


def test_unknown_processes_outside_the_window_are_someone_elses() -> None:
    listed = {"K-YESTERDAY": T0 - timedelta(days=1), "K-TOMORROW": T0 + timedelta(days=1)}
    assert reconcile(listed, known=set(), window=WINDOW, now=AFTER).verdict == "absent"


def test_clock_skew_is_allowed_on_both_sides() -> None:
    early = {"K": T0 - timedelta(minutes=4)}  # Digipoort's clock runs 4 minutes behind ours
    late = {"K": T0 + timedelta(minutes=5)}
    assert reconcile(early, known=set(), window=WINDOW, now=AFTER).verdict == "adopt"
    assert reconcile(late, known=set(), window=WINDOW, now=AFTER).verdict == "adopt"
    too_early = {"K": T0 - timedelta(minutes=6)}
    assert reconcile(too_early, known=set(), window=WINDOW, now=AFTER).verdict == "absent"


def test_two_unknown_candidates_are_parked_never_guessed() -> None:
    listed = {"K-A": T0 + timedelta(seconds=1), "K-B": T0 + timedelta(seconds=3)}
    decision = reconcile(listed, known=set(), window=WINDOW, now=AFTER)
    assert decision.verdict == "ambiguous"
    assert decision.candidates == ("K-A", "K-B")
    assert decision.kenmerk is None


def test_an_unknown_process_that_cannot_be_dated_is_not_adopted_blindly() -> None:
    decision = reconcile({"K-X": None}, known=set(), window=WINDOW, now=AFTER)
    assert decision.verdict == "ambiguous"


moments = st.integers(min_value=-7200, max_value=7200).map(lambda s: T0 + timedelta(seconds=s))
listings = st.dictionaries(st.from_regex(r"K-[0-9]{3}", fullmatch=True), st.none() | moments, max_size=6)


@given(listed=listings, known=st.sets(st.from_regex(r"K-[0-9]{3}", fullmatch=True), max_size=6), now=moments)
def test_reconcile_never_allows_a_resend_when_any_unknown_process_could_be_ours(listed, known, now) -> None:
    decision = reconcile(listed, known=known, window=WINDOW, now=now)
    plausible = {
        k
        for k, seen in listed.items()
        if k not in known and (seen is None or WINDOW.earliest <= seen <= WINDOW.latest)
    }
    if decision.verdict == "absent":
        assert not plausible and now > WINDOW.absent_after
    if decision.verdict == "adopt":
        assert plausible == {decision.kenmerk}
    if len(plausible) > 1:
        assert decision.verdict == "ambiguous"
    assert decision.kenmerk is None or decision.kenmerk not in known


def test_absent_depends_on_our_clock_only_not_on_the_clock_skew() -> None:
    """Once the processing margin has passed since the attempt ended (our clock), an empty list
    proves it never arrived; the skew only widens which Digipoort timestamps could be ours."""
    wide = DeliveryPolicy(clock_skew=timedelta(hours=1), processing_margin=timedelta(seconds=60))
    window = attempt_window(T0, ENDED, wide)
    assert reconcile({}, known=set(), window=window, now=ENDED + timedelta(seconds=59)).verdict == "wait"
    assert reconcile({}, known=set(), window=window, now=ENDED + timedelta(seconds=61)).verdict == "absent"


def test_the_default_policy_settles_by_the_first_run_90_seconds_after_the_attempt_ended() -> None:
    window = attempt_window(T0, ENDED, DeliveryPolicy())
    later = ENDED + timedelta(seconds=90)
    assert reconcile({}, known=set(), window=window, now=later).verdict == "absent"
    assert reconcile({"K": ENDED}, known=set(), window=window, now=later).verdict == "adopt"


# ---------------------------------------------------------------- the outcome of a status history


def _status(code: str, minutes: int, foutcode: str | None = None) -> StatusRecord:
    return StatusRecord(
        code=code,
        timestamp=T0 + timedelta(minutes=minutes),
        description=f"status {code}",
        foutcode=foutcode,
        foutbeschrijving=f"uitleg {foutcode}" if foutcode else None,
    )


def _table(code: str, foutcode: str | None) -> str | None:
    """A stand-in codes table (the real one is tested against codes.yaml by its owner)."""
    if code == "500":
        return "accepted"
    if code == "400":
        return "delivered"
    if code in ("311", "321", "510"):
        return "rejected"
    if code in ("210", "230", "410") or (code == "420" and foutcode == "AFS600"):
        return "failed"
    return None


def test_statuses_are_ordered_by_timestamp_not_by_arrival_or_code() -> None:
    history = [_status("500", 9), _status("105", 0), _status("400", 8), _status("100", 1)]
    assert history_outcome(history, AFTER, timedelta(days=2), _table)[0] == "accepted"


def test_400_without_5xx_stays_open_within_the_window_then_counts_as_delivered() -> None:
    history = [_status("105", 0), _status("100", 1), _status("400", 2)]
    assert history_outcome(history, T0 + timedelta(hours=3), timedelta(days=2), _table)[0] is None
    state, decisive = history_outcome(history, T0 + timedelta(days=2, minutes=3), timedelta(days=2), _table)
    assert state == "delivered"
    assert decisive is not None and decisive.code == "400"


def test_a_failure_after_delivery_wins_over_the_delivery() -> None:
    history = [_status("400", 1), _status("510", 2, "UWV001")]
    state, decisive = history_outcome(history, AFTER, timedelta(days=2), _table)
    assert state == "rejected"
    assert decisive is not None and decisive.foutbeschrijving == "uitleg UWV001"


def test_420_is_open_while_digipoort_retries_and_failed_once_afs600_is_attached() -> None:
    retrying = [_status("405", 1), _status("420", 2)]
    assert history_outcome(retrying, AFTER, timedelta(days=2), _table)[0] is None
    given_up = [*retrying, _status("420", 3, "AFS600")]
    assert history_outcome(given_up, AFTER, timedelta(days=2), _table)[0] == "failed"


def test_an_empty_history_is_open() -> None:
    assert history_outcome([], AFTER, timedelta(days=2), _table) == (None, None)


# ---------------------------------------------------------------- retries, order, transport settings


def test_backoff_doubles_is_capped_and_bounded() -> None:
    policy = DeliveryPolicy(retries=5, backoff_seconds=2, backoff_cap_seconds=10)
    assert backoff_delays(policy) == [2, 4, 8, 10, 10]
    assert backoff_delays(DeliveryPolicy(retries=0)) == []


def test_berichtsoort_defaults_are_overridable_per_kind() -> None:
    settings = DigipoortSettings(environment="preprod", berichtsoorten={Kind.WAZO: "UWV_WAZO_ECHT"})
    assert berichtsoort_for(settings, Kind.WAZO) == "UWV_WAZO_ECHT"
    assert berichtsoort_for(settings, Kind.MLA) == DEFAULT_BERICHTSOORTEN[Kind.MLA]
    assert len(set(DEFAULT_BERICHTSOORTEN.values())) == len(Kind)


def test_endpoints_default_to_logius_and_configured_urls_win() -> None:
    aanlever, status = endpoints_for(DigipoortSettings(environment="preprod"))
    assert aanlever == "https://wus.preproductie.digipoort.logius.nl/wus/2.0/aanleverservice/1.2"
    assert status == "https://wus.preproductie.digipoort.logius.nl/wus/2.0/statusinformatieservice/1.2"
    production = endpoints_for(DigipoortSettings(environment="production"))
    assert production[0].startswith("https://wus.digipoort.logius.nl/")
    custom = DigipoortSettings(
        environment="custom", aanlever_url="https://a.test/x", status_url="https://a.test/y"
    )
    assert endpoints_for(custom) == ("https://a.test/x", "https://a.test/y")


def test_custom_without_urls_is_a_clear_configuration_error() -> None:
    with pytest.raises(UwvcliError, match="aanlever_url and status_url"):
        endpoints_for(DigipoortSettings(environment="custom", aanlever_url="https://a.test/x"))


# ---------------------------------------------------------------- the send loop, over a fake Digipoort


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory):
    return test_credentials(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def setup(tmp_path: Path, credentials):
    config = make_config(tmp_path)
    journal = Journal.open(config.paths.state)
    yield config, journal, credentials
    journal.close()


def _send(config, journal, digipoort, *, now=None, sleeps=None, poll_seconds=0.0, **kw):
    policy = DeliveryPolicy(
        backoff_seconds=1,
        retries=2,
        attempt_timeout=timedelta(seconds=5),
        poll_interval_seconds=0.0,
        delivered_after=timedelta(days=2),
        settle_wait_seconds=0.0,
    )
    return send_outbox(
        config,
        journal,
        client=digipoort,
        parallelism=4,
        poll_seconds=poll_seconds,
        policy=policy,
        now=(lambda: now) if now else (lambda: digipoort.clock + timedelta(seconds=1)),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        **kw,
    )


def test_each_written_message_is_posted_once_and_followed_to_accepted(setup) -> None:
    config, journal, credentials = setup
    keys = ["WG1/D1/zw-ziekmelding", "WG1/D2/wazo", "WG2/D9/42e-weeksmelding"]
    for i, key in enumerate(keys):
        write_message(config, journal, credentials, key, employee_id=str(1000 + i))
    digipoort = FakeDigipoort()
    report = _send(config, journal, digipoort, signer=credentials.certificate)
    assert sorted(digipoort.received) == sorted(reference(k) for k in keys)
    assert {journal.entry(k).state for k in keys} == {"accepted"}
    assert not report.needs_attention
    assert {line.code for line in report.lines} == {"500"}
    again = _send(config, journal, digipoort, signer=credentials.certificate)
    assert len(digipoort.received) == 3, "nothing is posted twice"
    assert again.lines == []


def test_a_synchronous_fault_is_rejected_with_digipoorts_words_verbatim(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(script={reference("WG1/D1/wazo"): ["fault"]})
    report = _send(config, journal, digipoort)
    (line,) = report.lines
    assert (line.state, line.code) == ("rejected", "ALS100")
    assert line.text == "Het bericht voldoet niet aan de koppelvlakspecificatie."
    assert journal.entry("WG1/D1/wazo").state == "rejected"
    assert report.needs_attention


def test_a_message_that_did_not_reach_digipoort_is_retried_with_backoff(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(script={reference("WG1/D1/wazo"): ["unreachable", "unreachable"]})
    sleeps: list[float] = []
    report = _send(config, journal, digipoort, sleeps=sleeps)
    assert sleeps == [1, 2]
    assert digipoort.received == [reference("WG1/D1/wazo")]
    assert report.lines[0].state == "accepted"


def test_when_retries_run_out_the_message_stays_in_the_outbox_for_the_next_run(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(script={reference("WG1/D1/wazo"): ["unreachable"] * 3})
    report = _send(config, journal, digipoort)
    assert report.lines[0].state == "not_sent" and report.needs_attention
    assert journal.entry("WG1/D1/wazo").state == "written"
    assert _send(config, journal, digipoort).lines[0].state == "accepted"
    assert digipoort.received == [reference("WG1/D1/wazo")]


def test_when_digipoort_is_unreachable_the_rest_is_not_tried_this_run(setup) -> None:
    config, journal, credentials = setup
    keys = [f"WG1/D{i}/wazo" for i in range(5)]
    for i, key in enumerate(keys):
        write_message(config, journal, credentials, key, employee_id=str(1000 + i))
    digipoort = FakeDigipoort(script={reference(k): ["unreachable"] * 3 for k in keys})
    sleeps: list[float] = []
    policy = DeliveryPolicy(retries=2, backoff_seconds=1, poll_interval_seconds=0)
    report = send_outbox(
        config, journal, client=digipoort, parallelism=1, poll_seconds=0, policy=policy, sleep=sleeps.append
    )
    assert digipoort.posts == 3, "one message tried 3 times, the other four not at all"
    assert sleeps == [1, 2]
    assert {line.state for line in report.lines} == {"not_sent"}
    assert {journal.entry(k).state for k in keys} == {"written"}
    assert sum("not tried" in line.reason for line in report.lines) == 4


def test_an_attempt_is_begun_only_when_its_post_can_start_at_once(setup) -> None:
    """Otherwise a queued message would sit in `submitting` long before its POST, and after a crash
    its reconcile window would not cover the moment it really arrived."""
    config, journal, credentials = setup
    for i in range(8):
        write_message(config, journal, credentials, f"WG1/D{i}/wazo", employee_id=str(1000 + i))
    seen: list[int] = []

    def count_submitting() -> None:
        with Journal.open(config.paths.state) as reader:  # its own connection, in the worker thread
            seen.append(len(reader.entries(state="submitting")))
        time.sleep(0.01)

    digipoort = FakeDigipoort(on_post=count_submitting)
    report = send_outbox(config, journal, client=digipoort, parallelism=2, poll_seconds=0)
    assert len(seen) == 8 and max(seen) <= 2
    assert {line.state for line in report.lines} == {"accepted"}


def test_an_answer_lost_after_arrival_is_reconciled_not_resent(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(script={reference("WG1/D1/wazo"): ["drop"]})
    report = _send(config, journal, digipoort)
    assert digipoort.received == [reference("WG1/D1/wazo")]
    entry = journal.entry("WG1/D1/wazo")
    assert entry.state == "accepted" and entry.kenmerk == "K00001"
    assert not report.needs_attention


def test_an_untrusted_answer_is_never_taken_as_a_kenmerk_but_settled_like_an_unanswered_post(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(script={reference("WG1/D1/wazo"): ["untrusted"]})
    _send(config, journal, digipoort)
    (attempt,) = journal.attempts("WG1/D1/wazo")
    assert attempt.outcome == "adopted", "the kenmerk came from the verified process list, not the bad answer"
    assert digipoort.received == [reference("WG1/D1/wazo")]


def test_no_answer_and_no_process_waits_until_the_window_has_closed_then_resends_once(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(script={reference("WG1/D1/wazo"): ["lost"]})
    first = _send(config, journal, digipoort)
    assert first.lines[0].state == "in_doubt" and first.needs_attention
    assert journal.entry("WG1/D1/wazo").state == "in_doubt"
    assert digipoort.received == []
    later = _send(config, journal, digipoort, now=datetime.now(UTC) + timedelta(hours=1))
    assert later.lines[0].state == "accepted"
    assert digipoort.received == [reference("WG1/D1/wazo")]


def test_a_crash_after_begin_attempt_whose_post_arrived_is_adopted_on_the_next_run(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    journal.begin_attempt("WG1/D1/wazo")  # … the POST went out, then the process died
    digipoort = FakeDigipoort(clock=datetime.now(UTC))
    digipoort.start_process(berichtsoort_for(config.digipoort, Kind.WAZO), LHNR, reference("WG1/D1/wazo"))
    report = _send(config, journal, digipoort, now=datetime.now(UTC) + timedelta(minutes=10))
    assert len(digipoort.received) == 1
    assert journal.entry("WG1/D1/wazo").kenmerk == "K00001"
    assert report.lines[0].state == "accepted"


def test_a_crash_before_the_post_arrived_is_resent_once_the_window_has_closed(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    journal.begin_attempt("WG1/D1/wazo")
    digipoort = FakeDigipoort()
    report = _send(config, journal, digipoort, now=datetime.now(UTC) + timedelta(minutes=10))
    assert digipoort.received == [reference("WG1/D1/wazo")]
    assert report.lines[0].state == "accepted"
    assert [a.outcome for a in journal.attempts("WG1/D1/wazo")] == ["not_sent", "accepted"]


def test_two_unknown_processes_that_could_be_it_park_the_message(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    journal.begin_attempt("WG1/D1/wazo")
    digipoort = FakeDigipoort(clock=datetime.now(UTC))
    soort = berichtsoort_for(config.digipoort, Kind.WAZO)
    digipoort.start_process(soort, LHNR, "someone-else")
    digipoort.start_process(soort, LHNR, reference("WG1/D1/wazo"))
    report = _send(config, journal, digipoort, now=datetime.now(UTC) + timedelta(minutes=10))
    entry = journal.entry("WG1/D1/wazo")
    assert entry.state == "parked" and "K00001" in entry.reason and "K00002" in entry.reason
    assert report.lines[0].state == "parked" and report.needs_attention
    assert len(digipoort.received) == 2, "nothing was resent"


def test_a_changed_outbox_file_is_refused_and_never_posted(setup) -> None:
    config, journal, credentials = setup
    path = write_message(config, journal, credentials, "WG1/D1/wazo")
    write_message(config, journal, credentials, "WG1/D2/wazo", employee_id="1002")
    path.write_bytes(path.read_bytes().replace(b"<BerichtkenmerkIndiener>", b"<BerichtkenmerkIndiener>X"))
    digipoort = FakeDigipoort()
    report = _send(config, journal, digipoort, signer=credentials.certificate)
    assert digipoort.received == [reference("WG1/D2/wazo")]
    assert journal.entry("WG1/D1/wazo").state == "refused"
    refused = report.deliveries[parse_key("WG1/D1/wazo")]
    assert refused.state == "refused" and path.name in refused.reason
    assert report.needs_attention


def test_a_file_signed_by_another_key_is_refused(setup, tmp_path: Path) -> None:
    config, journal, credentials = setup
    stranger = test_credentials(tmp_path / "other")
    write_message(config, journal, stranger, "WG1/D1/wazo")
    digipoort = FakeDigipoort()
    report = _send(config, journal, digipoort, signer=credentials.certificate)
    assert digipoort.received == [] and report.lines[0].state == "refused"


def test_a_successor_waits_while_its_predecessor_has_no_kenmerk(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/zw-ziekmelding")
    write_message(config, journal, credentials, "WG1/D1/werkhervatting/full")
    write_message(config, journal, credentials, "WG1/D7/wazo")  # the same employee, unrelated
    digipoort = FakeDigipoort(script={reference("WG1/D1/zw-ziekmelding"): ["fault"]})
    report = _send(config, journal, digipoort)
    assert digipoort.received == [reference("WG1/D7/wazo")]  # the faulted one started nothing
    waiting = report.deliveries[parse_key("WG1/D1/werkhervatting/full")]
    assert waiting.state == "waiting" and "WG1/D1/zw-ziekmelding" in waiting.reason
    assert journal.entry("WG1/D1/werkhervatting/full").state == "written"


def test_a_successor_goes_after_its_predecessor_in_the_same_run(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/werkhervatting/partial")
    write_message(config, journal, credentials, "WG1/D1/zw-ziekmelding")
    write_message(config, journal, credentials, "WG1/D1/werkhervatting/full")
    digipoort = FakeDigipoort()
    _send(config, journal, digipoort)
    assert digipoort.received == [
        reference("WG1/D1/zw-ziekmelding"),
        reference("WG1/D1/werkhervatting/partial"),
        reference("WG1/D1/werkhervatting/full"),
    ]


@pytest.mark.parametrize(
    ("final", "state"),
    [
        ((("311", "VAS500"),), "rejected"),
        ((("410", "AFS400"),), "failed"),
        ((("400", None), ("510", None)), "rejected"),
        ((("420", None), ("420", "AFS600")), "failed"),
    ],
)
def test_final_failure_statuses_end_the_message(setup, final, state) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    report = _send(config, journal, FakeDigipoort(final=final))
    assert journal.entry("WG1/D1/wazo").state == state
    assert report.lines[0].state == state and report.needs_attention


def test_delivered_without_a_verdict_stays_open_then_counts_as_delivered(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(final=(("400", None),))
    _send(config, journal, digipoort)
    assert journal.entry("WG1/D1/wazo").state == "submitted"
    _send(config, journal, digipoort, now=digipoort.clock + timedelta(days=2, minutes=1))
    assert journal.entry("WG1/D1/wazo").state == "delivered"


def test_polling_is_bounded_and_every_status_is_journalled(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(final=(("420", None),))  # Digipoort keeps retrying delivery
    policy = DeliveryPolicy(poll_interval_seconds=0.05)
    started = time.monotonic()
    follow = send_outbox(
        config, journal, client=digipoort, poll_seconds=0.3, policy=policy, now=lambda: digipoort.clock
    )
    assert time.monotonic() - started < 1.0
    assert follow.lines[0].state == "submitted" and follow.lines[0].code == "420"
    assert 2 <= digipoort.status_calls <= 7
    assert [s.code for s in journal.status_history("K00001")] == ["105", "100", "110", "301", "405", "420"]


# ---------------------------------------------------------------- the summary as users see it


def _terminal(*, tty: bool):
    from rich.console import Console

    from uwvcli.cli.console import Terminal

    terminal = Terminal()
    terminal.out = Console(file=io.StringIO(), force_terminal=tty, width=200, no_color=True, highlight=False)
    return terminal


def _report() -> SendReport:
    report = SendReport()
    report.note(
        Delivery(
            "WG1/D1/wazo",
            "WG1-D1-WAZO",
            "rejected",
            code="ALS100",
            foutcode="ALS100",
            text="Het verzoek voldoet niet.\n\nDe volgende fout is opgetreden:\nschemafout",
        )
    )
    report.note(Delivery("WG1/D2/wazo", "WG1-D2-WAZO", "accepted", kenmerk="K-9", code="500"))
    return report


def test_the_summary_is_a_table_on_a_terminal_with_codes_explained() -> None:
    terminal = _terminal(tty=True)
    render_report(terminal, _report())
    text = terminal.out.file.getvalue()
    assert "Aanleverkenmerk" in text and "WG1-D1-WAZO" in text
    assert "ALS100" in text and "Het verzoek voldoet niet." in text
    assert "Summary: 1 accepted, 1 rejected" in text


def test_a_narrow_table_names_the_notification_by_its_key_under_it() -> None:
    """Regression: with the Explanation column left out, the lines under the table showed the key
    value's repr (`NotificationKey(employer_id=...)`) instead of its text."""
    terminal = _terminal(tty=True)
    terminal.out.width = 30
    report = SendReport()
    report.note(
        Delivery(parse_key("WG1/D1/wazo"), "WG1-D1-WAZO", "rejected", code="ALS100", foutcode="ALS100")
    )
    render_report(terminal, report)
    text = terminal.out.file.getvalue()
    assert "Explanation" not in text  # the column was left out: its text is under the table
    assert "\nWG1/D1/wazo\n" in text
    assert "NotificationKey" not in text


def test_the_summary_is_one_plain_line_per_message_otherwise(capsys: pytest.CaptureFixture[str]) -> None:
    terminal = _terminal(tty=False)
    render_report(terminal, _report())
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    fields = lines[0].split("\t")
    assert fields[:4] == ["WG1/D1/wazo", "WG1-D1-WAZO", "rejected", "-"]
    assert "De volgende fout is opgetreden: schemafout" in fields[4]  # Digipoort's lines joined
    assert lines[1].split("\t")[3] == "K-9"


# ---------------------------------------------------------------- in doubt: settled by uwvcli itself


def test_every_dropped_answer_of_one_sender_is_adopted_in_the_same_run_none_parked(setup) -> None:
    """Issue 11: five messages of one sender, each answer lost after arrival. The sender waits for
    each to be settled before the next goes, so each unknown process is matched to one attempt."""
    config, journal, credentials = setup
    keys = [f"WG1/D{i}/wazo" for i in range(5)]
    for i, key in enumerate(keys):
        write_message(config, journal, credentials, key, employee_id=str(1000 + i))
    digipoort = FakeDigipoort(script={reference(k): ["drop"] for k in keys})
    report = _send(config, journal, digipoort)
    assert sorted(digipoort.received) == sorted(reference(k) for k in keys)
    assert {line.state for line in report.lines} == {"accepted"}
    owners = {journal.entry(k).kenmerk: k for k in keys}
    assert len(owners) == 5
    for kenmerk, key in owners.items():
        assert digipoort.received[int(kenmerk[1:]) - 1] == reference(key), "its own process"


def test_a_sender_in_doubt_sends_nothing_else_until_it_is_settled_within_and_across_runs(setup) -> None:
    config, journal, credentials = setup
    keys = ["WG1/D1/wazo", "WG1/D2/wazo", "WG1/D3/zw-ziekmelding"]
    for i, key in enumerate(keys):
        write_message(config, journal, credentials, key, employee_id=str(1000 + i))
    digipoort = FakeDigipoort(script={reference(keys[0]): ["lost"]})
    first = _send(config, journal, digipoort)
    states = {str(line.key): line.state for line in first.lines}
    assert states == {keys[0]: "in_doubt", keys[1]: "waiting", keys[2]: "accepted"}, "another sender goes on"
    assert digipoort.received == [reference(keys[2])]

    soon = _send(config, journal, digipoort)  # the processing margin has not passed yet
    assert {str(line.key): line.state for line in soon.lines}[keys[1]] == "waiting"
    assert digipoort.received == [reference(keys[2])]

    later = _send(config, journal, digipoort, now=datetime.now(UTC) + timedelta(minutes=2))
    assert {str(line.key): line.state for line in later.lines} == {keys[0]: "accepted", keys[1]: "accepted"}
    assert sorted(digipoort.received) == sorted(reference(k) for k in keys)


def test_a_process_of_another_program_in_the_window_parks_and_says_why(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    journal.begin_attempt("WG1/D1/wazo")  # the run died during the POST, which did arrive
    digipoort = FakeDigipoort(clock=datetime.now(UTC))
    soort = berichtsoort_for(config.digipoort, Kind.WAZO)
    digipoort.start_process(soort, LHNR, reference("WG1/D1/wazo"))
    digipoort.start_process(soort, LHNR, "posted-by-another-program")
    report = _send(config, journal, digipoort, now=datetime.now(UTC) + timedelta(minutes=2))
    (line,) = report.lines
    assert line.state == "parked" and "another program" in line.reason and "uwvcli resolve" in line.reason
    assert len(digipoort.received) == 2, "nothing was resent"


def test_a_message_submitted_days_ago_without_a_final_status_is_news(setup) -> None:
    config, journal, credentials = setup
    write_message(config, journal, credentials, "WG1/D1/wazo")
    digipoort = FakeDigipoort(final=())  # stuck after 405
    assert _send(config, journal, digipoort).lines[0].state == "submitted"
    days_later = _send(config, journal, digipoort, now=digipoort.clock + timedelta(days=4))
    line = days_later.lines[0]
    assert line.state == "overdue" and days_later.needs_attention
    assert journal.entry("WG1/D1/wazo").state == "submitted"
