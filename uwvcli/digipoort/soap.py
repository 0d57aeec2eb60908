"""SOAP 1.1 envelopes for Digipoort's WUS services (koppelvlak 1.2), built and read with lxml.

One place knows the element names, their XSD sequence order and the action URIs
(DIGIPOORT.md "Operations uwvcli uses"); the client builds requests and reads responses with it,
the simulator reads requests and builds responses with it. Signing is `wss.py`'s job.

Everything from outside is parsed with entities, DTDs and network access switched off.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from uwvcli.common import xmlsafe
from uwvcli.domain.models import StatusRecord
from uwvcli.errors import DigipoortError

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
KV = "http://logius.nl/digipoort/koppelvlakservices/1.2/"

ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
AUTORISATIE_ADRES = "http://geenausp.nl"  # "no authorisation service provider" (DIGIPOORT.md)
IDENTITEIT_TYPE_LHNR = "LHnr"

AANLEVER_SERVICE = "http://logius.nl/digipoort/wus/2.0/aanleverservice/1.2/AanleverService"
STATUS_SERVICE = "http://logius.nl/digipoort/wus/2.0/statusinformatieservice/1.2/StatusinformatieService"
AANLEVER_PATH = "/wus/2.0/aanleverservice/1.2"
STATUS_PATH = "/wus/2.0/statusinformatieservice/1.2"


class SoapFormatError(DigipoortError):
    """A message is not the SOAP/koppelvlak structure expected (names the element, not its content)."""


@dataclass(frozen=True)
class Operation:
    """One WUS operation: its service, payload elements and the action URIs derived from them."""

    name: str
    service: str  # the action base URI: AANLEVER_SERVICE or STATUS_SERVICE
    request_element: str
    response_element: str
    fault_element: str
    fault_prefix: str  # ALS for the aanleverservice, STS for the statusinformatieservice

    @property
    def action(self) -> str:
        return f"{self.service}/{self.name}Request"

    @property
    def response_action(self) -> str:
        return f"{self.service}/{self.name}Response"

    @property
    def fault_action(self) -> str:
        return f"{self.service}/{self.name}/Fault/"


AANLEVEREN = Operation(
    "aanleveren", AANLEVER_SERVICE, "aanleverRequest", "aanleverResponse", "aanleverFault", "ALS"
)
GET_STATUSSEN_PROCES = Operation(
    "getStatussenProces", STATUS_SERVICE, "getStatussenProcesRequest", "getStatussenProcesResponse",
    "statusinformatieFault", "STS",
)  # fmt: skip
GET_NIEUWE_STATUSSEN_PROCES = Operation(
    "getNieuweStatussenProces", STATUS_SERVICE, "getNieuweStatussenProcesRequest",
    "getNieuweStatussenProcesResponse", "statusinformatieFault", "STS",
)  # fmt: skip
GET_PROCESSEN = Operation(
    "getProcessen",
    STATUS_SERVICE,
    "getProcessenRequest",
    "getProcessenResponse",
    "statusinformatieFault",
    "STS",
)
OPERATIONS = {
    op.action: op for op in (AANLEVEREN, GET_STATUSSEN_PROCES, GET_NIEUWE_STATUSSEN_PROCES, GET_PROCESSEN)
}


@dataclass(frozen=True)
class AanleverResult:
    """Digipoort's answer to aanleveren: `kenmerk` identifies the process from now on."""

    kenmerk: str
    timestamp: datetime  # tijdstempelAangeleverd
    aanleverkenmerk: str | None = None
    berichtsoort: str | None = None


@dataclass(frozen=True)
class Process:
    """One `ProcesResultaat` of getProcessen. The XSD gives it no timestamp and no aanleverkenmerk:
    to date a process, ask its status history (its 105/100 timestamps)."""

    kenmerk: str
    berichtsoort: str
    identiteit_nummer: str  # identiteitBelanghebbende/nummer: the loonheffingennummer for uwvcli
    identiteit_type: str


@dataclass(frozen=True)
class Fault:
    """A SOAP Fault as Digipoort sends it: `foutcode`/`foutbeschrijving` come from the detail."""

    faultcode: str
    faultstring: str
    foutcode: str | None
    foutbeschrijving: str | None


# --------------------------------------------------------------------------------------- parsing

_PARSER = xmlsafe.parser()


