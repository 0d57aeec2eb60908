"""An independent minimal Digipoort WUS peer for interoperability tests.

uwvcli's client and its simulator were written together, so they can share a blind spot. This
peer shares no code with them: it never imports `uwvcli.digipoort` (nor anything else of uwvcli).
It follows ../shared/spec/DIGIPOORT.md, the reference XSD and the captured real responses:

- HTTPS on loopback with required client certificates (`ssl` + `http.server`, HTTP/1.1
  keep-alive), certificates from `trustme` (RSA);
- requests are verified with python-xmlsec (libxmlsec1), a different implementation from
  uwvcli's lxml+cryptography verifier: wsu:Id attributes registered, the ds:Signature checked
  with the certificate of the BinarySecurityToken, which must be the TLS client certificate; the
  references must cover Body, Timestamp and every WS-Addressing header; wsa:Action, To,
  MessageID and ReplyTo, the quoted SOAPAction header, `Content-Type: text/xml; charset=UTF-8`,
  mustUnderstand on wsse:Security, a fresh Timestamp, and the Body against the *reference* XSD;
- answers are shaped like the captured `valid-*-response.xml` (prefixes `soapenv`, `s`, `u`,
  `wsse`/`wsu` declared locally, an unprefixed `Signature` with an indented SignedInfo, ids
  `w_20`..`w_25`, Expires ten minutes after Created) and signed by python-xmlsec with a service
  certificate; refusals are unsigned faults shaped like the captured `fault-*.xml`.

`ResponseStyle` varies what a real peer may vary and the simulator never does (prefixes,
pretty-printing, InclusiveNamespaces, the order inside wsse:Security, timestamp notation,
content type, chunked transfer encoding, status order).
"""

from __future__ import annotations

import base64
import gzip
import http.server
import re
import ssl
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import trustme
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
KV = "http://logius.nl/digipoort/koppelvlakservices/1.2/"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"

AANLEVER_PATH = "/wus/2.0/aanleverservice/1.2"
STATUS_PATH = "/wus/2.0/statusinformatieservice/1.2"
AANLEVER_SERVICE = "http://logius.nl/digipoort/wus/2.0/aanleverservice/1.2/AanleverService"
STATUS_SERVICE = "http://logius.nl/digipoort/wus/2.0/statusinformatieservice/1.2/StatusinformatieService"
OPERATIONS = {  # path -> operation names served there
    AANLEVER_PATH: (AANLEVER_SERVICE, ("aanleveren",)),
    STATUS_PATH: (STATUS_SERVICE, ("getStatussenProces", "getNieuweStatussenProces", "getProcessen")),
}
SIGNATURE_METHODS = {
    "rsa-sha1": (f"{DS}rsa-sha1", f"{DS}sha1"),
    "rsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256"),
}  # fmt: skip

