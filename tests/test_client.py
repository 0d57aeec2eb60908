"""The WUS client over real HTTPS with mutual TLS, against the simulator on loopback: what it
sends is what Digipoort's schema and signature profile want, and every way a call can end is
reported as the exception the delivery loop must act on (fault, not delivered, in doubt,
not trusted)."""

from __future__ import annotations

import itertools
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from digipoort_support import (
    BERICHTSOORT,
    BSN,
    LHNR,
    Setup,
    payload_of,
    python_xmlsec_verify,
    reference_schema,
    running_simulator,
    submit,
    xmlsec1_verify,
)

from uwvcli.digipoort import soap
from uwvcli.digipoort.client import (
    DigipoortClient,
    DigipoortFault,
    InDoubt,
    NotDelivered,
    ResponseNotTrusted,
)
from uwvcli.messages.signing import Credentials
from uwvcli.simulator.pki import ensure_test_pki

CAPTURED = "reference/digipoort/captured-responses"


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    with running_simulator(tmp_path / "state") as running:
        yield running


@pytest.fixture
def client(setup: Setup):  # type: ignore[no-untyped-def]
    with setup.client() as digipoort:
        yield digipoort


# ------------------------------------------------------------------------ the happy path


def test_aanleveren_gives_a_kenmerk_and_the_statuses_run_to_500(
    setup: Setup, client: DigipoortClient
) -> None:
    before = datetime.now(UTC)
    result = submit(client, "WG001-D1-ZM")

    assert result.kenmerk and len(result.kenmerk) <= 40
    assert result.aanleverkenmerk == "WG001-D1-ZM"
    assert before.replace(microsecond=0) <= result.timestamp <= datetime.now(UTC)
    statuses = client.get_statussen_proces(result.kenmerk)
    assert [s.code for s in statuses] == ["105", "100", "110", "200", "301", "405", "400", "500"]
    assert statuses == sorted(statuses, key=lambda s: s.timestamp)
    assert statuses[-1].description == "Validatie bij de uitvragende partij gelukt."
    assert setup.simulator.received("WG001-D1-ZM") == 1


def test_get_processen_lists_the_senders_processes(client: DigipoortClient) -> None:
    first, second = submit(client, "WG001-D1-ZM"), submit(client, "WG001-D2-ZM")
    processes = client.get_processen(BERICHTSOORT, LHNR)
    assert [p.kenmerk for p in processes] == [first.kenmerk, second.kenmerk]
    assert {(p.berichtsoort, p.identiteit_nummer, p.identiteit_type) for p in processes} == {
        (BERICHTSOORT, LHNR, "LHnr")
    }
    assert client.get_processen(BERICHTSOORT, "999999990L01") == []


def test_nieuwe_statussen_are_each_returned_once(client: DigipoortClient) -> None:
    kenmerk = submit(client, "WG001-D1-ZM").kenmerk
    assert [s.code for s in client.get_nieuwe_statussen_proces(kenmerk)][-1] == "500"
    assert client.get_nieuwe_statussen_proces(kenmerk) == []
    assert len(client.get_statussen_proces(kenmerk)) == 8


def test_requests_validate_against_the_reference_schema_and_verify_with_xmlsec(
    shared: Path, setup: Setup, client: DigipoortClient, tmp_path: Path
) -> None:
    kenmerk = submit(client, "WG001-D1-ZM").kenmerk
    client.get_statussen_proces(kenmerk)
    client.get_nieuwe_statussen_proces(kenmerk)
    client.get_processen(BERICHTSOORT, LHNR)
    schema = reference_schema(shared)
    sender_pem = setup.credentials.certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "sender.pem").write_bytes(sender_pem)

    names = []
    for body in setup.requests:
        payload = payload_of(body)
        assert schema.validate(payload), schema.error_log
        names.append(etree_name(payload))
        python_xmlsec_verify(body, sender_pem)
        result = xmlsec1_verify(body, tmp_path / "sender.pem", tmp_path)
        assert result is None or result.returncode == 0, result.stderr
    assert names == [
        "aanleverRequest",
        "getStatussenProcesRequest",
        "getNieuweStatussenProcesRequest",
        "getProcessenRequest",
    ]


def test_every_attempt_gets_a_new_message_id_and_timestamp(setup: Setup, client: DigipoortClient) -> None:
    submit(client, "WG001-D1-ZM")
    submit(client, "WG001-D1-ZM")
    ids = [
        soap.addressing(soap.parse_xml(body).find(f"{{{soap.SOAP11}}}Header"))["MessageID"]
        for body in setup.requests
    ]
    assert len(set(ids)) == 2 and all(i.startswith("urn:uuid:") for i in ids)
    assert setup.simulator.received("WG001-D1-ZM") == 2, "Digipoort does not deduplicate, nor does the client"