def parse_xml(data: bytes) -> etree._Element:
    """Parse XML from outside: no entities, no DTD, no network. A DOCTYPE is refused outright."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        reason = xmlsafe.syntax_reason(error)
        raise SoapFormatError(f"the message is not well-formed XML ({reason})") from None
    if root.getroottree().docinfo.doctype:
        raise SoapFormatError("the message carries a DOCTYPE, which SOAP forbids")
    return root


_READING_PARSER = xmlsafe.parser(keep_comments=False)


def canonical(element: etree._Element) -> etree._Element:
    """A copy of `element` as its exclusive C14N reads, without comments and processing
    instructions: the text a signature covers, whole again. `<kenmerk>276e<!---->-1fb2</kenmerk>`
    reads as `276e-1fb2`, never as `276e` (lxml's `.text` stops at a comment or a processing
    instruction). Every value uwvcli takes from an answer is read from such a copy."""
    serialized = etree.tostring(element, method="c14n", exclusive=True, with_comments=False)
    return etree.fromstring(serialized, _READING_PARSER)


# -------------------------------------------------------------------------------------- building


def kv(name: str, text: str | None = None, *children: etree._Element) -> etree._Element:
    """A koppelvlak element, optionally with text or children (in the order given)."""
    element = etree.Element(f"{{{KV}}}{name}", nsmap={None: KV})
    if text is not None:
        element.text = text
    element.extend(children)
    return element


def identiteit(name: str, nummer: str, type_: str) -> etree._Element:
    return kv(name, None, kv("nummer", nummer), kv("type", type_))


def aanlever_request(
    *,
    berichtsoort: str,
    aanleverkenmerk: str,
    loonheffingennummer: str,
    rol: str,
    bestandsnaam: str,
    inhoud_base64: str,
) -> etree._Element:
    """The aanleverRequest payload exactly as uwvcli fills it (DIGIPOORT.md), in XSD order."""
    return kv(
        "aanleverRequest",
        None,
        kv("berichtsoort", berichtsoort),
        kv("aanleverkenmerk", aanleverkenmerk),
        identiteit("identiteitBelanghebbende", loonheffingennummer, IDENTITEIT_TYPE_LHNR),
        kv("rolBelanghebbende", rol),
        kv("berichtInhoud", None, kv("mimeType", "application/xml"), kv("bestandsnaam", bestandsnaam),
           kv("inhoud", inhoud_base64)),
        kv("autorisatieAdres", AUTORISATIE_ADRES),
    )  # fmt: skip


def statussen_request(operation: Operation, kenmerk: str) -> etree._Element:
    """getStatussenProcesRequest or getNieuweStatussenProcesRequest for one process."""
    return kv(
        operation.request_element, None, kv("kenmerk", kenmerk), kv("autorisatieAdres", AUTORISATIE_ADRES)
    )


def processen_request(berichtsoort: str, loonheffingennummer: str) -> etree._Element:
    return kv(
        "getProcessenRequest",
        None,
        kv("berichtsoort", berichtsoort),
        identiteit("identiteitBelanghebbende", loonheffingennummer, IDENTITEIT_TYPE_LHNR),
        kv("autorisatieAdres", AUTORISATIE_ADRES),
    )


def envelope(
    payload: etree._Element, *, action: str, to: str, relates_to: str | None = None, reply_to: bool = True
) -> tuple[etree._Element, str]:
    """A SOAP 1.1 envelope with the WS-Addressing headers (each with a wsu:Id, ready to be
    signed) and `payload` as the Body's only child. Returns the envelope and its new MessageID."""
    message_id = f"urn:uuid:{uuid.uuid4()}"
    root = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11, "wsa": WSA, "wsu": WSU})
    header = etree.SubElement(root, f"{{{SOAP11}}}Header")
    values = [("Action", action), ("MessageID", message_id), ("To", to)]
    if relates_to is not None:
        values.append(("RelatesTo", relates_to))
    for name, value in values:
        element = etree.SubElement(header, f"{{{WSA}}}{name}")
        element.set(f"{{{WSU}}}Id", f"{name}-{uuid.uuid4().hex}")
        element.text = value
    if reply_to:
        reply = etree.SubElement(header, f"{{{WSA}}}ReplyTo")
        reply.set(f"{{{WSU}}}Id", f"ReplyTo-{uuid.uuid4().hex}")
        etree.SubElement(reply, f"{{{WSA}}}Address").text = ANONYMOUS
    body = etree.SubElement(root, f"{{{SOAP11}}}Body")
    body.set(f"{{{WSU}}}Id", f"Body-{uuid.uuid4().hex}")
    body.append(payload)
    return root, message_id


