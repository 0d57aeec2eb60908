"""Would uwvcli work against a Digipoort it has never seen?

uwvcli's real `DigipoortClient` (and `uwvcli run` with `environment: custom`) against
`tests/interop_peer.py`: an independent WUS peer that verifies requests with python-xmlsec and
the reference XSD, and answers in the shape of the captured real Digipoort responses, signed by
python-xmlsec. Then the captured real responses themselves, and the variations a real peer may
show that uwvcli's own simulator never does."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from typer.testing import CliRunner

from tests.digipoort_support import LHNR, valid_message
from tests.helpers import PERSON, write_setup
from tests.interop_peer import (
    AANLEVER_PATH,
    DS,
    KOPPELVLAK_FOUT,
    KV,
    LIFECYCLE,
    SOAP11,
    WSA,
    WSSE,
    WSU,
    PeerPki,
    ResponseStyle,
    Status,
    WusPeer,
    xsd_datetime,
)
from uwvcli.app.credentials import load_credentials
from uwvcli.cli import app
from uwvcli.digipoort import soap, wss
from uwvcli.digipoort.client import DigipoortClient, DigipoortFault, InDoubt, ResponseNotTrusted
from uwvcli.domain.models import Sender
from uwvcli.messages.signing import Credentials
from uwvcli.state.journal import Journal

BERICHTSOORT = "UWV_ZW_ZIEKMELDING"
LIFECYCLE_CODES = [code for code, _ in LIFECYCLE]
CAPTURED = "reference/digipoort/captured-responses"


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PeerPki:
    return PeerPki.create(tmp_path_factory.mktemp("peer") / "pki")


@pytest.fixture
def schema(shared: Path) -> etree.XMLSchema:
    """Logius' koppelvlak XSD from ../shared: the peer validates every request Body with it."""
    return etree.XMLSchema(etree.parse(str(shared / "reference/digipoort/digipoort-koppelvlak-1.2.xsd")))


@pytest.fixture
def credentials(pki: PeerPki, tmp_path: Path) -> Credentials:
    sender = Sender(
        name="Interop", role="Bedrijf", certificate=pki.sender_certificate, private_key=pki.sender_key
    )
    return load_credentials(sender, environment="custom", state_dir=tmp_path)


@pytest.fixture
def peer(pki: PeerPki, schema: etree.XMLSchema) -> Iterator[WusPeer]:
    with WusPeer(pki, schema=schema) as running:
        yield running


def client_for(peer: WusPeer, credentials: Credentials, **options: object) -> DigipoortClient:
    return DigipoortClient(
        peer.aanlever_url,
        peer.status_url,
        credentials,
        ca_bundle=peer.pki.ca_bundle,
        service_certificate=options.pop("service_certificate", peer.pki.service_certificate),  # type: ignore[arg-type]
        timeout=10.0,
        **options,  # type: ignore[arg-type]
    )


def submit(client: DigipoortClient, aanleverkenmerk: str = "WG001-P1-wazo") -> soap.AanleverResult:
    return client.aanleveren(
        berichtsoort=BERICHTSOORT,
        aanleverkenmerk=aanleverkenmerk,
        loonheffingennummer=LHNR,
        rol="Bedrijf",
        bestandsnaam=f"{aanleverkenmerk}.xml",
        inhoud=valid_message(),
    )


def signature_method(request_body: bytes) -> str:
    root = etree.fromstring(request_body)
    return root.find(f".//{{{DS}}}SignatureMethod").get("Algorithm")


# -------------------------------------------------------------------- the client and the peer


@pytest.mark.parametrize("algorithm", ["rsa-sha1", "rsa-sha256"])
def test_every_operation_passes_an_independent_peer(
    peer: WusPeer, credentials: Credentials, algorithm: str
) -> None:
    with client_for(peer, credentials, signature_algorithm=algorithm) as client:
        result = submit(client)
        history = client.get_statussen_proces(result.kenmerk)
        first_new = client.get_nieuwe_statussen_proces(result.kenmerk)
        second_new = client.get_nieuwe_statussen_proces(result.kenmerk)
        processes = client.get_processen(BERICHTSOORT, LHNR)

    assert [r.refusal for r in peer.received] == [None] * 5, "the peer refused a request"
    assert [r.operation for r in peer.received] == [
        "aanleveren", "getStatussenProces", "getNieuweStatussenProces", "getNieuweStatussenProces",
        "getProcessen",
    ]  # fmt: skip
    expected_uri = wss.SIGNATURE_ALGORITHMS[algorithm][0]
    assert {signature_method(r.body) for r in peer.received} == {expected_uri}
    assert result.kenmerk in peer.processes and result.aanleverkenmerk == "WG001-P1-wazo"
    assert [s.code for s in history] == LIFECYCLE_CODES
    assert "Verwerkbaar" in (history[-1].details or "")
    assert [s.code for s in first_new] == LIFECYCLE_CODES and second_new == []
    assert [(p.kenmerk, p.identiteit_nummer, p.identiteit_type) for p in processes] == [
        (result.kenmerk, LHNR, "LHnr")
    ]