def test_the_request_carries_the_message_base64_and_the_sender_details(
    setup: Setup, client: DigipoortClient
) -> None:
    submit(client, "WG001-D1-ZM", inhoud=b"<bericht/>")
    payload = payload_of(setup.requests[0])
    assert soap.kv_text(payload, "berichtInhoud", "inhoud") == "PGJlcmljaHQvPg=="
    assert soap.kv_text(payload, "berichtInhoud", "mimeType") == "application/xml"
    assert soap.kv_text(payload, "identiteitBelanghebbende", "type") == "LHnr"
    assert soap.kv_text(payload, "autorisatieAdres") == "http://geenausp.nl"


def test_parallel_submissions_from_a_thread_pool(setup: Setup, client: DigipoortClient) -> None:
    names = [f"WG001-P{i}-ZM" for i in range(12)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda name: submit(client, name), names))
    assert len({r.kenmerk for r in results}) == 12
    assert all(setup.simulator.received(name) == 1 for name in names)


# ------------------------------------------------------------------------ refusals and failures


def test_synchronous_fault_is_a_digipoort_fault_and_starts_nothing(
    setup: Setup, client: DigipoortClient
) -> None:
    with pytest.raises(DigipoortFault) as caught:
        submit(client, "WG001-FAULT-ALS100-ZM")
    assert caught.value.foutcode == "ALS100"
    assert "koppelvlakspecificaties" in caught.value.foutbeschrijving
    assert setup.simulator.received("WG001-FAULT-ALS100-ZM") == 0


@pytest.mark.parametrize(
    ("flow", "last", "foutcode"),
    [("210", "210", None), ("230", "230", None), ("311", "311", "VAS500"), ("321", "321", "VAS400"),
     ("410", "410", "AFS400"), ("420", "420", "AFS600"), ("510", "510", None), ("400", "400", None)],
)  # fmt: skip
def test_each_failure_flow_ends_in_its_status(
    client: DigipoortClient, flow: str, last: str, foutcode: str
) -> None:
    statuses = client.get_statussen_proces(submit(client, f"WG001-FLOW-{flow}").kenmerk)
    assert statuses[0].code == "105"
    assert statuses[-1].code == last
    assert statuses[-1].foutcode == foutcode
    assert "500" not in [s.code for s in statuses]
    if flow == "420":
        assert [(s.code, s.foutcode) for s in statuses[-2:]] == [("420", None), ("420", "AFS600")]


def test_content_that_fails_the_message_checks_ends_in_311_vas500(client: DigipoortClient) -> None:
    statuses = client.get_statussen_proces(submit(client, "WG001-D1-ZM", inhoud=b"<x/>").kenmerk)
    assert (statuses[-1].code, statuses[-1].foutcode) == ("311", "VAS500")
    assert "UwvZwMeldingInternBody" in (statuses[-1].details or "")


def test_http_503_is_not_delivered_and_the_retry_arrives_once(setup: Setup, client: DigipoortClient) -> None:
    with pytest.raises(NotDelivered, match="503"):
        submit(client, "WG001-HTTP503-ZM")
    assert setup.simulator.received("WG001-HTTP503-ZM") == 0
    submit(client, "WG001-HTTP503-ZM")
    assert setup.simulator.received("WG001-HTTP503-ZM") == 1
    assert setup.simulator.attempts("WG001-HTTP503-ZM") == 2


def test_connection_dropped_after_accept_is_in_doubt_and_the_process_can_be_found(
    setup: Setup, client: DigipoortClient
) -> None:
    with pytest.raises(InDoubt):
        submit(client, "WG001-DROP-AFTER-ACCEPT")
    assert setup.simulator.received("WG001-DROP-AFTER-ACCEPT") == 1
    (process,) = client.get_processen(BERICHTSOORT, LHNR)
    assert client.get_statussen_proces(process.kenmerk)[-1].code == "500"


def test_no_answer_within_the_timeout_is_in_doubt(setup: Setup) -> None:
    with setup.client(timeout=0.5) as impatient, pytest.raises(InDoubt, match="timeout"):
        submit(impatient, "WG001-SLOW-2-ZM")
    assert setup.simulator.received("WG001-SLOW-2-ZM") == 1


def test_answer_with_a_bad_signature_is_not_trusted(setup: Setup, client: DigipoortClient) -> None:
    with pytest.raises(ResponseNotTrusted, match="altered"):
        submit(client, "WG001-BAD-SIGNATURE")
    assert setup.simulator.received("WG001-BAD-SIGNATURE") == 1