def fault_envelope(
    operation: Operation, foutcode: str, foutbeschrijving: str, *, relates_to: str | None
) -> bytes:
    """An unsigned SOAP Fault as Digipoort sends it (faultcode soapenv:Client, faultstring
    "Algemene fout", the koppelvlak fault element in `detail`)."""
    fault = kv(
        operation.fault_element, None, kv("foutcode", foutcode), kv("foutbeschrijving", foutbeschrijving)
    )
    root, _ = envelope(
        fault, action=operation.fault_action, to=ANONYMOUS, relates_to=relates_to, reply_to=False
    )
    body = root.find(f"{{{SOAP11}}}Body")
    assert body is not None
    body.remove(fault)
    soap_fault = etree.SubElement(body, f"{{{SOAP11}}}Fault")
    etree.SubElement(soap_fault, "faultcode").text = "soapenv:Client"
    etree.SubElement(soap_fault, "faultstring").text = "Algemene fout"
    etree.SubElement(soap_fault, "faultactor").text = "Verantwoordingsplichtige"
    etree.SubElement(soap_fault, "detail").append(fault)
    return serialize(root)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def xsd_datetime(moment: datetime) -> str:
    """UTC with milliseconds and a Z, as Digipoort writes timestamps."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -------------------------------------------------------------------------------------- reading


def body_payload(body: etree._Element) -> etree._Element:
    """The single element inside a SOAP Body."""
    children = [child for child in body if isinstance(child.tag, str)]
    if len(children) != 1:
        raise SoapFormatError(f"the SOAP Body must hold exactly one element (found {len(children)})")
    return children[0]


def addressing(header: etree._Element) -> dict[str, str]:
    """The WS-Addressing headers by local name (ReplyTo: its Address)."""
    values: dict[str, str] = {}
    for child in header:
        if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{WSA}}}"):
            continue
        name = etree.QName(child).localname
        text = child.findtext(f"{{{WSA}}}Address") if name in ("ReplyTo", "FaultTo", "From") else child.text
        values[name] = (text or "").strip()
    return values


def find_fault(root: etree._Element) -> Fault | None:
    """The SOAP Fault in an envelope, or None when it is not a fault."""
    fault = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    if fault is None:
        return None
    # SOAP 1.1 leaves `detail` unqualified (as Digipoort writes it); some stacks qualify it. The
    # foutcode decides between "refused" and "in doubt", so it is read from either.
    detail = fault.find("detail")
    if detail is None:
        detail = fault.find(f"{{{SOAP11}}}detail")
    koppelvlak = next((c for c in detail if isinstance(c.tag, str)), None) if detail is not None else None
    return Fault(
        faultcode=(fault.findtext("faultcode") or "").strip(),
        faultstring=(fault.findtext("faultstring") or "").strip(),
        foutcode=kv_text(koppelvlak, "foutcode") if koppelvlak is not None else None,
        foutbeschrijving=kv_text(koppelvlak, "foutbeschrijving") if koppelvlak is not None else None,
    )


def expect(payload: etree._Element, name: str) -> etree._Element:
    if payload.tag != f"{{{KV}}}{name}":
        raise SoapFormatError(f"expected a {name} in the SOAP Body, found {etree.QName(payload).localname}")
    return payload


def read_aanlever_response(payload: etree._Element) -> AanleverResult:
    expect(payload, "aanleverResponse")
    return AanleverResult(
        kenmerk=_required(payload, "kenmerk"),
        timestamp=read_datetime(_required(payload, "tijdstempelAangeleverd"), "tijdstempelAangeleverd"),
        aanleverkenmerk=kv_text(payload, "aanleverkenmerk"),
        berichtsoort=kv_text(payload, "berichtsoort"),
    )


def read_statussen(payload: etree._Element, operation: Operation) -> list[StatusRecord]:
    """The StatusResultaat list of a status response, sorted by timestamp (never by code: 105
    comes before 100). The sort is stable, so equal timestamps keep Digipoort's order."""
    expect(payload, operation.response_element)
    container = payload.find(f"{{{KV}}}{operation.name}Return")
    if container is None:
        raise SoapFormatError(f"{operation.response_element} has no {operation.name}Return")
    records = [_status(item) for item in container.findall(f"{{{KV}}}StatusResultaat")]
    return sorted(records, key=lambda record: record.timestamp)


def read_processen(payload: etree._Element) -> list[Process]:
    expect(payload, "getProcessenResponse")
    container = payload.find(f"{{{KV}}}getProcessenReturn")
    if container is None:
        raise SoapFormatError("getProcessenResponse has no getProcessenReturn")
    return [
        Process(
            kenmerk=_required(item, "kenmerk"),
            berichtsoort=_required(item, "berichtsoort"),
            identiteit_nummer=_required(item, "identiteitBelanghebbende", "nummer"),
            identiteit_type=_required(item, "identiteitBelanghebbende", "type"),
        )
        for item in container.findall(f"{{{KV}}}ProcesResultaat")
    ]


def _status(item: etree._Element) -> StatusRecord:
    fout = item.find(f"{{{KV}}}statusFoutcode")
    return StatusRecord(
        code=_required(item, "statuscode"),
        timestamp=read_datetime(_required(item, "tijdstempelStatus"), "tijdstempelStatus"),
        description=item.findtext(f"{{{KV}}}statusomschrijving") or "",
        foutcode=kv_text(fout, "foutcode") if fout is not None else None,
        foutbeschrijving=fout.findtext(f"{{{KV}}}foutbeschrijving") if fout is not None else None,
        details=item.findtext(f"{{{KV}}}statusdetails"),
    )


def read_datetime(text: str, name: str) -> datetime:
    """An xsd:dateTime; one without a zone is taken as UTC (Digipoort always writes Z)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SoapFormatError(f"{name} is not an xsd:dateTime") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def kv_text(parent: etree._Element, *names: str) -> str | None:
    """The stripped text of the koppelvlak element at `names` below `parent`, None when absent."""
    value = parent.findtext("/".join(f"{{{KV}}}{name}" for name in names))
    return value.strip() if value is not None else None


def _required(parent: etree._Element, *names: str) -> str:
    value = kv_text(parent, *names)
    if not value:
        raise SoapFormatError(f"{etree.QName(parent).localname} has no {'/'.join(names)}")
    return value
