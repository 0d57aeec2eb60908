"""The local Digipoort: it refuses what Digipoort refuses (with Digipoort's faults), answers
what the reference schema allows, signs with its service certificate, keeps its processes across
restarts, advances them over time, and runs as `uwvcli simulator` until stopped."""

from __future__ import annotations

import dataclasses
import itertools
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from digipoort_support import (
    BERICHTSOORT,
    LHNR,
    Setup,
    own_schema,
    payload_of,
    reference_schema,
    running_simulator,
    seed_test_pki,
    submit,
    xmlsec1_verify,
)
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from message_samples import CREATED, SENDER, build, cases, employer
from typer.testing import CliRunner

from uwvcli.app.credentials import load_credentials
from uwvcli.cli.app import app
from uwvcli.digipoort import soap
from uwvcli.digipoort.client import DigipoortClient
from uwvcli.digipoort.wss import sign_envelope, verify_envelope
from uwvcli.domain.models import Sender
from uwvcli.messages.build import build_message, build_withdrawal, referentie_melding
from uwvcli.simulator.pki import ensure_test_pki
from uwvcli.simulator.server import STORE_NAME, lifecycle

FLOWS = [None, "210", "230", "311", "321", "400", "410", "420", "510"]
FINAL = {None: "500", "210": "210", "230": "230", "311": "311", "321": "321", "400": "400", "410": "410",
         "420": "420", "510": "510"}  # fmt: skip


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    with running_simulator(tmp_path / "state") as running:
        yield running


# ------------------------------------------------------------------------ lifecycles


@given(flow=st.sampled_from(FLOWS), problems=st.sampled_from([[], ["a problem"], None]))
def test_every_lifecycle_starts_like_digipoort_and_ends_in_one_end_state(flow: str | None, problems) -> None:  # type: ignore[no-untyped-def]
    """Authentication comes before validation, validation before delivery: an earlier failure wins."""
    codes = [s.code for s in lifecycle(flow, problems)]
    assert codes[:3] == ["105", "100", "110"]
    if flow in ("210", "230"):
        expected = flow
    elif problems is None or flow == "321":
        expected = "321"
    elif problems or flow == "311":
        expected = "311"
    else:
        expected = FINAL[flow]
    assert codes[-1] == expected
    assert sum(code in ("500", "510", "210", "230", "311", "321", "410") for code in codes) <= 1


def test_content_problems_travel_in_the_311_details() -> None:
    final = lifecycle(None, ["first problem", "second problem"])[-1]
    assert (final.code, final.foutcode, final.details) == ("311", "VAS500", "first problem\nsecond problem")


