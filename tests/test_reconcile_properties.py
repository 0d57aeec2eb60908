"""Reconciliation against any history of one sender (issue 11): whatever interleaving of sends,
dropped answers, timeouts, late arrivals and crashes, and whatever the two clocks say, the pure
decision (`attempt_window` + `reconcile`) never adopts another message's process and never
resends a message that arrived, as long as the send loop's rule holds: a sender with an attempt
in doubt sends nothing else until it is settled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from uwvcli.delivery.loop import DeliveryPolicy, attempt_window, reconcile

T0 = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
POLICY = DeliveryPolicy()  # the defaults: 5 minutes of skew, a processing margin of 60 s
MARGIN = POLICY.processing_margin.total_seconds()
SKEW = POLICY.clock_skew.total_seconds()

#: What one POST comes to. `ok`: answered; `drop`: arrived, answer lost; `lost`: never arrived;
#: `late`: timed out, Digipoort created the process after the connection ended (within the margin);
#: `crash-before` / `crash-after`: the run died before / after the request arrived.
OUTCOMES = ("ok", "drop", "lost", "late", "crash-before", "crash-after")


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), messages=st.integers(min_value=1, max_value=5))
def test_no_history_of_one_sender_makes_reconciliation_adopt_a_stranger_or_resend_an_arrival(
    data: st.DataObject, messages: int
) -> None:
    offset = data.draw(st.floats(-SKEW, SKEW), label="Digipoort's clock minus ours (s)")
    processes: dict[str, tuple[int, float]] = {}  # kenmerk -> (message, created on our clock)
    known: set[str] = set()  # kenmerken the journal holds
    clock = 0.0
    for message in range(messages):
        arrived: str | None = None
        for _ in range(6):  # attempts of this message
            outcome = data.draw(st.sampled_from(OUTCOMES), label=f"message {message}")
            start = clock
            end = start + data.draw(st.floats(0.01, 30), label="the POST lasted (s)")
            if outcome in ("ok", "drop", "crash-after"):
                created = data.draw(st.floats(start, end), label="created at")
            elif outcome == "late":
                created = data.draw(st.floats(end, end + MARGIN), label="created late at")
            else:
                created = None
            if created is not None:
                kenmerk = f"K{len(processes):03d}"
                processes[kenmerk] = (message, created)
                assert arrived is None, f"message {message} arrived twice"
                arrived = kenmerk
            if outcome == "ok":
                known.add(kenmerk)
                clock = end
                break
            if outcome.startswith("crash"):  # the attempt ends when the next run starts
                end += data.draw(st.floats(0, 3600), label="the next run starts after (s)")
            window = attempt_window(_at(start), _at(end), POLICY)
            now = end
            while True:
                now += data.draw(st.floats(0, 120), label="asked again after (s)")
                listed = {k: _at(c + offset) for k, (_, c) in processes.items() if c <= now}
                decision = reconcile(listed, known, window, _at(now))
                assert decision.verdict != "ambiguous", "one sender, one attempt in doubt: never parked"
                if decision.verdict != "wait":
                    break
            clock = now
            if decision.verdict == "adopt":
                assert decision.kenmerk == arrived, "adopted another message's process"
                known.add(decision.kenmerk)
                break
            assert arrived is None, "resent a message that had arrived"
    for kenmerk, (message, _) in processes.items():
        assert kenmerk in known, f"the process of message {message} was never recognised"
