"""WS-Security as Digipoort's WUS profile wants it: what uwvcli signs verifies with independent
implementations (xmlsec1, python-xmlsec), real Digipoort answers verify with uwvcli's verifier,
and every way a message can be altered, re-wrapped or replayed is refused."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from digipoort_support import python_xmlsec_verify, xmlsec1_verify
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from uwvcli.digipoort import soap
from uwvcli.digipoort.wss import WsSecurityError, sign_envelope, verify_envelope
from uwvcli.simulator.pki import TestPki, ensure_test_pki

CAPTURED = "reference/digipoort/captured-responses"
DELIVER_CAPTURED_AT = datetime(2021, 3, 7, 11, 37, 40, tzinfo=UTC)
NEWSTATUS_CAPTURED_AT = datetime(2021, 3, 10, 12, 46, 43, tzinfo=UTC)
TO = "https://127.0.0.1:8443/wus/2.0/aanleverservice/1.2"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return ensure_test_pki(tmp_path_factory.mktemp("wss") / "test-pki")


def key_and_cert(pki: TestPki, who: str = "sender"):  # type: ignore[no-untyped-def]
    key = serialization.load_pem_private_key(getattr(pki, f"{who}_key").read_bytes(), None)
    cert = x509.load_pem_x509_certificate(getattr(pki, f"{who}_cert").read_bytes())
    return key, cert


def signed_request(pki: TestPki, *, algorithm: str = "rsa-sha1", kenmerk: str = "abc-123", **kw) -> bytes:  # type: ignore[no-untyped-def]
    payload = soap.statussen_request(soap.GET_STATUSSEN_PROCES, kenmerk)
    root, _ = soap.envelope(payload, action=soap.GET_STATUSSEN_PROCES.action, to=TO)
    key, cert = key_and_cert(pki)
    sign_envelope(root, private_key=key, certificate=cert, algorithm=algorithm, **kw)
    return soap.serialize(root)


# ------------------------------------------------------------------------ what uwvcli signs


@pytest.mark.parametrize("algorithm", ["rsa-sha1", "rsa-sha256"])
def test_signature_covers_body_timestamp_and_every_addressing_header(pki: TestPki, algorithm: str) -> None:
    signed = signed_request(pki, algorithm=algorithm)
    verified = verify_envelope(signed, trusted_certificate=key_and_cert(pki)[1])

    root = soap.parse_xml(signed)
    wsu_id = f"{{{soap.WSU}}}Id"
    header = root.find(f"{{{soap.SOAP11}}}Header")
    addressing = [h for h in header if h.tag.startswith(f"{{{soap.WSA}}}")]
    assert sorted(etree.QName(h).localname for h in addressing) == ["Action", "MessageID", "ReplyTo", "To"]
    expected = {h.get(wsu_id) for h in addressing}
    expected |= {
        root.find(f"{{{soap.SOAP11}}}Body").get(wsu_id),
        root.find(f".//{{{soap.WSU}}}Timestamp").get(wsu_id),
    }
    assert verified.signed_ids == expected
    method = root.find(f".//{{{soap.DS}}}SignatureMethod").get("Algorithm")
    assert method.endswith(algorithm)


def test_security_header_has_the_profiles_shape(pki: TestPki) -> None:
    moment = datetime(2026, 5, 4, 10, 0, 0, 123000, tzinfo=UTC)
    root = soap.parse_xml(signed_request(pki, now=moment))
    security = root.find(f"{{{soap.SOAP11}}}Header/{{{soap.WSSE}}}Security")
    assert security.get(f"{{{soap.SOAP11}}}mustUnderstand") == "1"
    assert security.findtext(f".//{{{soap.WSU}}}Created") == "2026-05-04T10:00:00.123Z"
    assert security.findtext(f".//{{{soap.WSU}}}Expires") == "2026-05-04T10:05:00.123Z"
    token = security.find(f"{{{soap.WSSE}}}BinarySecurityToken")
    assert token.get("ValueType").endswith("#X509v3") and token.get("EncodingType").endswith("#Base64Binary")
    reference = security.find(f".//{{{soap.WSSE}}}SecurityTokenReference/{{{soap.WSSE}}}Reference")
    assert reference.get("URI") == "#" + token.get(f"{{{soap.WSU}}}Id")
    for transforms in security.iter(f"{{{soap.DS}}}Transforms"):
        assert [t.get("Algorithm") for t in transforms] == [soap.EXC_C14N]


@pytest.mark.parametrize("algorithm", ["rsa-sha1", "rsa-sha256"])
def test_xmlsec1_verifies_what_uwvcli_signs(pki: TestPki, algorithm: str, tmp_path: Path) -> None:
    result = xmlsec1_verify(signed_request(pki, algorithm=algorithm), pki.sender_cert, tmp_path)
    if result is None:
        pytest.skip("the xmlsec1 command is not installed (python-xmlsec is tested separately)")
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 6/6" in result.stderr


@pytest.mark.parametrize("algorithm", ["rsa-sha1", "rsa-sha256"])
def test_python_xmlsec_verifies_what_uwvcli_signs_and_rejects_an_altered_copy(
    pki: TestPki, algorithm: str
) -> None:
    signed = signed_request(pki, algorithm=algorithm, kenmerk="kenmerk-1")
    python_xmlsec_verify(signed, pki.sender_cert.read_bytes())
    with pytest.raises(Exception, match=r"(?i)invalid"):
        python_xmlsec_verify(signed.replace(b"kenmerk-1", b"kenmerk-2"), pki.sender_cert.read_bytes())


# ------------------------------------------------------------------------ real Digipoort answers


@pytest.mark.parametrize(
    ("name", "captured_at"),
    [
        ("valid-deliver-response.xml", DELIVER_CAPTURED_AT),
        ("valid-newstatus-response.xml", NEWSTATUS_CAPTURED_AT),
    ],
)
def test_captured_digipoort_answers_verify_at_the_time_they_were_sent(
    shared: Path, name: str, captured_at: datetime
) -> None:
    verified = verify_envelope((shared / CAPTURED / "wus-js" / name).read_bytes(), now=captured_at)
    assert len(verified.signed_ids) == 6  # Timestamp, To, MessageID, Action, RelatesTo, Body
    common_name = verified.certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert common_name == "cs-bedrijven.procesinfrastructuur.nl"


def test_captured_answer_is_refused_today_as_stale(shared: Path) -> None:
    with pytest.raises(WsSecurityError, match="expired"):
        verify_envelope((shared / CAPTURED / "wus-js/valid-deliver-response.xml").read_bytes())


def test_captured_tampered_answer_is_refused(shared: Path) -> None:
    with pytest.raises(WsSecurityError, match="digest of signed element '#w_20'"):
        verify_envelope(
            (shared / CAPTURED / "wus-js/tampered-deliver-response.xml").read_bytes(), now=DELIVER_CAPTURED_AT
        )


def test_captured_answer_signed_by_another_certificate_than_configured_is_refused(
    shared: Path, pki: TestPki
) -> None:
    data = (shared / CAPTURED / "wus-js/valid-deliver-response.xml").read_bytes()
    with pytest.raises(WsSecurityError, match="other than the expected one"):
        verify_envelope(data, trusted_certificate=key_and_cert(pki, "service")[1], now=DELIVER_CAPTURED_AT)


# ------------------------------------------------------------------------ what is refused


def _mutate(signed: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    root = soap.parse_xml(signed)
    change(root)
    return soap.serialize(root)


def _header(root: etree._Element, name: str) -> etree._Element:
    return root.find(f"{{{soap.SOAP11}}}Header/{{{soap.WSA}}}{name}")


def _retarget(root: etree._Element) -> None:
    _header(root, "To").text = "https://evil.example/wus/2.0/aanleverservice/1.2"


def _add_unsigned_addressing_header(root: etree._Element) -> None:
    extra = etree.SubElement(root.find(f"{{{soap.SOAP11}}}Header"), f"{{{soap.WSA}}}From")
    extra.set(f"{{{soap.WSU}}}Id", "From-1")
    etree.SubElement(extra, f"{{{soap.WSA}}}Address").text = soap.ANONYMOUS


def _wrap_body(root: etree._Element) -> None:
    """The classic wrapping attack: the signed Body hidden in a header, an evil one in its place."""
    body = root.find(f"{{{soap.SOAP11}}}Body")
    evil = copy.deepcopy(body)
    evil[0].find(f"{{{soap.KV}}}kenmerk").text = "someone-elses-kenmerk"
    root.find(f"{{{soap.SOAP11}}}Header").append(body)
    root.append(evil)


def _remove_message_id(root: etree._Element) -> None:
    root.find(f"{{{soap.SOAP11}}}Header").remove(_header(root, "MessageID"))


def _drop_body_reference(root: etree._Element) -> None:
    body_id = root.find(f"{{{soap.SOAP11}}}Body").get(f"{{{soap.WSU}}}Id")
    reference = root.find(f".//{{{soap.DS}}}Reference[@URI='#{body_id}']")
    reference.getparent().remove(reference)


def _replace_token(root: etree._Element, certificate_pem: bytes) -> None:
    import base64

    cert = x509.load_pem_x509_certificate(certificate_pem)
    token = root.find(f".//{{{soap.WSSE}}}BinarySecurityToken")
    token.text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_retarget, "digest of signed element '#To-"),
        (_add_unsigned_addressing_header, "does not cover wsa:From"),
        (_wrap_body, "occurs more than once"),
        (_drop_body_reference, "does not cover the Body"),
        (_remove_message_id, "does not point"),
        (lambda root: root.find(f".//{{{soap.WSSE}}}Security").attrib.clear(), "mustUnderstand"),
    ],
    ids=["retargeted To", "unsigned WS-A header", "wrapped Body", "Body reference removed", "header removed",
         "mustUnderstand removed"],
)  # fmt: skip
def test_altered_requests_are_refused(pki: TestPki, change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WsSecurityError, match=message):
        verify_envelope(_mutate(signed_request(pki), change))


def test_a_swapped_security_token_is_refused(pki: TestPki) -> None:
    signed = _mutate(signed_request(pki), lambda root: _replace_token(root, pki.service_cert.read_bytes()))
    with pytest.raises(WsSecurityError, match="signature value does not verify"):
        verify_envelope(signed)


def test_a_signature_by_another_key_than_trusted_is_refused(pki: TestPki) -> None:
    with pytest.raises(WsSecurityError, match="other than the expected one"):
        verify_envelope(signed_request(pki), trusted_certificate=key_and_cert(pki, "service")[1])


@pytest.mark.parametrize(
    ("offset", "message"), [(timedelta(minutes=-20), "expired"), (timedelta(minutes=20), "in the future")]
)
def test_stale_or_future_timestamps_are_refused(pki: TestPki, offset: timedelta, message: str) -> None:
    signed = signed_request(pki, now=datetime.now(UTC) + offset)
    with pytest.raises(WsSecurityError, match=message):
        verify_envelope(signed)


def test_clock_skew_of_a_few_minutes_is_tolerated(pki: TestPki) -> None:
    signed = signed_request(pki, now=datetime.now(UTC) + timedelta(minutes=3))
    assert verify_envelope(signed).created > datetime.now(UTC)


def test_unknown_algorithm_is_a_clear_error(pki: TestPki) -> None:
    with pytest.raises(WsSecurityError, match="rsa-sha1, rsa-sha256"):
        signed_request(pki, algorithm="rsa-md5")


def test_external_entities_and_doctypes_are_never_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xxe = f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]><x>&e;</x>'.encode()
    with pytest.raises(soap.SoapFormatError, match="DOCTYPE"):
        soap.parse_xml(xxe)
    laughs = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>'
    with pytest.raises(soap.SoapFormatError):
        soap.parse_xml(laughs)


# ------------------------------------------------------------------------ properties

_xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=40,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kenmerk=_xml_text, algorithm=st.sampled_from(["rsa-sha1", "rsa-sha256"]))
def test_any_payload_text_round_trips_through_sign_serialize_parse_verify(
    pki: TestPki, kenmerk: str, algorithm: str
) -> None:
    signed = signed_request(pki, kenmerk=kenmerk, algorithm=algorithm)
    verified = verify_envelope(signed)
    assert verified.body[0].findtext(f"{{{soap.KV}}}kenmerk") == kenmerk


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kenmerk=st.text(alphabet="abcdef0123456789-", min_size=8, max_size=36), data=st.data())
def test_changing_any_character_of_the_signed_payload_is_detected(
    pki: TestPki, kenmerk: str, data: st.DataObject
) -> None:
    signed = signed_request(pki, kenmerk=kenmerk)
    position = data.draw(st.integers(0, len(kenmerk) - 1))
    replacement = data.draw(st.sampled_from([c for c in "xyz0123" if c != kenmerk[position]]))
    altered = kenmerk[:position] + replacement + kenmerk[position + 1 :]
    tampered = signed.replace(
        f"<kenmerk>{kenmerk}</kenmerk>".encode(), f"<kenmerk>{altered}</kenmerk>".encode()
    )
    with pytest.raises(WsSecurityError, match=r"Body-.*altered"):
        verify_envelope(tampered)
