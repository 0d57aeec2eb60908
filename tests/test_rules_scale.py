"""`evaluate` over a million dossiers: the timing figure for the benchmark budget (printed, not
asserted: machines differ) and a check that nothing is lost at that size. Run with `-m slow -s`."""

from __future__ import annotations

import resource
import time
from collections import Counter
from datetime import date, timedelta

import pytest
from rules_builders import employer

from uwvcli.domain.models import Dossier, Kind
from uwvcli.domain.rules import evaluate

RUN_DATE = date(2026, 11, 28)


def synthetic(count: int) -> tuple[list[Dossier], Counter[Kind]]:
    """`count` dossiers in five recurring shapes, and the notifications they must produce."""
    dossiers: list[Dossier] = []
    expected: Counter[Kind] = Counter()
    for n in range(count):
        start = date(2025, 1, 1) + timedelta(days=n % 500)
        common = {
            "source": "bench.csv",
            "line": n + 2,
            "employer_id": "WG001",
            "org_unit_id": "OE2",
            "employee_id": str(n),
            "dossier_id": f"D{n}",
            "bsn": "111222333",
            "birth_date": date(1990, 1, 1),
        }
        shape = n % 10
        if shape < 5:  # short ordinary sickness: nothing for UWV
            dossier = Dossier(
                dossier_type="ziekte", first_sick_day=start, recovery_date=start + timedelta(days=5), **common
            )
        elif shape < 7:  # no-risk sickness, recovered: ziekmelding + full werkhervatting
            recovered = start + timedelta(days=20)
            dossier = Dossier(
                dossier_type="ziekte",
                first_sick_day=start,
                recovery_date=recovered,
                vangnet_status="no_risk",
                **common,
            )
            expected.update([Kind.ZW_ZIEKMELDING, Kind.WERKHERVATTING])
        elif shape < 9:  # long sickness, still open on the run date: an MLA
            dossier = Dossier(dossier_type="ziekte", first_sick_day=start - timedelta(days=300), **common)
            expected[Kind.MLA] += 1
        else:  # a pregnancy
            dossier = Dossier(
                dossier_type="zwangerschap", expected_delivery_date=start + timedelta(days=90), **common
            )
            expected[Kind.WAZO] += 1
        dossiers.append(dossier)
    return dossiers, expected


@pytest.mark.slow
def test_a_million_dossiers(request: pytest.FixtureRequest) -> None:
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("a 20-second timing run: select it with -m slow")
    dossiers, expected = synthetic(1_000_000)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    evaluation = evaluate({"WG001": employer(start_date=date(2024, 1, 1))}, dossiers, RUN_DATE)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = len(evaluation.notifications)
    growth = (rss_after - rss_before) / 1024
    print(
        f"\nevaluate: 1,000,000 dossiers in {seconds:.2f} s ({cpu_seconds:.2f} s CPU), "
        f"{found:,} notifications, "
        f"peak RSS +{growth:.0f} MB"
    )
    assert Counter(n.kind for n in evaluation.notifications) == expected
    assert evaluation.input_errors == []