# Digipoort's own words in the captured faults; the peer appends what was wrong.
KOPPELVLAK_FOUT = (
    "Het verzoek voldoet niet aan de koppelvlakspecificaties en kan hierdoor niet door Digipoort "
    "worden verwerkt.\n\nDe volgende fout is opgetreden: \n"
)
LIFECYCLE = (
    ("105", "Aanleverproces gestart."),
    ("100", "Aanleveren gelukt."),
    ("110", "Aanleverproces wordt aangeboden."),
    ("200", "Authenticatie gelukt."),
    ("301", "Validatie gelukt."),
    ("405", "Afleveren naar uitvragende partij bezig..."),
    ("400", "Afleveren uitvragende partij gelukt."),
    ("500", "Validatie bij de uitvragende partij gelukt."),
)
ACKNOWLEDGEMENT = (  # statusdetails of the 500, as in the captured getNieuweStatussenProces answer
    '<Responsemessage version="2006.1">\n<Identification>\n<ResponseType>acknowledgement'
    "</ResponseType>\n</Identification>\n<Specification>\n<Class>A</Class>\n<Code>0001</Code>\n"
    "<Description>Status: Verwerkbaar</Description>\n</Specification>\n</Responsemessage>"
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


# ------------------------------------------------------------------------------------------ PKI


@dataclass
class PeerPki:
    """A throwaway CA with the peer's TLS server certificate, its response-signing (service)
    certificate and a sender (client) certificate, written as PEM files into `folder`."""

    folder: Path
    ca: trustme.CA
    server: trustme.LeafCert
    service: trustme.LeafCert
    sender: trustme.LeafCert

    @classmethod
    def create(cls, folder: Path) -> PeerPki:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        ca = trustme.CA(key_type=trustme.KeyType.RSA, organization_name="Interop peer test CA")
        rsa = trustme.KeyType.RSA
        pki = cls(
            folder,
            ca,
            server=ca.issue_cert("127.0.0.1", "localhost", key_type=rsa),
            service=ca.issue_cert("digipoort-service.peer.test", common_name="Peer service", key_type=rsa),
            sender=ca.issue_cert("sender.peer.test", common_name="Peer sender", key_type=rsa),
        )
        ca.cert_pem.write_to_path(str(pki.ca_bundle))
        pki.service.cert_chain_pems[0].write_to_path(str(pki.service_certificate))
        pki.sender.cert_chain_pems[0].write_to_path(str(pki.sender_certificate))
        pki.sender.private_key_pem.write_to_path(str(pki.sender_key))
        for path in (pki.ca_bundle, pki.service_certificate, pki.sender_certificate, pki.sender_key):
            path.chmod(0o600)
        return pki

    @property
    def ca_bundle(self) -> Path:
        return self.folder / "peer-ca.pem"

    @property
    def service_certificate(self) -> Path:
        return self.folder / "peer-service.pem"

    @property
    def sender_certificate(self) -> Path:
        return self.folder / "sender.pem"

    @property
    def sender_key(self) -> Path:
        return self.folder / "sender.key"

    @property
    def service_token(self) -> str:
        """The service certificate as a BinarySecurityToken holds it: base64 of the DER."""
        certificate = x509.load_pem_x509_certificate(self.service.cert_chain_pems[0].bytes())
        return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.server.configure_cert(context)
        self.ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
        return context


# ---------------------------------------------------------------------------- answer variation


@dataclass(frozen=True)
class ResponseStyle:
    """How the peer writes its answers. The defaults reproduce the captured real responses."""

    envelope_prefix: str = "soapenv"
    pretty: bool = False  # newlines and indentation between all elements
    prefix_list: str | None = None  # InclusiveNamespaces PrefixList in c14n method and transforms
    signature_first: bool = False  # ds:Signature before the Timestamp and the token
    token_last: bool = False  # the BinarySecurityToken after the ds:Signature
    timestamp: str = "millis-z"  # millis-z | seconds-offset (+01:00) | seven-digits-z
    algorithm: str = "rsa-sha1"
    content_type: str = "text/xml;charset=utf-8"
    chunked: bool = False
    statuses_reversed: bool = False
    statusdetails: bool = True
    xml_declaration: bool = False
    must_understand: str | None = "1"  # on wsse:Security; None: the attribute is left out
    sign_token: bool = False  # also sign the BinarySecurityToken (WS-SecurityPolicy ProtectTokens)
    gzip: bool = False  # Content-Encoding: gzip when the client accepts it
    close_delimited: bool = False  # no Content-Length: the body ends when the connection closes


def xsd_datetime(moment: datetime, notation: str) -> str:
    moment = moment.astimezone(UTC)
    if notation == "millis-z":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if notation == "seven-digits-z":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"
    if notation == "seconds-offset":
        return moment.astimezone(timezone(timedelta(hours=1))).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    raise ValueError(notation)


# --------------------------------------------------------------------------------- processes


@dataclass
class Status:
    code: str
    description: str
    at: datetime
    details: str | None = None


@dataclass
class PeerProcess:
    kenmerk: str
    berichtsoort: str
    aanleverkenmerk: str
    nummer: str
    type: str
    statuses: list[Status]
    fetched: int = 0  # how many statuses getNieuweStatussenProces has handed out


@dataclass
class Received:
    """One request as the peer saw it, with its verdict (None: accepted)."""

    path: str
    headers: dict[str, str]
    body: bytes
    operation: str | None = None
    refusal: str | None = None


class Refusal(Exception):
    """The request does not meet the koppelvlak: answered with ALS100 / STS100."""


# ------------------------------------------------------------------------------------- the peer


@dataclass
class Canned:
    body: bytes
    status: int = 200
    content_type: str = "text/xml; charset=UTF-8"


class WusPeer:
    """The peer server. Use as a context manager; `aanlever_url` and `status_url` are its endpoints.

    `clock` is the peer's idea of now (for Timestamp freshness and its own Timestamps).
    Answers queued with `answer_next` replace the next computed answer (after the request has
    been verified), to replay captured responses; `next_payload` replaces only the next Body;
    `fault_next` refuses the next request with that foutcode and text."""

    def __init__(
        self,
        pki: PeerPki,
        *,
        schema: etree.XMLSchema,
        style: ResponseStyle = ResponseStyle(),
        algorithms: tuple[str, ...] = ("rsa-sha1", "rsa-sha256"),
        clock=lambda: datetime.now(UTC),
        idle_timeout: float = 5.0,
    ):
        self.pki = pki
        self.schema = schema
        self.style = style
        self.algorithms = algorithms
        self.clock = clock
        self.idle_timeout = idle_timeout
        self.received: list[Received] = []
        self.processes: dict[str, PeerProcess] = {}
        self.connections = 0
        self.fault_next: tuple[str, str] | None = None  # (foutcode, foutbeschrijving)
        self.next_payload: str | None = None  # the Body of the next answer, signed as usual
        self._canned: list[Canned] = []
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> WusPeer:
        peer = self

        class Handler(_Handler):
            pass

        Handler.peer = peer
        Handler.timeout = self.idle_timeout
        server = _TlsServer(("127.0.0.1", 0), Handler, self.pki.server_context(), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="wus-peer", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def aanlever_url(self) -> str:
        return self.base_url + AANLEVER_PATH

    @property
    def status_url(self) -> str:
        return self.base_url + STATUS_PATH

    def answer_next(self, body: bytes, *, status: int = 200, content_type: str = "text/xml; charset=UTF-8"):
        with self._lock:
            self._canned.append(Canned(body, status, content_type))

    def add_process(self, kenmerk: str, berichtsoort: str, nummer: str, *, statuses: list[Status]) -> None:
        self.processes[kenmerk] = PeerProcess(kenmerk, berichtsoort, "", nummer, "LHnr", statuses)

    def accepted(self, operation: str | None = None) -> list[Received]:
        return [r for r in self.received if r.refusal is None and operation in (None, r.operation)]

    # ------------------------------------------------------------------ handling

    def handle(self, path: str, headers: dict[str, str], body: bytes, client_der: bytes) -> tuple[int, bytes]:
        record = Received(path, headers, body)
        with self._lock:
            self.received.append(record)
        service, names = OPERATIONS.get(path, (None, ()))
        if service is None:
            return 404, b"not a WUS endpoint"
        fault_element = "aanleverFault" if path == AANLEVER_PATH else "statusinformatieFault"
        foutcode = "ALS100" if path == AANLEVER_PATH else "STS100"
        relates_to: str | None = None
        try:
            request = verify_request(self, path, headers, body, client_der)
            relates_to = request.message_id
            record.operation = request.operation
            if self.fault_next is not None:
                foutcode, text = self.fault_next
                self.fault_next = None
                raise Refusal(text)
            with self._lock:
                canned = self._canned.pop(0) if self._canned else None
            if canned is not None:
                return canned.status, canned.body
            payload, self.next_payload = self.next_payload or self._answer(request), None
        except Refusal as refusal:
            record.refusal = str(refusal)
            action = f"{service}/{record.operation or names[0]}/Fault/"
            return 500, fault_envelope(action, fault_element, foutcode, str(refusal), relates_to)
        action = f"{service}/{request.operation}Response"
        document = response_document(
            self.style, action, request.message_id, payload, token=self.pki.service_token
        )
        return 200, self.sign(document)

    def _answer(self, request: Request) -> str:
        body = request.payload
        if request.operation == "aanleveren":
            return self._aanleveren(body)
        if request.operation == "getProcessen":
            return self._processen(body)
        kenmerk = _text(body, "kenmerk")
        process = self.processes.get(kenmerk)
        if process is None:
            raise Refusal(f"Het kenmerk {kenmerk} is onbekend.")
        statuses = process.statuses
        if request.operation == "getNieuweStatussenProces":
            statuses, process.fetched = statuses[process.fetched :], len(statuses)
        if self.style.statuses_reversed:
            statuses = list(reversed(statuses))
        items = "".join(self._status_xml(process, s) for s in statuses)
        name = request.operation
        return f'<{name}Response xmlns="{KV}"><{name}Return>{items}</{name}Return></{name}Response>'

    def _aanleveren(self, body: etree._Element) -> str:
        now = self.clock()
        kenmerk = str(uuid.uuid4())
        nummer = _text(body, "identiteitBelanghebbende/{*}nummer")
        type_ = _text(body, "identiteitBelanghebbende/{*}type")
        statuses = [
            Status(
                code, text, now + timedelta(milliseconds=10 * i), ACKNOWLEDGEMENT if code == "500" else None
            )
            for i, (code, text) in enumerate(LIFECYCLE)
        ]
        process = PeerProcess(
            kenmerk, _text(body, "berichtsoort"), _text(body, "aanleverkenmerk"), nummer, type_, statuses
        )
        self.processes[kenmerk] = process
        return (
            f'<aanleverResponse xmlns="{KV}"><kenmerk>{kenmerk}</kenmerk>'
            f"<berichtsoort>{escape(process.berichtsoort)}</berichtsoort>"
            f"<aanleverkenmerk>{escape(process.aanleverkenmerk)}</aanleverkenmerk>"
            f"<tijdstempelAangeleverd>{xsd_datetime(now, self.style.timestamp)}</tijdstempelAangeleverd>"
            f"<identiteitBelanghebbende><nummer>{escape(nummer)}</nummer><type>{escape(type_)}</type>"
            f"</identiteitBelanghebbende><rolBelanghebbende>{escape(_text(body, 'rolBelanghebbende'))}"
            "</rolBelanghebbende><identiteitOntvanger><nummer>00000001234567890000</nummer><type>OIN</type>"
            "</identiteitOntvanger><autorisatieAdres>http://geenausp.nl</autorisatieAdres></aanleverResponse>"
        )

    def _processen(self, body: etree._Element) -> str:
        berichtsoort = _text(body, "berichtsoort")
        nummer = _text(body, "identiteitBelanghebbende/{*}nummer")
        items = "".join(
            f"<ProcesResultaat><kenmerk>{p.kenmerk}</kenmerk><berichtsoort>{escape(p.berichtsoort)}"
            f"</berichtsoort><identiteitBelanghebbende><nummer>{escape(p.nummer)}</nummer>"
            f"<type>{escape(p.type)}</type></identiteitBelanghebbende></ProcesResultaat>"
            for p in self.processes.values()
            if p.berichtsoort == berichtsoort and p.nummer == nummer
        )
        return (
            f'<getProcessenResponse xmlns="{KV}"><getProcessenReturn>{items}</getProcessenReturn>'
            "</getProcessenResponse>"
        )

    def _status_xml(self, process: PeerProcess, status: Status) -> str:
        details = (
            f"<statusdetails>{escape(status.details)}</statusdetails>"
            if status.details is not None and self.style.statusdetails
            else ""
        )
        return (
            f"<StatusResultaat><kenmerk>{process.kenmerk}</kenmerk><identiteitBelanghebbende>"
            f"<nummer>{escape(process.nummer)}</nummer><type>{escape(process.type)}</type>"
            f"</identiteitBelanghebbende><statuscode>{status.code}</statuscode><tijdstempelStatus>"
            f"{xsd_datetime(status.at, self.style.timestamp)}</tijdstempelStatus><statusomschrijving>"
            f"{escape(status.description)}</statusomschrijving>{details}</StatusResultaat>"
        )

    def sign(self, document: bytes) -> bytes:
        """Sign the answer with python-xmlsec and the service key: it fills in the DigestValues
        and the SignatureValue of the template `response_document` wrote."""
        root = etree.fromstring(document, _PARSER)
        for element in root.iter():
            if isinstance(element.tag, str) and element.get(f"{{{WSU}}}Id"):
                xmlsec.tree.add_ids(element, ["Id"])
        signature = root.find(f".//{{{DS}}}Signature")
        context = xmlsec.SignatureContext()
        context.key = xmlsec.Key.from_memory(
            self.pki.service.private_key_pem.bytes(), xmlsec.constants.KeyDataFormatPem
        )
        context.sign(signature)
        return etree.tostring(root, xml_declaration=self.style.xml_declaration, encoding="UTF-8")


# --------------------------------------------------------------------------- request checking


@dataclass
class Request:
    operation: str
    message_id: str
    payload: etree._Element


def verify_request(
    peer: WusPeer, path: str, headers: dict[str, str], body: bytes, client_der: bytes
) -> Request:
    """Every check of the module docstring, in the order a gateway would make them."""
    service, names = OPERATIONS[path]
    content_type = headers.get("content-type", "")
    if content_type.replace(" ", "").lower() != "text/xml;charset=utf-8":
        raise Refusal(f"Content-Type {content_type!r} is not text/xml; charset=UTF-8 (SOAP 1.1)")
    soap_action = headers.get("soapaction")
    if soap_action is None or not re.fullmatch(r'"[^"]+"', soap_action):
        raise Refusal(f"SOAPAction header {soap_action!r} is missing or not quoted")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise Refusal(f"not well-formed XML: {error}") from None
    if root.tag != f"{{{SOAP11}}}Envelope":
        raise Refusal(f"{root.tag} is not a SOAP 1.1 Envelope")
    header, soap_body = root.find(f"{{{SOAP11}}}Header"), root.find(f"{{{SOAP11}}}Body")
    if header is None or soap_body is None:
        raise Refusal("Header or Body missing")
    wsa = {
        etree.QName(h).localname: h
        for h in header
        if isinstance(h.tag, str) and h.tag.startswith(f"{{{WSA}}}")
    }
    action = (wsa["Action"].text or "").strip() if "Action" in wsa else None
    operation = next((n for n in names if action == f"{service}/{n}Request"), None)
    if operation is None:
        raise Refusal(f"wsa:Action {action!r} is no operation of {path}")
    if soap_action.strip('"') != action:
        raise Refusal("SOAPAction header differs from wsa:Action")
    message_id = (wsa["MessageID"].text or "").strip() if "MessageID" in wsa else ""
    if not re.fullmatch(r"urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", message_id):
        raise Refusal(f"wsa:MessageID {message_id!r} is not a urn:uuid")
    to = (wsa["To"].text or "").strip() if "To" in wsa else None
    if to != peer.base_url + path:
        raise Refusal(f"wsa:To {to!r} is not this endpoint")
    reply_to = wsa.get("ReplyTo")
    if reply_to is None or (reply_to.findtext(f"{{{WSA}}}Address") or "").strip() != ANONYMOUS:
        raise Refusal("wsa:ReplyTo is not anonymous")
    unknown = [
        h.tag
        for h in header
        if isinstance(h.tag, str) and h.tag != f"{{{WSSE}}}Security" and h not in wsa.values()
    ]
    if unknown:
        raise Refusal(f"unexpected header blocks {unknown}")
    _verify_security(peer, root, header, soap_body, wsa, client_der)
    payloads = [child for child in soap_body if isinstance(child.tag, str)]
    if len(payloads) != 1:
        raise Refusal("the Body must hold exactly one element")
    if not peer.schema.validate(payloads[0]):
        raise Refusal(f"schema: {peer.schema.error_log.last_error.message}")
    return Request(operation, message_id, payloads[0])


def _verify_security(
    peer: WusPeer,
    root: etree._Element,
    header: etree._Element,
    body: etree._Element,
    wsa: dict[str, etree._Element],
    client_der: bytes,
) -> None:
    securities = header.findall(f"{{{WSSE}}}Security")
    if len(securities) != 1:
        raise Refusal("exactly one wsse:Security header is required")
    security = securities[0]
    if security.get(f"{{{SOAP11}}}mustUnderstand") not in ("1", "true"):
        raise Refusal("wsse:Security lacks soapenv:mustUnderstand")
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    if timestamp is None:
        raise Refusal("no wsu:Timestamp")
    now = peer.clock()
    created = _instant(timestamp.findtext(f"{{{WSU}}}Created"))
    expires = _instant(timestamp.findtext(f"{{{WSU}}}Expires"))
    if created is None or expires is None:
        raise Refusal("wsu:Timestamp needs Created and Expires with a time zone")
    if created > now + timedelta(minutes=5) or expires < now:
        raise Refusal("wsu:Timestamp is not current")
    token = security.find(f"{{{WSSE}}}BinarySecurityToken")
    if token is None or token.get("ValueType") != X509V3 or token.get("EncodingType") != BASE64_BINARY:
        raise Refusal("no X509v3 Base64Binary BinarySecurityToken")
    der = base64.b64decode("".join((token.text or "").split()))
    if der != client_der:
        raise Refusal("the BinarySecurityToken is not the TLS client certificate")
    signature = security.find(f"{{{DS}}}Signature")
    if signature is None:
        raise Refusal("no ds:Signature in wsse:Security")
    str_reference = signature.find(f"{{{DS}}}KeyInfo/{{{WSSE}}}SecurityTokenReference/{{{WSSE}}}Reference")
    if str_reference is None or str_reference.get("URI") != f"#{token.get(f'{{{WSU}}}Id')}":
        raise Refusal("KeyInfo does not refer to the BinarySecurityToken")
    method = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
    allowed = {SIGNATURE_METHODS[a][0]: SIGNATURE_METHODS[a][1] for a in peer.algorithms}
    if method is None or method.get("Algorithm") not in allowed:
        raise Refusal("signature method not accepted")

    ids: dict[str, etree._Element] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and (value := element.get(f"{{{WSU}}}Id")) is not None:
            if value in ids:
                raise Refusal(f"duplicate wsu:Id {value}")
            ids[value] = element
            xmlsec.tree.add_ids(element, ["Id"])
    referenced = set()
    for reference in signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
        transforms = reference.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")
        if [t.get("Algorithm") for t in transforms] != [EXC_C14N]:
            raise Refusal("every reference needs exactly one exclusive C14N transform")
        digest = reference.find(f"{{{DS}}}DigestMethod")
        if digest is None or digest.get("Algorithm") != allowed[method.get("Algorithm")]:
            raise Refusal("digest method does not match the signature method")
        referenced.add(reference.get("URI", "").removeprefix("#"))
    for name, element in {
        "Body": body,
        "Timestamp": timestamp,
        **{f"wsa:{k}": v for k, v in wsa.items()},
    }.items():
        if element.get(f"{{{WSU}}}Id") not in referenced:
            raise Refusal(f"the signature does not cover {name}")

    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(
        x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM),
        xmlsec.constants.KeyDataFormatCertPem,
    )
    try:
        context.verify(signature)
    except xmlsec.Error as error:
        raise Refusal(f"the signature does not verify ({error})") from None


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else None


def _text(parent: etree._Element, path: str) -> str:
    return (parent.findtext(f"{{{KV}}}{path}") or "").strip()


# ------------------------------------------------------------------------------ answer shapes


def response_document(
    style: ResponseStyle, action: str, relates_to: str, payload: str, *, token: str
) -> bytes:
    """An unsigned answer in the captured shape (`token`: the base64 DER service certificate),
    with an empty Signature template for `WusPeer.sign` to fill."""
    e = style.envelope_prefix
    signature_uri, digest_uri = SIGNATURE_METHODS[style.algorithm]
    now = datetime.now(UTC)
    token_id = f"SecurityToken-{uuid.uuid4()}"
    prefix_list = (
        f'<x:InclusiveNamespaces PrefixList="{style.prefix_list}"/>' if style.prefix_list is not None else ""
    )
    wsu = f'xmlns:wsu="{WSU}"'
    references = "".join(
        f'\n  <Reference URI="#{ref}">\n    <Transforms>\n      <Transform Algorithm="{EXC_C14N}">'
        f'{prefix_list}</Transform>\n    </Transforms>\n    <DigestMethod Algorithm="{digest_uri}"/>\n'
        "    <DigestValue></DigestValue>\n  </Reference>"
        for ref in ("w_25", "w_21", "w_22", "w_23", "w_24", "w_20", *([token_id] if style.sign_token else []))
    )
    signature = (
        f'<Signature xmlns="{DS}">\n<SignedInfo>\n  <CanonicalizationMethod Algorithm="{EXC_C14N}">'
        f'{prefix_list}</CanonicalizationMethod>\n  <SignatureMethod Algorithm="{signature_uri}"/>'
        f"{references}\n</SignedInfo>\n    <SignatureValue></SignatureValue><KeyInfo>"
        f'<wsse:SecurityTokenReference xmlns:wsse="{WSSE}" xmlns=""><wsse:Reference URI="#{token_id}" '
        f'ValueType="{X509V3}"/></wsse:SecurityTokenReference></KeyInfo></Signature>'
    )
    timestamp = (
        f'<u:Timestamp u:Id="w_25"><u:Created>{xsd_datetime(now, style.timestamp)}</u:Created>'
        f"<u:Expires>{xsd_datetime(now + timedelta(minutes=10), style.timestamp)}</u:Expires></u:Timestamp>"
    )
    token = (
        f'<wsse:BinarySecurityToken wsu:Id="{token_id}" EncodingType="{BASE64_BINARY}" '
        f'ValueType="{X509V3}" {wsu} xmlns:wsse="{WSSE}">{token}</wsse:BinarySecurityToken>'
    )
    parts = [timestamp, token, signature]
    if style.signature_first:
        parts = [signature, timestamp, token]
    elif style.token_last:
        parts = [timestamp, signature, token]
    o = "o" if e == "s" else "s"  # WCF writes s: for the envelope and o: for wsse
    must_understand = f' {e}:mustUnderstand="{style.must_understand}"' if style.must_understand else ""
    security = (
        f'<{o}:Security{must_understand} xmlns:d="{DS}" xmlns:{o}="{WSSE}" xmlns:u="{WSU}" '
        f'xmlns:x="{EXC_C14N}">{"".join(parts)}</{o}:Security>'
    )
    addressing = (
        f'<wsa:To wsu:Id="w_21" {wsu}>{ANONYMOUS}</wsa:To>'
        f'<wsa:MessageID wsu:Id="w_22" {wsu}>urn:uuid:{uuid.uuid4()}</wsa:MessageID>'
        f'<wsa:Action wsu:Id="w_23" {wsu}>{action}</wsa:Action>'
        f'<wsa:RelatesTo wsu:Id="w_24" {wsu}>{relates_to}</wsa:RelatesTo>'
    )
    text = (
        f'<{e}:Envelope xmlns:{e}="{SOAP11}" xmlns:wsa="{WSA}"><{e}:Header>{security}{addressing}'
        f'</{e}:Header><{e}:Body wsu:Id="w_20" {wsu}>{payload}</{e}:Body></{e}:Envelope>'
    )
    if not style.pretty:
        return text.encode()
    root = etree.fromstring(text.encode(), _PARSER)
    etree.indent(root, space="    ")
    return etree.tostring(root)


def fault_envelope(
    action: str, fault_element: str, foutcode: str, reason: str, relates_to: str | None
) -> bytes:
    """An unsigned fault exactly in the shape of the captured fault-deliver-response.xml."""
    relates = f"<wsa:RelatesTo>{relates_to}</wsa:RelatesTo>" if relates_to else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:wsa="{WSA}"><soapenv:Header>'
        f"<wsa:To>{ANONYMOUS}</wsa:To><wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:Action>{action}</wsa:Action>{relates}</soapenv:Header><soapenv:Body><soapenv:Fault>"
        "<faultcode>soapenv:Client</faultcode><faultstring>Algemene fout</faultstring>"
        f'<faultactor>Verantwoordingsplichtige</faultactor><detail><fault:{fault_element} xmlns:fault="{KV}">'
        f"<fault:foutcode>{foutcode}</fault:foutcode><fault:foutbeschrijving>"
        f"{escape(KOPPELVLAK_FOUT + reason)}\n\n</fault:foutbeschrijving></fault:{fault_element}></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


# ------------------------------------------------------------------------------- HTTP over TLS


class _TlsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, context: ssl.SSLContext, peer: WusPeer):
        self.context = context
        self.peer = peer
        super().__init__(address, handler)

    def get_request(self):  # type: ignore[no-untyped-def]
        """Wrap each connection; the handshake happens in the handler's thread."""
        connection, address = self.socket.accept()
        with self.peer._lock:
            self.peer.connections += 1
        return self.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address


class _Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive: one connection serves requests until the client closes it or
    stays idle for `timeout` seconds."""

    protocol_version = "HTTP/1.1"
    peer: WusPeer

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
            raise

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        client_der = self.connection.getpeercert(binary_form=True) or b""
        status, answer = self.peer.handle(self.path, headers, body, client_der)
        style = self.peer.style
        content_type = style.content_type if status == 200 else "text/xml; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if style.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            answer = gzip.compress(answer)
            self.send_header("Content-Encoding", "gzip")
        if style.close_delimited:  # HTTP/1.0 style: the end of the connection ends the body
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(answer)
            self.close_connection = True
        elif style.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(answer), 700):
                chunk = answer[start : start + 700]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read `WusPeer.received` instead."""