def test_status_answer_with_a_bad_signature_is_not_trusted(client: DigipoortClient) -> None:
    kenmerk = submit(client, "WG001-BADSIG-STATUS").kenmerk
    with pytest.raises(ResponseNotTrusted):
        client.get_statussen_proces(kenmerk)


def test_answer_signed_by_another_certificate_is_not_trusted(setup: Setup) -> None:
    with (
        setup.client(service_certificate=setup.simulator.pki.sender_cert) as wrong,
        pytest.raises(ResponseNotTrusted, match="other than the expected one"),
    ):
        submit(wrong, "WG001-D1-ZM")


def test_untrusted_server_certificate_is_refused_before_anything_is_sent(
    setup: Setup, tmp_path: Path
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    with setup.client(ca_bundle=other_ca) as suspicious, pytest.raises(NotDelivered, match="ca_bundle"):
        submit(suspicious, "WG001-D1-ZM")
    assert setup.requests == []


def test_the_public_trust_store_is_not_added_to_the_ca_bundle(setup: Setup) -> None:
    """Digipoort's PKIoverheid roots come only from the configured bundle: requests must not mix
    in certifi. With only the simulator's CA configured, a public site would fail, and the
    simulator (not in certifi) succeeds."""
    with setup.client() as digipoort:
        submit(digipoort, "WG001-D1-ZM")
        session = digipoort._session()
        context = session.get_adapter("https://x")._context  # type: ignore[attr-defined]
        subjects = {str(c["subject"]) for c in context.get_ca_certs()}
    assert len(subjects) == 1 and "uwvcli test CA" in subjects.pop()


def test_a_client_certificate_from_an_unknown_ca_is_refused_at_the_handshake(
    setup: Setup, tmp_path: Path
) -> None:
    stranger = ensure_test_pki(tmp_path / "another-test-pki")  # same kind of certificate, another CA
    credentials = Credentials(
        private_key=serialization.load_pem_private_key(stranger.sender_key.read_bytes(), None),
        certificate=x509.load_pem_x509_certificate(stranger.sender_cert.read_bytes()),
    )
    with (
        DigipoortClient(
            setup.simulator.aanlever_url,
            setup.simulator.status_url,
            credentials,
            ca_bundle=setup.simulator.ca_bundle,
            service_certificate=setup.simulator.service_certificate,
        ) as stranger_client,
        pytest.raises(NotDelivered, match="handshake"),
    ):
        submit(stranger_client, "WG001-D1-ZM")
    assert setup.requests == [] and setup.simulator.attempts("WG001-D1-ZM") == 0


def test_a_client_without_certificate_gets_no_tls_session(setup: Setup) -> None:
    context = ssl.create_default_context(cafile=str(setup.simulator.ca_bundle))
    with socket.create_connection(("127.0.0.1", setup.simulator.port), timeout=5) as raw:  # noqa: SIM117
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(
                    b"POST /wus/2.0/aanleverservice/1.2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                )
                assert tls.recv(100) == b"", "the server must not answer"
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(
            setup.simulator.aanlever_url, data=b"<x/>", verify=str(setup.simulator.ca_bundle), timeout=5
        )
    assert setup.requests == []


def test_nothing_listening_is_not_delivered(setup: Setup) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    url = f"https://127.0.0.1:{free_port}/wus/2.0/aanleverservice/1.2"
    with (
        DigipoortClient(
            url,
            url,
            setup.credentials,
            ca_bundle=setup.simulator.ca_bundle,
            service_certificate=setup.simulator.service_certificate,
        ) as nowhere,
        pytest.raises(NotDelivered, match="cannot connect"),
    ):
        submit(nowhere, "WG001-D1-ZM")


def test_unknown_kenmerk_is_an_sts100_fault(client: DigipoortClient) -> None:
    with pytest.raises(DigipoortFault) as caught:
        client.get_statussen_proces("00000000-0000-0000-0000-000000000000")
    assert caught.value.foutcode == "STS100" and caught.value.operation == "getStatussenProces"


def test_configuration_mistakes_are_clear_errors(setup: Setup, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="https://"):
        DigipoortClient(
            "http://x/a",
            "https://x/s",
            setup.credentials,
            ca_bundle=None,
            service_certificate=setup.simulator.service_certificate,
        )
    with pytest.raises(Exception, match="signature_algorithm"):
        setup.client(signature_algorithm="rsa-md5")
    with pytest.raises(Exception, match=r"service_certificate .*missing\.pem"):
        setup.client(service_certificate=tmp_path / "missing.pem")
    with pytest.raises(Exception, match=r"ca_bundle .*missing-ca\.pem"):
        setup.client(ca_bundle=tmp_path / "missing-ca.pem")


def test_error_messages_never_carry_message_content(setup: Setup, client: DigipoortClient) -> None:
    """The BSN inside berichtInhoud must not surface in any error the user sees."""
    for name in (
        "WG001-FAULT-ALS100-ZM",
        "WG001-BAD-SIGNATURE",
        "WG001-DROP-AFTER-ACCEPT",
        "WG001-HTTP503-ZM",
    ):
        with pytest.raises((DigipoortFault, ResponseNotTrusted, InDoubt, NotDelivered)) as caught:
            submit(client, name)
        assert BSN not in str(caught.value)


# ------------------------------------------------------------------------ captured real answers


def _answer(status: int, body: bytes) -> tuple[int, bytes]:
    return status, body


@pytest.mark.parametrize(
    ("name", "foutcode", "operation"),
    [("wus-js/fault-deliver-response.xml", "ALS100", soap.AANLEVEREN),
     ("wus-js/fault-newstatus-response.xml", "STS100", soap.GET_NIEUWE_STATUSSEN_PROCES),
     ("wus.core/fault-newstatus-response.xml", "STS100", soap.GET_NIEUWE_STATUSSEN_PROCES)],
)  # fmt: skip
def test_captured_digipoort_faults_become_digipoort_faults(
    shared: Path, client: DigipoortClient, name: str, foutcode: str, operation: soap.Operation
) -> None:
    body = (shared / CAPTURED / name).read_bytes()
    with pytest.raises(DigipoortFault) as caught:
        client._read_response(operation, _answer(500, body), "urn:uuid:irrelevant")
    assert caught.value.foutcode == foutcode
    assert caught.value.foutbeschrijving.startswith("Het verzoek voldoet niet aan de koppelvlakspecificaties")


@pytest.mark.parametrize("name", ["valid-deliver-response.xml", "tampered-deliver-response.xml"])
def test_captured_answers_are_not_trusted_without_a_current_signature(
    shared: Path, client: DigipoortClient, name: str
) -> None:
    """The real answers are from 2021, signed by Logius' conformance certificate: stale, and not
    the configured service certificate, so never data. (test_wss verifies them at capture time.)"""
    body = (shared / CAPTURED / "wus-js" / name).read_bytes()
    with pytest.raises(ResponseNotTrusted):
        client._read_response(
            soap.AANLEVEREN, _answer(200, body), "urn:uuid:de1dc4f7-98ab-4a03-90a5-e9efd20b1003"
        )


def test_captured_answers_read_as_kenmerk_and_sorted_statuses(shared: Path) -> None:
    from datetime import timedelta

    from uwvcli.digipoort.wss import verify_envelope

    deliver = verify_envelope(
        (shared / CAPTURED / "wus-js/valid-deliver-response.xml").read_bytes(),
        now=datetime(2021, 3, 7, 11, 38, tzinfo=UTC),
    )
    result = soap.read_aanlever_response(soap.body_payload(deliver.body))
    assert result.kenmerk == "700627b6-383e-4d8d-809f-b066845b36e0"
    assert result.timestamp == datetime(2021, 3, 7, 11, 37, 39, 702000, tzinfo=UTC)
    status = verify_envelope(
        (shared / CAPTURED / "wus-js/valid-newstatus-response.xml").read_bytes(),
        now=datetime(2021, 3, 10, 12, 47, tzinfo=UTC),
    )
    records = soap.read_statussen(soap.body_payload(status.body), soap.GET_NIEUWE_STATUSSEN_PROCES)
    assert [r.code for r in records] == ["105", "100", "110", "200", "301", "301", "405", "400", "500"]
    assert all(
        b.timestamp - a.timestamp == timedelta(milliseconds=10) for a, b in itertools.pairwise(records)
    )
    assert "Status: Verwerkbaar" in (records[-1].details or "")


def etree_name(element) -> str:  # type: ignore[no-untyped-def]
    from lxml import etree

    return etree.QName(element).localname


def test_a_wrong_address_on_the_right_server_is_in_doubt_and_names_the_setting(setup: Setup) -> None:
    """An HTTP 404 comes after the request was sent: whatever answered may have processed it, so
    it is settled with the process list, never resent blindly (issue 11)."""
    wrong = setup.simulator.base_url + "/wus/2.0/aanleverservice/1.1"
    with (
        DigipoortClient(
            wrong,
            setup.simulator.status_url,
            setup.credentials,
            ca_bundle=setup.simulator.ca_bundle,
            service_certificate=setup.simulator.service_certificate,
        ) as client,
        pytest.raises(InDoubt, match=r"HTTP 404.*aanlever_url"),
    ):
        submit(client, "WG001-D1-ZM")
    assert setup.requests == []
