"""The correction pass reads only what the exports and the plan call for (`correction.known_entries`,
through journal schema 6's indexes) and decides exactly what it would decide reading the whole
journal: hypothesis over small journals of every state, with and without facts, withdrawals of
every state and cause, submissions recent and old, reported gone or not, dossiers in the exports
and gone from them, of a configured, an inactive and an unknown employer."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.helpers import employer, write_setup
from uwvcli.app import correction, planning
from uwvcli.domain import corrections, ordering
from uwvcli.domain.keys import NotificationKey, parse_key, withdrawal_of
from uwvcli.domain.models import Config, State
from uwvcli.inputs.config import load_config
from uwvcli.recap.mails import UPCOMING_DAYS
from uwvcli.state.journal import NEVER_AGAIN, SENT, Journal, JournalState

DAY = date(2026, 12, 2)
ROWS = [
    {"employee_id": "1001", "dossier_id": "V-1", "dossier_type": "ziekte", "vangnet_status": "no_risk",
     "first_sick_day": "2026-11-16", "recovery_date": "2026-11-25"},
    {"employee_id": "1002", "dossier_id": "V-2", "dossier_type": "ziekte", "vangnet_status": "sfb",
     "first_sick_day": "2026-11-23"},
    {"employee_id": "1003", "dossier_id": "O-1", "dossier_type": "ziekte", "first_sick_day": "2026-11-20"},
    {"employer_id": "WG002", "employee_id": "2001", "dossier_id": "W-1", "dossier_type": "ziekte",
     "vangnet_status": "sfb", "first_sick_day": "2026-11-23"},
]  # fmt: skip
#: Keys the journal may hold: produced now (V-1, V-2), not produced in a present dossier (O-1),
#: of an inactive employer (W-1), of a dossier gone from the exports (G-1), of a present dossier
#: id under another employer (WG003/V-2).
KEYS = [
    parse_key(text)
    for text in (
        "WG001/V-1/zw-ziekmelding", "WG001/V-1/werkhervatting/full", "WG001/V-1/werkhervatting/partial",
        "WG001/V-2/zw-ziekmelding", "WG001/O-1/zw-ziekmelding", "WG002/W-1/zw-ziekmelding",
        "WG001/G-1/zw-ziekmelding", "WG001/G-1/werkhervatting/full", "WG003/V-2/zw-ziekmelding",
    )
]  # fmt: skip
#: Submission moments around the 28 days of RULES 4.6 (late in the UTC day on the edge).
MOMENTS = [
    None,
    *(
        datetime.combine(DAY - timedelta(days=days), time(hour), tzinfo=UTC)
        for days, hour in ((1, 7), (27, 7), (28, 0), (28, 23), (29, 7), (400, 7))
    ),
]
OTHER_FACTS = corrections.StoredFacts('{"MeldingZiekte/DatEersteAoDag":"20200101"}', "0" * 64)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    folder = tmp_path_factory.mktemp("reads")
    path = write_setup(folder, ROWS, employers=[employer(), employer("WG002", active=False)])
    return load_config(path)


@pytest.fixture(scope="module")
def current(config: Config) -> dict[NotificationKey, corrections.Facts]:
    """The facts a message built now carries, per key the rules produce (as if all were sent)."""
    plan = planning.plan(config, DAY, horizon=UPCOMING_DAYS, sent_keys=set(KEYS))
    return {
        n.key: correction.current_facts(
            config, n, plan.dossiers[n.dossier_id], config.employers[n.employer_id]
        )
        for n in plan.already_sent
        if n.state is not State.BLOCKED
    }


STATES = st.sampled_from(list(JournalState))
ROW = st.fixed_dictionaries(
    {
        "state": STATES | st.sampled_from(sorted(SENT)),  # what UWV has, more often
        "facts": st.sampled_from(["none", "current", "other"]),
        "submitted": st.sampled_from(MOMENTS),
        "gone_reported": st.booleans(),
        "revision": st.integers(1, 2),
        "fingerprint": st.sampled_from([None, "cd" * 32]),
        "withdrawal": st.none() | st.tuples(STATES, st.sampled_from(list(corrections.Cause)), st.booleans()),
    }
)
JOURNALS = st.dictionaries(st.sampled_from(KEYS), ROW, max_size=len(KEYS))


def fill(journal: Journal, rows: dict, current: dict) -> None:
    """Rows straight into the schema: any combination, also ones uwvcli itself would not make."""
    key_of = journal.facts_key()
    columns = (
        "key, kind, employer_id, employee_id, dossier_id, due_date, deadline, state, problems, "
        "content_sha256, aanleverkenmerk, revision, kenmerk, submitted, created, updated, facts, "
        "person_digest, cause, gone_reported"
    )
    with journal.transaction() as db:
        for number, (key, row) in enumerate(rows.items()):
            facts = None
            if row["facts"] == "current" and key in current:
                facts = corrections.stored(current[key], key_of)
            elif row["facts"] != "none":
                facts = OTHER_FACTS
            records = [(key, row["state"], row["revision"], facts, None, row)]
            if row["withdrawal"] is not None:
                state, cause, same_revision = row["withdrawal"]
                revision = row["revision"] if same_revision else 3 - row["revision"]
                records.append((withdrawal_of(key, revision), state, 1, None, cause, row))
            for part, (text, state, revision, stored, cause, values) in enumerate(records):
                submitted = values["submitted"].isoformat() if values["submitted"] else None
                db.execute(
                    f"INSERT INTO notifications ({columns}) VALUES ({', '.join('?' * 20)})",
                    (
                        str(text), str(key.kind), key.employer_id, "1001", key.dossier_id, "2026-11-20",
                        "2026-11-27", str(state), "[]", values["fingerprint"], f"A-{number}-{part}", revision,
                        f"KM-{number}-{part}", submitted, "2026-11-20T07:00:00+00:00",
                        "2026-11-20T07:00:00+00:00", stored.case if stored else None,
                        stored.person_digest if stored else None,
                        f'{{"cause": "{cause}", "reason": null}}' if cause else None,
                        "2026-11-30" if values["gone_reported"] else None,
                    ),
                )  # fmt: skip


def held_back(entries: dict) -> set:
    return {
        e.key
        for e in entries.values()
        if e.state in NEVER_AGAIN
        and not e.is_withdrawal
        and correction.open_withdrawal(entries, e) is not None
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=JOURNALS)
def test_the_bounded_reads_decide_what_reading_everything_decides(
    config: Config, current: dict, rows
) -> None:
    with Journal.open(Path(tempfile.mkdtemp()) / "uwvcli.sqlite") as journal:
        fill(journal, rows, current)
        plan = planning.plan(config, DAY, horizon=UPCOMING_DAYS, sent_keys=journal.sent_lookup())
        plan = replace(plan, notifications=[n for n in plan.notifications if n.state is not State.UPCOMING])
        bounded = correction.known_entries(journal, plan, DAY)
        everything = {e.key: e for e in journal.entries()}
        assert all(everything[key] == entry for key, entry in bounded.items())
        for allow in (False, True):
            decided = [
                correction.decide(config, plan, entries, journal, Path.read_bytes, DAY, allow=allow)
                for entries in (bounded, everything)
            ]
            assert decided[0] == decided[1]
        found = decided[0]
        for name in ("withdraw", "held", "gone", "unsuccessful", "unneeded", "changed_after_sending"):
            if getattr(found, name):
                event(name)
        if any(w.cause is corrections.Cause.CORRECTED for w in found.withdraw):
            event("corrected")
        # what the run's other steps ask of the entries: the planned keys and their withdrawals,
        # the unsent ones (cancelled when no longer due), what holds a planned successor back
        for n in (*plan.notifications, *plan.already_sent, *plan.handover):
            assert bounded.get(n.key) == everything.get(n.key)
            entry = everything.get(n.key)
            if entry is not None:
                assert correction.withdrawal_of(bounded, entry) == correction.withdrawal_of(everything, entry)
            assert ordering.waits_for(n.key, held_back(bounded)) == ordering.waits_for(
                n.key, held_back(everything)
            )
        unsent = [e for e in everything.values() if e.state in correction.UNSENT]
        assert all(bounded.get(e.key) == e for e in unsent)
        # the brake's share, counted in SQL: every submitted notification of the employer
        sent = Counter(e.employer_id for e in everything.values() if e.state in SENT and not e.is_withdrawal)
        assert journal.count_sent(["WG001", "WG002", "WG003", "WG009"]) == sent