def test_timed_lifecycle_reveals_one_status_per_step(tmp_path: Path) -> None:
    step = 0.5
    timed = running_simulator(tmp_path / "state", lifecycle="timed", step=timedelta(seconds=step))
    with timed as setup, setup.client() as client:
        started = time.monotonic()
        kenmerk = submit(client, "WG001-D1-ZM").kenmerk
        first = [s.code for s in client.get_statussen_proces(kenmerk)]
        time.sleep(2.2 * step)
        later = [s.code for s in client.get_statussen_proces(kenmerk)]
        new = [s.code for s in client.get_nieuwe_statussen_proces(kenmerk)]
        elapsed = time.monotonic() - started
    assert first[0] == "105" and len(first) <= 1 + (elapsed // step)
    assert later[:3] == ["105", "100", "110"] and len(first) < len(later) < 8
    assert new[: len(later)] == later, "the new statuses are those not fetched before, in order"


def test_timestamps_increase_in_lifecycle_order(setup: Setup) -> None:
    with setup.client() as client:
        statuses = client.get_statussen_proces(submit(client, "WG001-FLOW-420").kenmerk)
    assert [s.code for s in statuses] == ["105", "100", "110", "200", "301", "405", "420", "420"]
    assert all(a.timestamp < b.timestamp for a, b in itertools.pairwise(statuses))


# ------------------------------------------------------------------------ Digipoort's refusals


def _signed_envelope(setup: Setup, operation: soap.Operation, payload: etree._Element, **options) -> bytes:  # type: ignore[no-untyped-def]
    """A request the client would never send: `options` change one thing about it."""
    url = options.pop(
        "to", setup.simulator.aanlever_url if operation is soap.AANLEVEREN else setup.simulator.status_url
    )
    root, _ = soap.envelope(payload, action=options.pop("action", operation.action), to=url)
    header = root.find(f"{{{soap.SOAP11}}}Header")
    unsigned = options.pop("unsigned_header", None)
    if unsigned is not None:
        removed = header.find(f"{{{soap.WSA}}}{unsigned}")
        header.remove(removed)
    key = options.pop("key", setup.credentials.private_key)
    certificate = options.pop("certificate", setup.credentials.certificate)
    sign_envelope(root, private_key=key, certificate=certificate, **options)
    if unsigned is not None:  # put it back after signing: present, but not covered
        element = etree.SubElement(header, f"{{{soap.WSA}}}{unsigned}")
        element.set(f"{{{soap.WSU}}}Id", "late-1")
        element.text = removed.text
    return soap.serialize(root)


def _aanlever_payload(**changes: str) -> etree._Element:
    values = {"berichtsoort": BERICHTSOORT, "aanleverkenmerk": "WG001-D1-ZM", "loonheffingennummer": LHNR,
              "rol": "Bedrijf", "bestandsnaam": "WG001-D1-ZM.xml", "inhoud_base64": "PHgvPg=="}  # fmt: skip
    values.update(changes)
    return soap.aanlever_request(**values)


def _post(
    setup: Setup,
    body: bytes,
    *,
    url: str | None = None,
    action: str | None = None,
    content_type: str = "text/xml; charset=UTF-8",
):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": content_type, "SOAPAction": f'"{action or soap.AANLEVEREN.action}"'}
    with setup.raw_session() as session:
        return session.post(url or setup.simulator.aanlever_url, data=body, headers=headers, timeout=10)


def _fault(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 500
    fault = soap.find_fault(soap.parse_xml(response.content))
    assert fault is not None and fault.faultcode == "soapenv:Client" and fault.faultstring == "Algemene fout"
    return fault.foutcode or "", fault.foutbeschrijving or ""


REFUSED = {  # what is wrong: (signing options, aanleverRequest changes, what the fault says)
    "WS-A header not signed": ({"unsigned_header": "To"}, {}, "does not cover wsa:To"),
    "wrong To": ({"to": "https://elsewhere.example/wus"}, {}, "wsa:To"),
    "stale timestamp": ({"now": datetime.now(UTC) - timedelta(minutes=30)}, {}, "expired"),
    "unknown berichtsoort": ({}, {"berichtsoort": "ONBEKEND"}, "berichtsoort 'ONBEKEND'"),
    "aanleverkenmerk too long": ({}, {"aanleverkenmerk": "X" * 41}, "schemafout"),
    "not a loonheffingennummer": ({}, {"loonheffingennummer": "12345"}, "loonheffingennummer"),
    "inhoud not base64": ({}, {"inhoud_base64": "@@@"}, "base64"),
    "not a role": ({}, {"rol": "Werknemer"}, "rolBelanghebbende"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_requests_digipoort_would_refuse_get_als100(setup: Setup, shared: Path, case: str) -> None:
    options, changes, detail = REFUSED[case]
    response = _post(setup, _signed_envelope(setup, soap.AANLEVEREN, _aanlever_payload(**changes), **options))
    _assert_refused(response, shared, detail)


def test_a_signature_by_another_than_the_tls_client_is_refused(setup: Setup, shared: Path) -> None:
    body = _signed_envelope(
        setup, soap.AANLEVEREN, _aanlever_payload(), key=_service_key(setup), certificate=_service_cert(setup)
    )
    _assert_refused(_post(setup, body), shared, "other than the expected one")


def test_another_operations_payload_is_refused(setup: Setup, shared: Path) -> None:
    body = _signed_envelope(setup, soap.AANLEVEREN, soap.processen_request(BERICHTSOORT, LHNR))
    _assert_refused(_post(setup, body), shared, "aanleverRequest")


def test_an_unsigned_request_is_refused(setup: Setup, shared: Path) -> None:
    root, _ = soap.envelope(
        _aanlever_payload(), action=soap.AANLEVEREN.action, to=setup.simulator.aanlever_url
    )
    _assert_refused(_post(setup, soap.serialize(root)), shared, "wsse:Security (found 0)")


def test_something_that_is_not_soap_is_refused(setup: Setup, shared: Path) -> None:
    _assert_refused(_post(setup, b"<x/>"), shared, "geen SOAP 1.1 Envelope")


def _assert_refused(response, shared: Path, detail: str) -> None:  # type: ignore[no-untyped-def]
    foutcode, foutbeschrijving = _fault(response)
    assert foutcode == "ALS100"
    assert foutbeschrijving.startswith("Het verzoek voldoet niet aan de koppelvlakspecificaties")
    assert detail in foutbeschrijving
    assert reference_schema(shared).validate(payload_of(response.content))
    assert soap.parse_xml(response.content).find(f".//{{{soap.WSSE}}}Security") is None, (
        "faults are not signed"
    )


def _service_key(setup: Setup):  # type: ignore[no-untyped-def]
    return serialization.load_pem_private_key(setup.simulator.pki.service_key.read_bytes(), None)


def _service_cert(setup: Setup) -> x509.Certificate:
    return x509.load_pem_x509_certificate(setup.simulator.pki.service_cert.read_bytes())


def test_soap_12_is_refused(setup: Setup) -> None:
    body = _signed_envelope(setup, soap.AANLEVEREN, _aanlever_payload())
    foutcode, text = _fault(_post(setup, body, content_type="application/soap+xml; charset=UTF-8"))
    assert foutcode == "ALS100" and "SOAP 1.2" in text


def test_soapaction_must_match_the_addressing_action(setup: Setup) -> None:
    body = _signed_envelope(setup, soap.AANLEVEREN, _aanlever_payload())
    foutcode, text = _fault(_post(setup, body, action=soap.GET_PROCESSEN.action))
    assert foutcode == "ALS100" and "SOAPAction" in text


def test_own_header_blocks_are_refused(setup: Setup) -> None:
    root = soap.parse_xml(_signed_envelope(setup, soap.AANLEVEREN, _aanlever_payload()))
    etree.SubElement(root.find(f"{{{soap.SOAP11}}}Header"), "{urn:example}Mine").text = "x"
    foutcode, text = _fault(_post(setup, soap.serialize(root)))
    assert foutcode == "ALS100" and "'Mine'" in text


def test_status_calls_are_refused_with_sts100(setup: Setup) -> None:
    body = _signed_envelope(
        setup,
        soap.GET_STATUSSEN_PROCES,
        soap.statussen_request(soap.GET_STATUSSEN_PROCES, "k"),
        unsigned_header="Action",
    )
    response = _post(setup, body, url=setup.simulator.status_url, action=soap.GET_STATUSSEN_PROCES.action)
    foutcode, text = _fault(response)
    assert foutcode == "STS100" and "does not cover wsa:Action" in text
    action = soap.addressing(soap.parse_xml(response.content).find(f"{{{soap.SOAP11}}}Header"))["Action"]
    assert action == soap.GET_STATUSSEN_PROCES.fault_action


# ------------------------------------------------------------------------ what it answers


def test_answers_validate_against_both_schemas_and_are_signed_by_the_service_certificate(
    setup: Setup, shared: Path, tmp_path: Path
) -> None:
    with setup.client() as client:
        kenmerk = submit(client, "WG001-FLOW-311").kenmerk
        requests_sent = []
        for operation, payload in [
            (soap.GET_STATUSSEN_PROCES, soap.statussen_request(soap.GET_STATUSSEN_PROCES, kenmerk)),
            (
                soap.GET_NIEUWE_STATUSSEN_PROCES,
                soap.statussen_request(soap.GET_NIEUWE_STATUSSEN_PROCES, kenmerk),
            ),
            (soap.GET_PROCESSEN, soap.processen_request(BERICHTSOORT, LHNR)),
        ]:
            body = _signed_envelope(setup, operation, payload)
            requests_sent.append(body)
            response = _post(setup, body, url=setup.simulator.status_url, action=operation.action)
            assert response.status_code == 200
            answer = payload_of(response.content)
            assert reference_schema(shared).validate(answer), reference_schema(shared).error_log
            assert own_schema().validate(answer)
            verified = verify_envelope(response.content, trusted_certificate=_service_cert(setup))
            assert (
                soap.addressing(verified.header)["RelatesTo"]
                == soap.addressing(soap.parse_xml(body).find(f"{{{soap.SOAP11}}}Header"))["MessageID"]
            )
            result = xmlsec1_verify(response.content, setup.simulator.service_certificate, tmp_path)
            assert result is None or result.returncode == 0, result.stderr


def test_own_schema_agrees_with_the_reference_on_requests(shared: Path) -> None:
    reference, own = reference_schema(shared), own_schema()
    good = [
        _aanlever_payload(),
        soap.statussen_request(soap.GET_STATUSSEN_PROCES, "k"),
        soap.statussen_request(soap.GET_NIEUWE_STATUSSEN_PROCES, "k"),
        soap.processen_request(BERICHTSOORT, LHNR),
    ]
    bad = [
        _aanlever_payload(aanleverkenmerk="X" * 41),
        _aanlever_payload(bestandsnaam="b" * 81),
        soap.statussen_request(soap.GET_STATUSSEN_PROCES, "k" * 41),
    ]
    missing = _aanlever_payload()
    missing.remove(missing.find(f"{{{soap.KV}}}berichtsoort"))
    for payload in good:
        assert reference.validate(payload) and own.validate(payload)
    for payload in [*bad, missing]:
        assert not reference.validate(payload) and not own.validate(payload)


def test_rsa_sha256_requests_are_accepted_too(setup: Setup) -> None:
    with setup.client(signature_algorithm="rsa-sha256") as client:
        assert submit(client, "WG001-D1-ZM").kenmerk
    assert setup.simulator.received("WG001-D1-ZM") == 1


def test_a_trusted_extra_sender_certificate_from_another_ca_is_accepted(tmp_path: Path) -> None:
    other = ensure_test_pki(tmp_path / "own-ca")  # a sender certificate from a CA the simulator does not know
    with running_simulator(tmp_path / "state", trust=[other.sender_cert]) as setup:
        sender = Sender(
            name="Eigen", role="Bedrijf", certificate=other.sender_cert, private_key=other.sender_key
        )
        credentials = load_credentials(sender, environment="custom", state_dir=tmp_path)
        with DigipoortClient(
            setup.simulator.aanlever_url,
            setup.simulator.status_url,
            credentials,
            ca_bundle=setup.simulator.ca_bundle,
            service_certificate=setup.simulator.service_certificate,
        ) as client:
            assert submit(client, "WG001-D1-ZM").kenmerk


def test_processes_and_counts_survive_a_restart_and_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with running_simulator(state) as first, first.client() as client:
        kenmerk = submit(client, "WG001-D1-ZM").kenmerk
    with running_simulator(state) as second, second.client() as client:
        assert client.get_statussen_proces(kenmerk)[-1].code == "500"
        assert second.simulator.received("WG001-D1-ZM") == 1
    folder = state / "simulator"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / STORE_NAME).stat().st_mode) == 0o600
    assert (
        b"<x" not in (folder / STORE_NAME).read_bytes()
        and b"111222333" not in (folder / STORE_NAME).read_bytes()
    )


def test_counts_endpoint_reports_received_and_attempts(setup: Setup) -> None:
    with setup.client() as client:
        submit(client, "WG001-D1-ZM")
        submit(client, "WG001-D1-ZM")
        with pytest.raises(Exception):  # noqa: B017 - the first HTTP503 is refused
            submit(client, "WG001-HTTP503")
    with setup.raw_session() as session:
        everything = session.get(setup.simulator.base_url + "/simulator/received", timeout=5).json()
        one = session.get(
            setup.simulator.base_url + "/simulator/received",
            params={"aanleverkenmerk": "WG001-D1-ZM"},
            timeout=5,
        ).json()
    assert everything == {"received": {"WG001-D1-ZM": 2}, "attempts": {"WG001-D1-ZM": 2, "WG001-HTTP503": 1}}
    assert one == {"aanleverkenmerk": "WG001-D1-ZM", "received": 2, "attempts": 2}


def test_scenario_applies_a_marker_to_every_message(tmp_path: Path) -> None:
    with running_simulator(tmp_path / "state", scenario="FLOW-510") as setup, setup.client() as client:
        statuses = client.get_statussen_proces(submit(client, "WG001-D1-ZM").kenmerk)
    assert statuses[-1].code == "510" and "afgekeurd" in (statuses[-1].details or "")


def test_a_message_check_that_breaks_is_digipoorts_321(tmp_path: Path) -> None:
    def broken(content: bytes) -> list[str]:
        raise RuntimeError("validator down")

    with running_simulator(tmp_path / "state", check_content=broken) as setup, setup.client() as client:
        statuses = client.get_statussen_proces(submit(client, "WG001-D1-ZM").kenmerk)
    assert (statuses[-1].code, statuses[-1].foutcode) == ("321", "VAS400")


# ------------------------------------------------------------------------ uwvcli simulator


def test_cli_refuses_a_non_loopback_address(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulator", "--host", "0.0.0.0", "--folder", str(tmp_path / "sim")])
    assert result.exit_code == 2
    assert "not a loopback address" in result.stderr and "--allow-remote" in result.stderr
    assert not (tmp_path / "sim").exists()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_cli_runs_the_simulator_as_a_service_until_stopped(tmp_path: Path, stop_signal: int) -> None:
    folder = tmp_path / "sim"
    seed_test_pki(tmp_path)
    folder.mkdir(mode=0o700)
    (tmp_path / "test-pki").rename(folder / "test-pki")
    uwvcli = Path(sys.executable).parent / "uwvcli"
    process = subprocess.Popen(
        [str(uwvcli), "simulator", "--port", "0", "--folder", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        lines = []
        while not any("service_certificate:" in line for line in lines):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line.strip())
        settings = dict(line.split(": ", 1) for line in lines if ": " in line)
        credentials = load_credentials(
            Sender(
                name="T",
                role="Bedrijf",
                certificate=Path(settings["certificate"]),
                private_key=Path(settings["private_key"]),
            ),
            environment="custom",
            state_dir=tmp_path,
        )
        with DigipoortClient(
            settings["aanlever_url"],
            settings["status_url"],
            credentials,
            ca_bundle=Path(settings["ca_bundle"]),
            service_certificate=Path(settings["service_certificate"]),
        ) as client:
            kenmerk = submit(client, "WG001-D1-ZM").kenmerk
            assert client.get_statussen_proces(kenmerk)[-1].code == "500"
        assert settings["aanlever_url"].startswith("https://127.0.0.1:")
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
        assert "simulator stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# ------------------------------------------------------------------------ withdrawals (RULES 4.6)


def _final(client: DigipoortClient, aanleverkenmerk: str, inhoud: bytes) -> str:
    return client.get_statussen_proces(submit(client, aanleverkenmerk, inhoud).kenmerk)[-1].code


#: Dossier ids that give keys of 18 characters, 63 (revision 1 is the key itself, revision 2 no
#: longer fits behind it) and 70 (revision 1 already shortened).
_DOSSIERS = ["Z-17", "Z" * (63 - len("WG001//zw-ziekmelding")), "Z" * (70 - len("WG001//zw-ziekmelding"))]


@pytest.mark.parametrize(
    ("style", "dossier_id"),
    [("indicator", _DOSSIERS[0]), ("melding-intrekking", _DOSSIERS[0]), ("indicator", _DOSSIERS[1]),
     ("melding-intrekking", _DOSSIERS[2])],
)  # fmt: skip
def test_the_receiver_holds_one_version_and_a_withdrawal_must_name_one_it_holds(
    setup: Setup, style: str, dossier_id: str
) -> None:
    n, d = cases()["zw-vangnet"]
    d = dataclasses.replace(d, dossier_id=dossier_id)
    n = dataclasses.replace(n, key=n.key._replace(dossier_id=dossier_id), dossier_id=dossier_id)
    first = build(n, d)
    withdraw = build_withdrawal(
        first, SENDER, style=style, aanleverkenmerk="WG001-Z-17-ZM-I1", created=CREATED
    )
    second = build_message(
        n, d, employer(), SENDER, aanleverkenmerk="WG001-Z-17-ZM-r2", created=CREATED, revision=2
    )
    with setup.client() as client:
        assert _final(client, "WG001-Z-17-ZM-I0", withdraw) == "311"  # nothing held yet
        assert _final(client, "WG001-Z-17-ZM", first) == "500"
        assert _final(client, "WG001-Z-17-ZM-r2", second) == "311"  # the first is still held
        assert _final(client, "WG001-Z-17-ZM-I1", withdraw) == "500"
        assert _final(client, "WG001-Z-17-ZM-I1-r2", withdraw) == "311"  # already withdrawn
        assert _final(client, "WG001-Z-17-ZM-r3", second) == "500"
    assert setup.simulator.meldingen() == [
        ("send", referentie_melding(n.key)),
        ("withdraw", referentie_melding(n.key)),
        ("send", referentie_melding(n.key, 2)),
    ]


def test_a_store_kept_from_an_older_version_links_long_keys_revisions_too(tmp_path: Path) -> None:
    """Older versions shortened revision 2 of a long key to another base: reopened, the store
    holds every melding under the base `reference_base` gives it now."""
    import sqlite3

    from uwvcli.simulator.server import Melding, _Store

    n, _ = cases()["zw-vangnet"]
    key = n.key._replace(dossier_id=_DOSSIERS[2])
    first = referentie_melding(key)
    _Store(tmp_path / "store.sqlite").close()
    with sqlite3.connect(tmp_path / "store.sqlite") as db:
        db.execute(
            "INSERT INTO melding (nummer, reference, base, action) VALUES (?, ?, ?, 'send')",
            (LHNR, first, first),
        )
    store = _Store(tmp_path / "store.sqlite")
    try:
        with store._transaction() as db:
            refusal = _Store._hold(db, Melding(LHNR, referentie_melding(key, 2), withdrawal=False))
    finally:
        store.close()
    assert refusal is not None and "eerdere versie" in refusal  # revision 1 is still held
