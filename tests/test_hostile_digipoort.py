"""A hostile or broken Digipoort (issue 11): what `send` does when the peer misbehaves, end to end
over mutual TLS on loopback against `hostile_digipoort` (a small server of its own that answers
with Digipoort's real service signature where a forged answer needs one). Nothing may be lost,
duplicated, misread or left hanging."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from delivery_support import LHNR, make_config, write_message
from hostile_digipoort import Exchange, HostileDigipoort, Reply, gzip_bomb, honest, resigned
from lxml import etree

from uwvcli.delivery.loop import DeliveryPolicy, send_outbox
from uwvcli.digipoort import soap
from uwvcli.digipoort.addresses import berichtsoort_for
from uwvcli.digipoort.client import MAX_ANSWER_BYTES, DigipoortFault, InDoubt
from uwvcli.domain.keys import aanleverkenmerk, parse_key
from uwvcli.domain.models import Kind
from uwvcli.state.journal import Journal

WAZO = "UWV_WAZO_AANVRAAG"
POLICY = DeliveryPolicy(
    retries=3,
    backoff_seconds=0.05,
    settle_checks=3,
    settle_wait_seconds=0.1,
    processing_margin=timedelta(seconds=1),
    poll_interval_seconds=0.1,
)
MARKERS = ["comment", "processing instruction"]


@pytest.fixture
def hostile(tmp_path: Path):  # type: ignore[no-untyped-def]
    with HostileDigipoort(tmp_path / "state") as server:
        yield server


@pytest.fixture
def outbox(tmp_path: Path, hostile: HostileDigipoort):  # type: ignore[no-untyped-def]
    config = make_config(tmp_path / "uwvcli")
    with Journal.open(config.paths.state) as journal:
        yield config, journal


def _write(outbox, hostile: HostileDigipoort, *keys: str) -> list[str]:  # type: ignore[no-untyped-def]
    config, journal = outbox
    for i, key in enumerate(keys):
        write_message(config, journal, hostile.credentials, key, employee_id=str(1000 + i))
    return [aanleverkenmerk(parse_key(key)) for key in keys]


def _send(outbox, hostile: HostileDigipoort, *, poll_seconds: float = 2.0, **client_options: object):  # type: ignore[no-untyped-def]
    config, journal = outbox
    options = {"timeout": 5.0, **client_options}
    with hostile.client(**options) as client:
        return send_outbox(
            config,
            journal,
            client=client,
            parallelism=4,
            poll_seconds=poll_seconds,
            policy=POLICY,
            signer=hostile.credentials.certificate,
        )


def _is_aanleveren(exchange: Exchange) -> bool:
    return exchange.path == soap.AANLEVER_PATH


def _mark(root: etree._Element, names: tuple[str, ...], marker: str) -> None:
    """A comment or processing instruction inside the text of every element named `names` (any
    namespace), after its first character: `<kenmerk>2<!---->76e2900-…</kenmerk>`."""
    count = 0
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in names and element.text:
            inserted = etree.Comment("") if marker == "comment" else etree.PI("uwvcli", "x")
            element.text, inserted.tail = element.text[:1], element.text[1:]
            element.insert(0, inserted)
            count += 1
    assert count, f"no {names} in the answer"


def marking(names: tuple[str, ...], marker: str):  # type: ignore[no-untyped-def]
    """Every answer with `marker` inside those values, signed again with Digipoort's key (a
    comment leaves the old signature valid anyway: exclusive C14N without comments skips it)."""

    def behaviour(exchange: Exchange) -> Reply:
        answer = exchange.answer()
        if answer.status == 200:
            answer = replace(
                answer, body=resigned(exchange.backend, answer.body, lambda r: _mark(r, names, marker))
            )
        else:
            root = etree.fromstring(answer.body)
            _mark(root, names, marker)
            answer = replace(answer, body=etree.tostring(root))
        return honest(answer)

    return behaviour


def _process_of(hostile: HostileDigipoort, berichtsoort: str = WAZO) -> list[str]:
    return hostile.backend.store.processes(berichtsoort, LHNR, "LHnr")


# ---------------------------------------------------------------- comments inside signed content


@pytest.mark.parametrize("marker", MARKERS)
def test_a_comment_inside_the_kenmerk_and_the_statuscode_changes_nothing_uwvcli_reads(
    hostile: HostileDigipoort, outbox, marker: str
) -> None:
    """`<kenmerk>276e2900<!---->-1fb2…` was read as `276e2900`, `5<!---->00` as `5`: acceptance
    never recorded. Values are read from the verified canonical content instead."""
    (reference,) = _write(outbox, hostile, "WG1/D1/wazo")
    hostile.behaviour = marking(("kenmerk", "statuscode"), marker)
    report = _send(outbox, hostile)
    (kenmerk,) = _process_of(hostile)
    entry = outbox[1].entry("WG1/D1/wazo")
    assert entry.kenmerk == kenmerk, "the whole kenmerk, not the part before the comment"
    assert entry.state == "accepted" and report.lines[0].code == "500"
    assert hostile.received(reference) == 1


@pytest.mark.parametrize("marker", MARKERS)
def test_every_value_read_from_an_aanleveren_answer_ignores_comments(
    hostile: HostileDigipoort, marker: str
) -> None:
    from digipoort_support import submit

    hostile.behaviour = marking(
        ("kenmerk", "tijdstempelAangeleverd", "aanleverkenmerk", "berichtsoort", "Action", "RelatesTo"),
        marker,
    )
    with hostile.client() as client:
        result = submit(client, "WG1-D1-WAZO")
        hostile.behaviour = lambda exchange: honest(exchange.answer())
        history = client.get_statussen_proces(result.kenmerk)
    assert [result.kenmerk] == hostile.backend.store.processes("UWV_ZW_ZIEKMELDING", LHNR, "LHnr"), (
        "digipoort_support.submit sends a ziekmelding"
    )
    assert result.aanleverkenmerk == "WG1-D1-WAZO" and result.berichtsoort == "UWV_ZW_ZIEKMELDING"
    assert result.timestamp == history[0].timestamp, "tijdstempelAangeleverd is the first status's moment"


@pytest.mark.parametrize("marker", MARKERS)
@pytest.mark.parametrize("flow", ["FLOW-311", "FLOW-410"])
def test_every_value_read_from_a_status_history_ignores_comments(
    hostile: HostileDigipoort, marker: str, flow: str
) -> None:
    from digipoort_support import submit

    with hostile.client() as client:
        kenmerk = submit(client, f"WG1-D1-{flow}").kenmerk
        honest_history = client.get_statussen_proces(kenmerk)
        names = (
            "statuscode",
            "tijdstempelStatus",
            "statusomschrijving",
            "foutcode",
            "foutbeschrijving",
            "statusdetails",
        )
        hostile.behaviour = marking(names, marker)
        marked_history = client.get_statussen_proces(kenmerk)
        marked_new = client.get_nieuwe_statussen_proces(kenmerk)
    assert marked_history == honest_history
    assert marked_new == honest_history, "the first getNieuweStatussenProces returns them all"
    assert any(status.foutcode for status in honest_history)


@pytest.mark.parametrize("marker", MARKERS)
def test_every_value_read_from_the_process_list_ignores_comments(
    hostile: HostileDigipoort, marker: str
) -> None:
    from digipoort_support import submit

    with hostile.client() as client:
        submit(client, "WG1-D1-ZM")
        honest_list = client.get_processen("UWV_ZW_ZIEKMELDING", LHNR)
        hostile.behaviour = marking(("kenmerk", "berichtsoort", "nummer", "type"), marker)
        assert client.get_processen("UWV_ZW_ZIEKMELDING", LHNR) == honest_list
    assert len(honest_list) == 1


@pytest.mark.parametrize("marker", MARKERS)
def test_a_comment_inside_an_unsigned_fault_does_not_change_its_foutcode(
    hostile: HostileDigipoort, marker: str
) -> None:
    from digipoort_support import submit

    hostile.behaviour = marking(("foutcode",), marker)
    with hostile.client() as client, pytest.raises(DigipoortFault) as caught:
        submit(client, "WG1-D1-FAULT-ALS100")
    assert caught.value.foutcode == "ALS100"


# ---------------------------------------------------------------- transient faults


def _transient_first(times: int):  # type: ignore[no-untyped-def]
    """ALS400 ("technical fault, send again later") for the first `times` aanleveren, unprocessed."""
    seen = {"aanleveren": 0}

    def behaviour(exchange: Exchange) -> Reply:
        if _is_aanleveren(exchange):
            seen["aanleveren"] += 1
            if seen["aanleveren"] <= times:
                fault = soap.fault_envelope(
                    soap.AANLEVEREN,
                    "ALS400",
                    "Er is een technische fout opgetreden. Probeer het later opnieuw.",
                    relates_to=None,
                )
                return Reply(500, {"Content-Type": "text/xml", "Content-Length": str(len(fault))}, [fault])
        return honest(exchange.answer())

    return behaviour


def test_a_transient_fault_is_retried_in_the_run_and_never_recorded_as_rejected(
    hostile: HostileDigipoort, outbox
) -> None:
    (reference,) = _write(outbox, hostile, "WG1/D1/wazo")
    hostile.behaviour = _transient_first(2)
    report = _send(outbox, hostile)
    assert report.lines[0].state == "accepted"
    assert hostile.received(reference) == 1
    assert [a.outcome for a in outbox[1].attempts("WG1/D1/wazo")] == ["accepted"]


def test_a_transient_fault_that_outlasts_the_retries_goes_on_the_next_run(
    hostile: HostileDigipoort, outbox
) -> None:
    keys = ["WG1/D1/wazo", "WG1/D1/zw-ziekmelding"]
    _write(outbox, hostile, *keys)
    hostile.behaviour = _transient_first(10**6)  # all day long
    first = _send(outbox, hostile)
    assert {line.state for line in first.lines} == {"not_sent"} and first.needs_attention
    assert {outbox[1].entry(k).state for k in keys} == {"written"}, "not rejected: nothing was processed"
    assert "ALS400" in first.lines[0].reason
    hostile.behaviour = lambda exchange: honest(exchange.answer())  # the next day
    second = _send(outbox, hostile)
    assert {line.state for line in second.lines} == {"accepted"}
    assert sum(hostile.received(aanleverkenmerk(parse_key(k))) for k in keys) == 2


# ---------------------------------------------------------------- redirects and unexpected statuses


@pytest.mark.parametrize("status", [302, 307, 404, 502])
def test_a_redirect_or_unexpected_status_after_processing_is_settled_never_resent(
    hostile: HostileDigipoort, outbox, status: int
) -> None:
    """A server that processed every POST and answered 302 got 6 processes per message."""
    references = _write(outbox, hostile, "WG1/D1/wazo", "WG1/D2/zw-ziekmelding")

    def behaviour(exchange: Exchange) -> Reply:
        answer = exchange.answer()
        if _is_aanleveren(exchange):
            return Reply(status, {"Location": "https://127.0.0.1:1/elsewhere", "Content-Length": "0"})
        return honest(answer)

    hostile.behaviour = behaviour
    report = _send(outbox, hostile)
    assert [hostile.received(r) for r in references] == [1, 1]
    assert {line.state for line in report.lines} == {"accepted"}, [line.reason for line in report.lines]


# ---------------------------------------------------------------- unbounded answers


def _after_processing(reply: Reply):  # type: ignore[no-untyped-def]
    def behaviour(exchange: Exchange) -> Reply:
        answer = exchange.answer()
        return reply if _is_aanleveren(exchange) else honest(answer)

    return behaviour


BOMB = gzip_bomb(8 * MAX_ANSWER_BYTES)


def test_a_gzip_bomb_is_cut_off_at_the_size_cap_and_the_message_settled(
    hostile: HostileDigipoort, outbox
) -> None:
    (reference,) = _write(outbox, hostile, "WG1/D1/wazo")
    hostile.behaviour = _after_processing(
        Reply(
            200,
            {"Content-Type": "text/xml", "Content-Encoding": "gzip", "Content-Length": str(len(BOMB))},
            [BOMB],
        )
    )
    report = _send(outbox, hostile)
    assert report.lines[0].state == "accepted"
    assert hostile.received(reference) == 1


def test_an_answer_announcing_1_5_gb_is_not_read(hostile: HostileDigipoort, outbox) -> None:
    (reference,) = _write(outbox, hostile, "WG1/D1/wazo")
    zeros = bytes(1024 * 1024)
    hostile.behaviour = _after_processing(
        Reply(
            200,
            {"Content-Type": "text/xml", "Content-Length": str(1536 * 1024 * 1024)},
            (zeros for _ in range(1536)),
        )
    )
    report = _send(outbox, hostile)
    assert report.lines[0].state == "accepted"
    assert hostile.received(reference) == 1
    assert hostile.written < 256 * 1024 * 1024, "the client hung up long before the end"


def test_an_endless_answer_is_cut_off_at_the_size_cap(hostile: HostileDigipoort) -> None:
    from digipoort_support import submit

    zeros = bytes(1024 * 1024)
    hostile.behaviour = _after_processing(
        Reply(200, {"Content-Type": "text/xml"}, (zeros for _ in range(1536)))
    )
    with hostile.client() as client, pytest.raises(InDoubt, match="exceeds"):
        submit(client, "WG1-D1-ZM")
    assert hostile.written < 4 * MAX_ANSWER_BYTES


def _drip(answer_body: bytes) -> Reply:
    return Reply(
        200,
        {"Content-Type": "text/xml", "Content-Length": str(len(answer_body))},
        iter(answer_body[i : i + 1] for i in range(len(answer_body))),
        pause=2.0,
    )


def test_a_dripping_answer_to_aanleveren_ends_at_the_deadline_in_doubt_and_is_settled(
    hostile: HostileDigipoort, outbox
) -> None:
    """One byte every 2 s never trips a socket timeout; the total deadline ends it, and the
    message (which did arrive) is adopted from the process list, not sent again."""
    (reference,) = _write(outbox, hostile, "WG1/D1/wazo")

    def behaviour(exchange: Exchange) -> Reply:
        answer = exchange.answer()
        return _drip(answer.body) if _is_aanleveren(exchange) else honest(answer)

    hostile.behaviour = behaviour
    report = _send(outbox, hostile, timeout=5.0, deadline=3.0)
    assert report.lines[0].state == "accepted"
    assert hostile.received(reference) == 1


def test_a_dripping_status_answer_ends_at_the_deadline_and_is_asked_again_next_run(
    hostile: HostileDigipoort, outbox
) -> None:
    (reference,) = _write(outbox, hostile, "WG1/D1/wazo")

    def behaviour(exchange: Exchange) -> Reply:
        answer = exchange.answer()
        is_history = b"getStatussenProcesRequest" in exchange.body
        return _drip(answer.body) if is_history else honest(answer)

    hostile.behaviour = behaviour
    report = _send(outbox, hostile, poll_seconds=0.0, timeout=5.0, deadline=2.0)
    line = report.lines[0]
    assert line.state == "submitted" and "deadline" in line.reason
    assert hostile.received(reference) == 1


# ---------------------------------------------------------------- nothing verified is not "fine"


def test_unverifiable_status_answers_are_a_problem_not_silence(hostile: HostileDigipoort, outbox) -> None:
    _write(outbox, hostile, "WG1/D1/wazo")

    def behaviour(exchange: Exchange) -> Reply:
        answer = exchange.answer()
        if b"getStatussenProcesRequest" in exchange.body:  # altered after signing
            answer = replace(answer, body=answer.body.replace(b"Aanleveren gelukt", b"Aanleveren GELUKT"))
        return honest(answer)

    hostile.behaviour = behaviour
    report = _send(outbox, hostile, poll_seconds=0.0)
    line = report.lines[0]
    assert line.state == "unverified" and report.needs_attention
    assert outbox[1].entry("WG1/D1/wazo").state == "submitted"


def test_an_unknown_kenmerk_sts100_is_a_problem_not_silence(hostile: HostileDigipoort, outbox) -> None:
    _write(outbox, hostile, "WG1/D1/wazo")

    def behaviour(exchange: Exchange) -> Reply:
        answer = exchange.answer()
        if b"getStatussenProcesRequest" in exchange.body:
            fault = soap.fault_envelope(
                soap.GET_STATUSSEN_PROCES, "STS100", "Kenmerk onbekend.", relates_to=None
            )
            return Reply(500, {"Content-Type": "text/xml", "Content-Length": str(len(fault))}, [fault])
        return honest(answer)

    hostile.behaviour = behaviour
    report = _send(outbox, hostile, poll_seconds=0.0)
    assert report.lines[0].state == "unverified" and "STS100" in report.lines[0].reason
    assert report.needs_attention


def test_the_berichtsoort_of_the_test_outbox_is_the_simulators(outbox) -> None:
    config, _ = outbox
    assert berichtsoort_for(config.digipoort, Kind.WAZO) == WAZO


def test_a_gzip_bomb_never_unpacks_beyond_the_cap_in_memory(hostile: HostileDigipoort) -> None:
    """2 MB of gzip unpacked to 2 GiB drove `send` to 16.8 GB; reading stops at the cap."""
    import tracemalloc

    from digipoort_support import submit

    hostile.behaviour = _after_processing(
        Reply(
            200,
            {"Content-Type": "text/xml", "Content-Encoding": "gzip", "Content-Length": str(len(BOMB))},
            [BOMB],
        )
    )
    tracemalloc.start()
    try:
        with hostile.client() as client, pytest.raises(InDoubt, match="exceeds"):
            submit(client, "WG1-D1-ZM")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_ANSWER_BYTES