def test_the_message_arrives_byte_for_byte_in_berichtinhoud(peer: WusPeer, credentials: Credentials) -> None:
    with client_for(peer, credentials) as client:
        submit(client)
    (request,) = peer.accepted("aanleveren")
    inhoud = etree.fromstring(request.body).findtext(f".//{{{KV}}}berichtInhoud/{{{KV}}}inhoud")
    assert base64.b64decode(inhoud) == valid_message()
    assert request.headers["content-type"] == "text/xml; charset=UTF-8"
    assert request.headers["soapaction"] == f'"{soap.AANLEVEREN.action}"'


@contextmanager
def raw_session(pki: PeerPki, client_cert: tuple[str, str] | None = None) -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(pki.ca_bundle)
    session.cert = client_cert or (str(pki.sender_certificate), str(pki.sender_key))
    try:
        yield session
    finally:
        session.close()


def _unquoted_action(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return body, {**headers, "SOAPAction": headers["SOAPAction"].strip('"')}


def _soap12_content_type(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return body, {**headers, "Content-Type": "application/soap+xml; charset=UTF-8"}


def _altered_body(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return body.replace(b"<aanleverkenmerk>WG001-P1-wazo<", b"<aanleverkenmerk>WG001-P1-wazX<"), headers


def _unsigned_to(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    root = etree.fromstring(body)
    to = root.find(f".//{{{WSA}}}To")
    reference = root.find(f'.//{{{DS}}}Reference[@URI="#{to.get(f"{{{WSU}}}Id")}"]')
    reference.getparent().remove(reference)
    return etree.tostring(root), headers


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_unquoted_action, "SOAPAction"),
        (_soap12_content_type, "Content-Type"),
        (_altered_body, "does not verify"),
        (_unsigned_to, "does not cover wsa:To"),
    ],
)
def test_the_peer_is_no_pushover(peer: WusPeer, credentials: Credentials, tamper, reason: str) -> None:
    """The peer accepting uwvcli's requests means something only if it refuses broken ones."""
    with client_for(peer, credentials) as client:
        submit(client)
    (good,) = peer.received
    body, headers = tamper(good.body, {"Content-Type": good.headers["content-type"],
                                       "SOAPAction": good.headers["soapaction"]})  # fmt: skip
    with raw_session(peer.pki) as session:
        answer = session.post(peer.aanlever_url, data=body, headers=headers, timeout=10)
    assert answer.status_code == 500
    assert b"<fault:foutcode>ALS100</fault:foutcode>" in answer.content
    assert reason in peer.received[-1].refusal


def test_a_signature_by_another_certificate_than_the_tls_one_is_refused(
    peer: WusPeer, credentials: Credentials, tmp_path: Path
) -> None:
    with client_for(peer, credentials) as client:
        submit(client)
    other = peer.pki.ca.issue_cert("other-sender.peer.test")
    cert, key = tmp_path / "other.pem", tmp_path / "other.key"
    other.cert_chain_pems[0].write_to_path(str(cert))
    other.private_key_pem.write_to_path(str(key))
    (good,) = peer.received
    with raw_session(peer.pki, (str(cert), str(key))) as session:
        headers = {"Content-Type": good.headers["content-type"], "SOAPAction": good.headers["soapaction"]}
        answer = session.post(peer.aanlever_url, data=good.body, headers=headers, timeout=10)
    assert answer.status_code == 500
    assert "not the TLS client certificate" in peer.received[-1].refusal


def test_a_peer_that_refuses_sha256_says_so_verbatim(pki: PeerPki, schema, credentials: Credentials) -> None:
    """If the 2026 Digipoort takes only RSA-SHA1 (DIGIPOORT.md: SHA-256 unconfirmed), a user who
    chose rsa-sha256 sees Digipoort's refusal, not a mystery."""
    with (
        WusPeer(pki, schema=schema, algorithms=("rsa-sha1",)) as peer,
        client_for(peer, credentials, signature_algorithm="rsa-sha256") as client,
        pytest.raises(DigipoortFault) as refused,
    ):
        submit(client)
    assert refused.value.foutcode == "ALS100"
    assert "signature method not accepted" in refused.value.foutbeschrijving


def test_a_stale_request_timestamp_is_refused(pki: PeerPki, schema, credentials: Credentials) -> None:
    later = lambda: datetime.now(UTC) + timedelta(minutes=7)  # noqa: E731
    with (
        WusPeer(pki, schema=schema, clock=later) as peer,
        client_for(peer, credentials) as client,
        pytest.raises(DigipoortFault) as refused,
    ):
        submit(client)
    assert refused.value.foutcode == "ALS100"
    assert "Timestamp" in refused.value.foutbeschrijving


# ---------------------------------------------------------------------------------- faults


def test_als100_on_aanleveren_reaches_the_user_verbatim(peer: WusPeer, credentials: Credentials) -> None:
    reason = "Het bericht is groter dan toegestaan (berichtInhoud, 21 MB)."
    peer.fault_next = ("ALS100", reason)
    with client_for(peer, credentials) as client, pytest.raises(DigipoortFault) as refused:
        submit(client)
    assert refused.value.foutcode == "ALS100" and refused.value.operation == "aanleveren"
    assert refused.value.foutbeschrijving == (KOPPELVLAK_FOUT + reason).strip()
    assert reason in str(refused.value)
    assert peer.processes == {}


def test_sts100_on_a_status_call_reaches_the_user_verbatim(peer: WusPeer, credentials: Credentials) -> None:
    with client_for(peer, credentials) as client, pytest.raises(DigipoortFault) as refused:
        client.get_statussen_proces("00000000-0000-0000-0000-000000000000")
    assert refused.value.foutcode == "STS100" and refused.value.operation == "getStatussenProces"
    assert refused.value.foutbeschrijving.startswith(
        "Het verzoek voldoet niet aan de koppelvlakspecificaties"
    )
    assert "Het kenmerk 00000000-0000-0000-0000-000000000000 is onbekend." in refused.value.foutbeschrijving


@pytest.mark.parametrize(
    ("capture", "call", "foutcode"),
    [
        ("wus-js/fault-deliver-response.xml", "aanleveren", "ALS100"),
        ("wus-js/fault-newstatus-response.xml", "getNieuweStatussenProces", "STS100"),
        ("wus.core/fault-newstatus-response.xml", "getNieuweStatussenProces", "STS100"),
    ],
)
def test_captured_real_faults_reach_the_user_verbatim(
    peer: WusPeer, credentials: Credentials, shared: Path, capture: str, call: str, foutcode: str
) -> None:
    captured = (shared / CAPTURED / capture).read_bytes()
    expected = etree.fromstring(captured).findtext(f".//{{{KV}}}foutbeschrijving").strip()
    peer.answer_next(captured, status=500)
    with client_for(peer, credentials) as client, pytest.raises(DigipoortFault) as refused:
        if call == "aanleveren":
            submit(client)
        else:
            client.get_nieuwe_statussen_proces("f0873951-7a7c-4200-a321-37625d1ebb2b")
    assert (refused.value.foutcode, refused.value.foutbeschrijving) == (foutcode, expected)


def test_a_fault_with_a_qualified_detail_is_still_a_refusal(
    peer: WusPeer, credentials: Credentials, shared: Path
) -> None:
    """Some SOAP stacks write soapenv:detail; the foutcode must still make it a definite refusal
    (otherwise an aanleveren refusal would be taken for "in doubt")."""
    captured = (shared / CAPTURED / "wus-js/fault-deliver-response.xml").read_bytes()
    qualified = captured.replace(b"<detail>", b"<soapenv:detail>").replace(b"</detail>", b"</soapenv:detail>")
    peer.answer_next(qualified, status=500)
    with client_for(peer, credentials) as client, pytest.raises(DigipoortFault) as refused:
        submit(client)
    assert refused.value.foutcode == "ALS100"


def test_a_soap12_answer_says_so_and_is_never_taken_for_a_refusal(
    peer: WusPeer, credentials: Credentials
) -> None:
    soap12_fault = (
        b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>'
        b'<env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text xml:lang="nl">'
        b"Algemene fout</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>"
    )
    peer.answer_next(soap12_fault, status=500, content_type="application/soap+xml")
    with client_for(peer, credentials) as client, pytest.raises(InDoubt, match=r"SOAP 1\.2"):
        submit(client)


def test_a_process_list_without_its_return_element_is_not_read_as_none(
    peer: WusPeer, credentials: Credentials
) -> None:
    """In-doubt reconciliation decides on this list: an answer that breaks the XSD
    (getProcessenReturn is required) must not pass for "Digipoort has no process"."""
    peer.next_payload = f'<getProcessenResponse xmlns="{KV}"/>'
    with (
        client_for(peer, credentials) as client,
        pytest.raises(ResponseNotTrusted, match="getProcessenReturn"),
    ):
        client.get_processen(BERICHTSOORT, LHNR)


# --------------------------------------------------------------- captured real responses


def _captured_instant(document: bytes) -> datetime:
    created = etree.fromstring(document).findtext(f".//{{{WSU}}}Created")
    return datetime.fromisoformat(created.replace("Z", "+00:00"))


def _captured_signer(document: bytes, folder: Path) -> Path:
    """The certificate in the captured BinarySecurityToken (Logius' cs-bedrijven certificate),
    written as the PEM a user would configure as digipoort.service_certificate."""
    token = etree.fromstring(document).findtext(f".//{{{WSSE}}}BinarySecurityToken")
    certificate = x509.load_der_x509_certificate(base64.b64decode(token))
    path = folder / "logius-service.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


@contextmanager
def at_capture_time(monkeypatch: pytest.MonkeyPatch, document: bytes) -> Iterator[datetime]:
    """Run the client as if it were the moment of the capture, and give its next request the
    MessageID the captured answer relates to: the unit-test mocks a replay needs, nothing more."""
    moment = _captured_instant(document) + timedelta(seconds=2)
    relates_to = etree.fromstring(document).findtext(f".//{{{WSA}}}RelatesTo").strip()

    class Then(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return moment.astimezone(tz)

    original = soap.envelope

    def envelope_relating_to_the_capture(payload, **kwargs):  # type: ignore[no-untyped-def]
        root, _ = original(payload, **kwargs)
        root.find(f".//{{{WSA}}}MessageID").text = relates_to
        return root, relates_to

    monkeypatch.setattr(wss, "datetime", Then)
    monkeypatch.setattr(soap, "envelope", envelope_relating_to_the_capture)
    yield moment


@pytest.fixture
def captured_peer(pki: PeerPki, schema) -> Iterator[type[WusPeer]]:
    yield lambda clock: WusPeer(pki, schema=schema, clock=clock)


def test_the_captured_aanlever_response_is_accepted_at_capture_time(
    captured_peer, credentials: Credentials, shared: Path, tmp_path: Path, monkeypatch
) -> None:
    document = (shared / CAPTURED / "wus-js/valid-deliver-response.xml").read_bytes()
    service = _captured_signer(document, tmp_path)
    with at_capture_time(monkeypatch, document) as moment, captured_peer(lambda: moment) as peer:
        peer.answer_next(document)
        with client_for(peer, credentials, service_certificate=service) as client:
            result = submit(client)
    assert peer.received[0].refusal is None
    assert result.kenmerk == "700627b6-383e-4d8d-809f-b066845b36e0"
    assert result.timestamp == datetime(2021, 3, 7, 11, 37, 39, 702000, tzinfo=UTC)
    assert (result.aanleverkenmerk, result.berichtsoort) == ("Happyflow", "Omzetbelasting")


def test_the_captured_status_response_is_accepted_at_capture_time(
    captured_peer, credentials: Credentials, shared: Path, tmp_path: Path, monkeypatch
) -> None:
    document = (shared / CAPTURED / "wus-js/valid-newstatus-response.xml").read_bytes()
    service = _captured_signer(document, tmp_path)
    with at_capture_time(monkeypatch, document) as moment, captured_peer(lambda: moment) as peer:
        peer.answer_next(document)
        with client_for(peer, credentials, service_certificate=service) as client:
            statuses = client.get_nieuwe_statussen_proces("f0873951-7a7c-4200-a321-37625d1ebb2b")
    assert [s.code for s in statuses] == ["105", "100", "110", "200", "301", "301", "405", "400", "500"]
    assert statuses[0].description == "Aanleverproces gestart."
    assert "<Description>Status: Verwerkbaar</Description>" in statuses[-1].details
    assert all(s.details is None for s in statuses[:-1])


def test_the_captured_tampered_response_is_refused(
    captured_peer, credentials: Credentials, shared: Path, tmp_path: Path, monkeypatch
) -> None:
    document = (shared / CAPTURED / "wus-js/tampered-deliver-response.xml").read_bytes()
    service = _captured_signer(document, tmp_path)
    with at_capture_time(monkeypatch, document) as moment, captured_peer(lambda: moment) as peer:
        peer.answer_next(document)
        with (
            client_for(peer, credentials, service_certificate=service) as client,
            pytest.raises(ResponseNotTrusted, match="altered"),
        ):
            submit(client)


def test_a_captured_response_replayed_today_is_refused_as_expired(
    peer: WusPeer, credentials: Credentials, shared: Path, tmp_path: Path, monkeypatch
) -> None:
    """Freshness is part of the design: an old signed answer must not be taken for a new one."""
    document = (shared / CAPTURED / "wus-js/valid-deliver-response.xml").read_bytes()
    relates_to = etree.fromstring(document).findtext(f".//{{{WSA}}}RelatesTo").strip()
    original = soap.envelope
    monkeypatch.setattr(soap, "envelope", lambda p, **k: (original(p, **k)[0], relates_to))
    peer.answer_next(document)
    service = _captured_signer(document, tmp_path)
    with (
        client_for(peer, credentials, service_certificate=service) as client,
        pytest.raises(ResponseNotTrusted, match="expired"),
    ):
        submit(client)


def test_a_captured_response_is_refused_when_another_service_certificate_is_configured(
    captured_peer, credentials: Credentials, shared: Path, pki: PeerPki, monkeypatch
) -> None:
    document = (shared / CAPTURED / "wus-js/valid-deliver-response.xml").read_bytes()
    with at_capture_time(monkeypatch, document) as moment, captured_peer(lambda: moment) as peer:
        peer.answer_next(document)
        with (
            client_for(peer, credentials, service_certificate=pki.service_certificate) as client,
            pytest.raises(ResponseNotTrusted, match="certificate other than the expected"),
        ):
            submit(client)


def test_a_service_certificate_file_with_the_successor_keeps_answers_trusted_during_rollover(
    peer: WusPeer, credentials: Credentials, shared: Path, tmp_path: Path
) -> None:
    """Logius renews the signing certificate: old and new side by side in one PEM file."""
    captured = (shared / CAPTURED / "wus-js/valid-deliver-response.xml").read_bytes()
    both = tmp_path / "digipoort-signing.pem"
    both.write_bytes(
        _captured_signer(captured, tmp_path).read_bytes() + peer.pki.service_certificate.read_bytes()
    )
    with client_for(peer, credentials, service_certificate=both) as client:
        assert submit(client).kenmerk in peer.processes


def test_the_peer_answers_in_the_captured_shape(
    peer: WusPeer, credentials: Credentials, shared: Path, schema: etree.XMLSchema
) -> None:
    """Hold the peer to the capture: same header layout, prefixes, signed parts and order."""
    captured = etree.fromstring((shared / CAPTURED / "wus-js/valid-deliver-response.xml").read_bytes())
    with client_for(peer, credentials) as client:
        submit(client)
    (request,) = peer.received
    status, answer = peer.handle(
        AANLEVER_PATH, request.headers, request.body, _der(peer.pki.sender_certificate)
    )
    ours = etree.fromstring(answer)
    assert status == 200
    assert _shape(ours) == _shape(captured)
    assert schema.validate(ours.find(f"{{{SOAP11}}}Body")[0])


def _der(pem_path: Path) -> bytes:
    certificate = x509.load_pem_x509_certificate(pem_path.read_bytes())
    return certificate.public_bytes(serialization.Encoding.DER)


def _shape(root: etree._Element) -> tuple:
    header = root.find(f"{{{SOAP11}}}Header")
    security = header.find(f"{{{WSSE}}}Security")
    ids = {e.get(f"{{{WSU}}}Id"): e for e in root.iter() if e.get(f"{{{WSU}}}Id")}
    references = [r.get("URI")[1:] for r in root.iter(f"{{{DS}}}Reference")]
    return (
        [(e.prefix, etree.QName(e).localname) for e in header],
        [(e.prefix, etree.QName(e).localname) for e in security],
        [etree.QName(ids[i]).localname for i in references],
        security.get(f"{{{SOAP11}}}mustUnderstand"),
    )


# ------------------------------------------------------------- what a real peer may vary


VARIANTS = {
    "SOAP-ENV prefix": ResponseStyle(envelope_prefix="SOAP-ENV"),
    "WCF-like s: and o: prefixes": ResponseStyle(envelope_prefix="s"),
    "pretty-printed": ResponseStyle(pretty=True),
    "PrefixList in transforms and SignedInfo": ResponseStyle(prefix_list="wsa"),
    "PrefixList, pretty, SOAP-ENV": ResponseStyle(prefix_list="SOAP-ENV wsa s u", pretty=True,
                                                   envelope_prefix="SOAP-ENV"),
    "Signature before Timestamp": ResponseStyle(signature_first=True),
    "token after Signature": ResponseStyle(token_last=True),
    "timestamps +01:00 without fraction": ResponseStyle(timestamp="seconds-offset"),
    "timestamps with seven digits": ResponseStyle(timestamp="seven-digits-z"),
    "answers signed rsa-sha256": ResponseStyle(algorithm="rsa-sha256"),
    "chunked transfer encoding": ResponseStyle(chunked=True),
    "statuses newest first": ResponseStyle(statuses_reversed=True),
    "no statusdetails": ResponseStyle(statusdetails=False),
    "text/xml without charset, XML declaration": ResponseStyle(content_type="text/xml", xml_declaration=True),
    "application/soap+xml content type": ResponseStyle(content_type="application/soap+xml; charset=utf-8"),
    'mustUnderstand="true"': ResponseStyle(must_understand="true"),
    "no mustUnderstand on the answer": ResponseStyle(must_understand=None),
    "the token signed too": ResponseStyle(sign_token=True),
    "gzip content encoding": ResponseStyle(gzip=True),
    "body delimited by closing the connection": ResponseStyle(close_delimited=True),
}  # fmt: skip


@pytest.mark.parametrize("style", VARIANTS.values(), ids=VARIANTS.keys())
def test_the_client_reads_every_variant(
    peer: WusPeer, credentials: Credentials, style: ResponseStyle
) -> None:
    peer.style = style
    before = datetime.now(UTC) - timedelta(seconds=1)
    with client_for(peer, credentials) as client:
        result = submit(client)
        history = client.get_statussen_proces(result.kenmerk)
        processes = client.get_processen(BERICHTSOORT, LHNR)
    assert result.kenmerk in peer.processes
    assert before <= result.timestamp <= datetime.now(UTC)
    assert [s.code for s in history] == LIFECYCLE_CODES  # by timestamp, whatever the peer's order
    assert (history[-1].details is not None) is style.statusdetails
    assert [p.kenmerk for p in processes] == [result.kenmerk]
    if style.gzip:  # the answers really went compressed
        assert all("gzip" in r.headers.get("accept-encoding", "") for r in peer.received)
    assert peer.connections == (3 if style.close_delimited else 1)


def test_an_empty_process_list_is_an_empty_list(peer: WusPeer, credentials: Credentials) -> None:
    with client_for(peer, credentials) as client:
        assert client.get_processen(BERICHTSOORT, LHNR) == []
    assert peer.received[0].refusal is None


def test_statuses_given_out_of_order_are_sorted_by_time_not_by_code(
    peer: WusPeer, credentials: Credentials
) -> None:
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    out_of_order = [("400", 6), ("105", 0), ("500", 7), ("100", 1), ("301", 4), ("110", 2), ("405", 5)]
    statuses = [Status(code, "-", start + timedelta(seconds=s)) for code, s in out_of_order]
    peer.add_process("1b4e28ba-2fa1-11d2-883f-0016d3cca427", BERICHTSOORT, LHNR, statuses=statuses)
    with client_for(peer, credentials) as client:
        history = client.get_statussen_proces("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    assert [s.code for s in history] == ["105", "100", "110", "301", "405", "400", "500"]


def test_keep_alive_reuses_one_connection_and_survives_the_peer_closing_it(
    pki: PeerPki, schema, credentials: Credentials
) -> None:
    with WusPeer(pki, schema=schema, idle_timeout=0.3) as peer, client_for(peer, credentials) as client:
        for _ in range(3):
            client.get_processen(BERICHTSOORT, LHNR)
        assert peer.connections == 1
        time.sleep(0.8)  # the peer has closed the idle connection meanwhile
        submit(client)  # must be a clean new connection, not an in-doubt broken one
        assert peer.connections == 2
    assert [r.refusal for r in peer.received] == [None] * 4


# ------------------------------------------------------------------- timestamps (a parser)


@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
    digits=st.integers(min_value=0, max_value=9),
    zulu=st.booleans(),
)
def test_any_xsd_datetime_notation_reads_as_the_same_instant(
    moment: datetime, offset_minutes: int, digits: int, zulu: bool
) -> None:
    """xsd:dateTime allows any number of fraction digits and any offset; real peers use several."""
    instant = moment.replace(tzinfo=UTC)
    zone = UTC if zulu else timezone(timedelta(minutes=offset_minutes))
    local = instant.astimezone(zone)
    fraction = f"{local.microsecond:06d}{'0' * 3}"[:digits]
    suffix = "Z" if zulu else local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + suffix
    expected = instant.replace(microsecond=int(fraction.ljust(6, "0")[:6]) if digits else 0)
    assert soap.read_datetime(text, "tijdstempelStatus") == expected


def test_the_peer_timestamp_notations_mean_the_same_instant() -> None:
    moment = datetime(2026, 11, 28, 15, 4, 5, 123456, tzinfo=UTC)
    read = {n: soap.read_datetime(xsd_datetime(moment, n), "t") for n in ("millis-z", "seven-digits-z")}
    assert read == {"millis-z": moment.replace(microsecond=123000), "seven-digits-z": moment}
    assert soap.read_datetime(xsd_datetime(moment, "seconds-offset"), "t") == moment.replace(microsecond=0)


# ------------------------------------------------------------- uwvcli run, environment custom


def custom_setup(folder: Path, peer: WusPeer, algorithm: str) -> Path:
    rows = [{"employee_id": "1001", "dossier_id": "P-1", "dossier_type": "zwangerschap",
             "expected_delivery_date": "2026-07-01"}]  # fmt: skip
    pki = peer.pki
    return write_setup(
        folder,
        rows,
        sender={"name": "Interop Verzuimdiensten BV", "role": "Intermediair",
                "certificate": str(pki.sender_certificate), "private_key": str(pki.sender_key)},
        digipoort={"environment": "custom", "aanlever_url": peer.aanlever_url, "status_url": peer.status_url,
                   "ca_bundle": str(pki.ca_bundle), "service_certificate": str(pki.service_certificate),
                   "signature_algorithm": algorithm},
    )  # fmt: skip


def run(config: Path) -> object:
    return CliRunner().invoke(
        app, ["run", "--config", str(config), "--date", "2026-05-01", "--poll-seconds", "3"]
    )


@pytest.mark.parametrize("algorithm", ["rsa-sha1", "rsa-sha256"])
def test_uwvcli_run_against_the_peer_ends_accepted(peer: WusPeer, tmp_path: Path, algorithm: str) -> None:
    config = custom_setup(tmp_path, peer, algorithm)
    result = run(config)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert [r.refusal for r in peer.received] == [None] * len(peer.received)
    assert len(peer.accepted("aanleveren")) == 1
    assert {signature_method(r.body) for r in peer.received} == {wss.SIGNATURE_ALGORITHMS[algorithm][0]}
    state = yaml.safe_load(config.read_text())["paths"]["state"]
    with Journal.open(tmp_path / state) as journal:
        (entry,) = journal.entries()
        assert entry.state == "accepted" and entry.kenmerk in peer.processes
        assert [s.code for s in journal.status_history(entry.kenmerk)] == LIFECYCLE_CODES
    for field in ("bsn", "first_name", "last_name", "birth_date"):
        assert PERSON[field] not in result.stdout + result.stderr
    assert run(config).exit_code == 0 and len(peer.accepted("aanleveren")) == 1  # never twice


def test_uwvcli_run_shows_the_peers_fault_verbatim(peer: WusPeer, tmp_path: Path) -> None:
    reason = "Het certificaat is niet geautoriseerd voor deze berichtsoort."
    peer.fault_next = ("ALS100", reason)
    result = run(custom_setup(tmp_path, peer, "rsa-sha1"))
    assert result.exit_code == 1
    assert "ALS100" in result.stdout and reason in result.stdout
    assert peer.processes == {}
