"""A local Digipoort: the WUS aanlever- and statusinformatieservice over HTTPS with mutual TLS.

Good enough to develop and test uwvcli against, and to try it on a fresh machine
(DIGIPOORT.md "The simulator"). It checks requests the way Digipoort does (SOAP 1.1, the
koppelvlak schema, WS-Addressing, a fresh Timestamp, a signature over Body, Timestamp and every
WS-Addressing header made with the TLS client's own certificate, a known berichtsoort) and answers
a refusal with the fault Digipoort would give (ALS100 / STS100, HTTP 500, unsigned). It checks the
UWV message inside `berichtInhoud` with uwvcli's own message checks (311 + VAS500 when they
fail), signs its answers with its service certificate, keeps every process and its status history
in SQLite in its folder, and, like Digipoort, never deduplicates: it counts what it received.

Failures are injected per message by markers in the `aanleverkenmerk` (or for every message with
`scenario`): see `MARKERS` and docs/digipoort.md. The simulator stores no message content.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import random
import re
import socket
import sqlite3
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from uwvcli.digipoort import soap
from uwvcli.digipoort.addresses import DEFAULT_BERICHTSOORTEN
from uwvcli.digipoort.soap import KV, SOAP11, SOAP12, WSA, WSSE, Operation, kv
from uwvcli.digipoort.wss import WsSecurityError, sign_envelope, verify_envelope
from uwvcli.simulator.pki import TestPki, ensure_test_pki, simulator_pki_folder

log = logging.getLogger("uwvcli.simulator")

LIFECYCLES = ("instant", "timed")
MAX_REQUEST_BYTES = 32 * 1024 * 1024  # the XSD allows 20 MiB of base64 content, plus the envelope
STORE_NAME = "simulator.sqlite3"
RECEIVED_PATH = "/simulator/received"

REFUSAL = (
    "Het verzoek voldoet niet aan de koppelvlakspecificaties en kan hierdoor niet door Digipoort "
    "worden verwerkt.\n\nDe volgende fout is opgetreden: \n"
)

#: Markers in an aanleverkenmerk (or in `scenario`) and what each does. Documented in docs/digipoort.md.
MARKERS = {
    "FAULT-ALSnnn": "aanleveren is refused at once with that fault code (no process is started)",
    "FLOW-nnn": "the process ends in status nnn: 210, 230, 311 (VAS500), 321 (VAS400), 410 (AFS400), "
    "420 (retrying, then AFS600), 510; FLOW-400 stops at 400 without a 5xx",
    "SLOW-n": "the answer to aanleveren comes after n seconds (the process exists meanwhile)",
    "HTTP503": "the first aanleveren of this aanleverkenmerk gets HTTP 503 and is not processed",
    "DROP-AFTER-ACCEPT": "the process is started, then the connection is closed without an answer",
    "BAD-SIGNATURE": "the answer to aanleveren carries a signature that does not verify",
    "BADSIG-STATUS": "answers to status calls about this process carry a signature that does not verify",
}
_FAULT = re.compile(r"FAULT-(ALS\d{3})")
_FLOW = re.compile(r"FLOW-(210|230|311|321|400|410|420|510)")
_SLOW = re.compile(r"SLOW-(\d{1,3}(?:\.\d+)?)")

# (statuscode, statusomschrijving) as Digipoort words them (codes.yaml, captured responses).
_TEXT = {
    "105": "Aanleverproces gestart.",
    "100": "Aanleveren gelukt.",
    "110": "Aanleverproces wordt aangeboden.",
    "200": "Authenticatie gelukt.",
    "210": "Authenticatie (verzender) niet gelukt.",
    "230": "Technisch probleem bij de Autorisatie Service Provider (AuSP).",
    "301": "Validatie gelukt.",
    "311": "Validatie niet gelukt.",
    "321": "Technisch probleem bij validatie.",
    "405": "Afleveren naar uitvragende partij bezig...",
    "400": "Afleveren uitvragende partij gelukt.",
    "410": "Afleveren uitvragende partij niet gelukt.",
    "420": "Technisch probleem bij de afleverservice van de uitvragende partij.",
    "500": "Validatie bij de uitvragende partij gelukt.",
    "510": "Validatie bij de uitvragende partij niet gelukt.",
}
_FOUT = {
    "311": ("VAS500", "Het bericht voldoet niet aan de validatieregels."),
    "321": ("VAS400", "Er is een technische fout opgetreden bij de validatie. Probeer het later opnieuw."),
    "410": ("AFS400", "Er is een technische fout in de afleverservice van de Procesinfrastructuur "
                      "opgetreden."),
    "420": ("AFS600", "De verantwoordingsinformatie kan niet worden afgeleverd bij de betreffende "
                      "uitvragende partij."),
}  # fmt: skip
_RECEIVER_REJECTION = "De uitvragende partij heeft het bericht afgekeurd (simulator: FLOW-510)."


@dataclass(frozen=True)
class SimulatedStatus:
    code: str
    foutcode: str | None = None
    foutbeschrijving: str | None = None
    details: str | None = None


def lifecycle(flow: str | None, problems: list[str] | None) -> list[SimulatedStatus]:
    """The statuses a process goes through: the typical history 105, 100, 110, 200, 301, 405, 400,
    500, cut short by a failure `flow`, by content `problems` (311 + VAS500), or by a validation
    step that could not run (`problems` None: 321 + VAS400)."""
    start = [SimulatedStatus("105"), SimulatedStatus("100"), SimulatedStatus("110")]
    if flow in ("210", "230"):
        return [*start, SimulatedStatus(flow)]
    start.append(SimulatedStatus("200"))
    if problems is None or flow == "321":
        return [*start, SimulatedStatus("321", *_FOUT["321"])]
    if problems or flow == "311":
        details = "\n".join(problems) or "Simulator: FLOW-311."
        return [*start, SimulatedStatus("311", *_FOUT["311"], details=details)]
    delivering = [*start, SimulatedStatus("301"), SimulatedStatus("405")]
    if flow == "410":
        return [*delivering, SimulatedStatus("410", *_FOUT["410"])]
    if flow == "420":
        return [*delivering, SimulatedStatus("420"), SimulatedStatus("420", *_FOUT["420"])]
    delivered = [*delivering, SimulatedStatus("400")]
    if flow == "400":
        return delivered
    if flow == "510":
        return [*delivered, SimulatedStatus("510", details=_RECEIVER_REJECTION)]
    return [*delivered, SimulatedStatus("500")]


class Refusal(Exception):
    """A request Digipoort would refuse; `detail` completes the fault's foutbeschrijving."""

    def __init__(self, detail: str, foutcode: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.foutcode = foutcode


class RandomFaults:
    """Faults on a share of all aanleveren requests, after the process was started (for soak
    tests): the connection dropped without an answer (`drop_rate`), or the answer held back for
    `hang_seconds`, longer than the client waits (`hang_rate`). Seeded, so a run can be repeated."""

    def __init__(
        self, drop_rate: float = 0.0, hang_rate: float = 0.0, hang_seconds: float = 0.0, seed: int = 0
    ):
        self.drop_rate = drop_rate
        self.hang_rate = hang_rate
        self.hang_seconds = hang_seconds
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.counts = {"drop": 0, "hang": 0}

    def draw(self) -> str | None:
        """ "drop", "hang" or None for one accepted request."""
        if not self.drop_rate and not self.hang_rate:
            return None
        with self._lock:
            roll = self._random.random()
            fault = (
                "drop"
                if roll < self.drop_rate
                else "hang"
                if roll < self.drop_rate + self.hang_rate
                else None
            )
            if fault is not None:
                self.counts[fault] += 1
            return fault


class Simulator:
    """The local Digipoort. Use it as a context manager (or `start()`/`stop()`):

        with Simulator(tmp_path / "simulator") as digipoort:
            client = DigipoortClient(digipoort.aanlever_url, digipoort.status_url, credentials,
                                     ca_bundle=digipoort.ca_bundle,
                                     service_certificate=digipoort.service_certificate)

    Its test PKI defaults to the one of the state folder it lives in (`<state>/test-pki`, the one
    `app.credentials.load_credentials` gives the sender for `environment: simulator`); `trust` adds
    further client certificates (a configured sender certificate) it accepts for TLS.
    """

    def __init__(
        self,
        folder: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        lifecycle: str = "instant",
        step: timedelta = timedelta(seconds=2),
        trust: Iterable[x509.Certificate | Path] = (),
        berichtsoorten: Collection[str] | None = None,
        scenario: str = "",
        signature_algorithm: str = "rsa-sha1",
        pki_folder: Path | None = None,
        check_content: Callable[[bytes], list[str]] | None = None,
        faults: RandomFaults | None = None,
        holds: bool = True,
    ):
        if lifecycle not in LIFECYCLES:
            raise ValueError(f"lifecycle must be one of {', '.join(LIFECYCLES)}, not {lifecycle!r}")
        self.folder = folder
        self.host = host
        self.lifecycle = lifecycle
        self.step = step
        self.scenario = scenario
        self.signature_algorithm = signature_algorithm
        self._requested_port = port
        self._trust = [_certificate(item) for item in trust]
        self._berichtsoorten = (
            frozenset(berichtsoorten) if berichtsoorten is not None else _default_berichtsoorten()
        )
        self._check_content = check_content or _check_message
        self.faults = faults or RandomFaults()
        self._holds = holds  # keep what UWV holds and check withdrawals and revisions against it
        _private_folder(folder)
        self.pki: TestPki = ensure_test_pki(pki_folder or simulator_pki_folder(folder.parent))
        service_key = serialization.load_pem_private_key(self.pki.service_key.read_bytes(), None)
        assert isinstance(service_key, rsa.RSAPrivateKey)  # the test PKI makes RSA keys
        self._service_key = service_key
        self._service_cert = x509.load_pem_x509_certificate(self.pki.service_cert.read_bytes())
        self._schema = _own_schema()
        self._schema_lock = threading.Lock()
        self.store = _Store(folder / STORE_NAME)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --------------------------------------------------------------------------- running

    def start(self) -> Simulator:
        server = _Server((self.host, self._requested_port), _Handler, self._tls_context(), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="uwvcli-simulator", daemon=True
        )
        self._thread.start()
        log.info("Digipoort simulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def aanlever_url(self) -> str:
        return self.base_url + soap.AANLEVER_PATH

    @property
    def status_url(self) -> str:
        return self.base_url + soap.STATUS_PATH

    @property
    def ca_bundle(self) -> Path:
        """The CA that issued the simulator's TLS certificate (and the test sender's)."""
        return self.pki.ca_cert

    @property
    def service_certificate(self) -> Path:
        """The certificate the simulator signs its answers with."""
        return self.pki.service_cert

    # --------------------------------------------------------------------------- for tests

    def received(self, aanleverkenmerk: str) -> int:
        """How many processes were started for this aanleverkenmerk (no deduplication)."""
        return self.store.count("process", aanleverkenmerk)

    def attempts(self, aanleverkenmerk: str) -> int:
        """How many well-formed, correctly signed aanleveren requests carried it, including those
        refused for their content or answered with HTTP 503."""
        return self.store.count("attempt", aanleverkenmerk)

    # --------------------------------------------------------------------------- handling

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=self.pki.ca_cert)
        if self._trust:
            # A configured sender certificate is trusted as itself, whoever issued it.
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
            pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self._trust)
            context.load_verify_locations(cadata=pem.decode("ascii"))
        return context

    def handle(self, request: _Request) -> _Answer:
        """Check one SOAP request and answer it (or refuse it) the way Digipoort would."""
        operation = soap.AANLEVEREN if request.path == soap.AANLEVER_PATH else soap.GET_STATUSSEN_PROCES
        named = soap.OPERATIONS.get(request.soap_action)
        if named is not None and named.service == operation.service:
            operation = named  # the fault names the operation asked for, of the service posted to
        try:
            operation, envelope_id, payload = self._check_request(request)
            if operation is soap.AANLEVEREN:
                return self._aanleveren(payload, envelope_id)
            return self._status_call(operation, payload, envelope_id)
        except Refusal as refusal:
            code = refusal.foutcode or f"{operation.fault_prefix}100"
            log.info("refused %s: %s %s", operation.name, code, refusal.detail)
            text = REFUSAL + refusal.detail
        except Exception:  # a bug in the simulator: answered as Digipoort's technical fault
            log.exception("the simulator failed on a %s request", operation.name)
            code = "ALS400" if operation is soap.AANLEVEREN else "STS100"
            text = "Er is een technische fout in de simulator opgetreden."
        return _Answer(500, soap.fault_envelope(operation, code, text, relates_to=request.message_id))

    def _check_request(self, request: _Request) -> tuple[Operation, str, etree._Element]:
        content_type = request.content_type.split(";")[0].strip().lower()
        if content_type == "application/soap+xml":
            raise Refusal("SOAP 1.2 wordt niet ondersteund: stuur SOAP 1.1 (Content-Type text/xml).")
        if content_type != "text/xml":
            raise Refusal(f"Content-Type {content_type!r} is geen SOAP 1.1 (text/xml).")
        try:
            root = soap.parse_xml(request.body)
        except soap.SoapFormatError as error:
            raise Refusal(str(error)) from None
        if root.tag == f"{{{SOAP12}}}Envelope":
            raise Refusal("SOAP 1.2 wordt niet ondersteund: stuur een SOAP 1.1 Envelope.")
        if root.tag != f"{{{SOAP11}}}Envelope":
            raise Refusal("het bericht is geen SOAP 1.1 Envelope.")
        header = root.find(f"{{{SOAP11}}}Header")
        if header is None:
            raise Refusal("de SOAP Header ontbreekt (WS-Addressing en WS-Security zijn verplicht).")
        operation = self._check_addressing(request, header)
        try:
            verified = verify_envelope(root, trusted_certificate=request.peer_certificate)
        except WsSecurityError as error:
            raise Refusal(f"WS-Security: {error}.") from None
        payloads = [child for child in verified.body if isinstance(child.tag, str)]
        if len(payloads) != 1 or payloads[0].tag != f"{{{KV}}}{operation.request_element}":
            raise Refusal(f"de SOAP Body moet precies één {operation.request_element} bevatten.")
        payload = payloads[0]
        self._validate(payload)
        return operation, soap.addressing(header)["MessageID"], payload

    def _check_addressing(self, request: _Request, header: etree._Element) -> Operation:
        """The WS-Addressing headers Digipoort requires, and no header blocks of one's own."""
        seen: dict[str, int] = {}
        for child in header:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            if qname.namespace not in (WSA, WSSE):
                raise Refusal(f"eigen header {qname.localname!r} is niet toegestaan.")
            seen[qname.localname] = seen.get(qname.localname, 0) + 1
        for name, count in seen.items():
            if count > 1:
                raise Refusal(f"header {name} komt {count} keer voor.")
        values = soap.addressing(header)
        for name in ("Action", "MessageID", "To"):
            if not values.get(name):
                raise Refusal(f"WS-Addressing header wsa:{name} ontbreekt.")
        operation = soap.OPERATIONS.get(values["Action"])
        expected_service = (
            soap.AANLEVER_SERVICE if request.path == soap.AANLEVER_PATH else soap.STATUS_SERVICE
        )
        if operation is None or operation.service != expected_service:
            raise Refusal(f"wsa:Action {values['Action']!r} is geen operatie van deze service.")
        if request.soap_action != values["Action"]:
            raise Refusal("de HTTP-header SOAPAction is niet gelijk aan wsa:Action.")
        if not re.fullmatch(r"urn:uuid:[0-9a-fA-F-]{36}", values["MessageID"]):
            raise Refusal("wsa:MessageID is geen urn:uuid.")
        if values["To"] not in self._own_addresses(request):
            raise Refusal(f"wsa:To {values['To']!r} is niet het adres van deze service.")
        if "ReplyTo" in values and values["ReplyTo"] != soap.ANONYMOUS:
            raise Refusal(f"wsa:ReplyTo moet {soap.ANONYMOUS} zijn.")
        return operation

    def _own_addresses(self, request: _Request) -> set[str]:
        addresses = {self.base_url + request.path}
        if request.host_header:
            addresses.add(f"https://{request.host_header}{request.path}")
        return addresses

    def _validate(self, payload: etree._Element) -> None:
        with self._schema_lock:  # one validation at a time: the schema keeps its error log
            if self._schema.validate(payload):
                return
            message = self._schema.error_log[0].message
        raise Refusal(f"schemafout: {_without_values(message)}")

    # --------------------------------------------------------------------------- aanleveren

    def _aanleveren(self, payload: etree._Element, relates_to: str) -> _Answer:
        aanleverkenmerk = soap.kv_text(payload, "aanleverkenmerk") or ""
        markers = f"{aanleverkenmerk} {self.scenario}"
        attempt = self.store.add_attempt(aanleverkenmerk)
        if "HTTP503" in markers and attempt == 1:
            log.info("aanleveren %s: HTTP 503 (marker HTTP503)", aanleverkenmerk)
            return _Answer(503, b"Service Unavailable (simulator: HTTP503)\n", content_type="text/plain")
        berichtsoort = soap.kv_text(payload, "berichtsoort") or ""
        if berichtsoort not in self._berichtsoorten:
            raise Refusal(f"berichtsoort {berichtsoort!r} is onbekend.")
        nummer = soap.kv_text(payload, "identiteitBelanghebbende", "nummer") or ""
        type_ = soap.kv_text(payload, "identiteitBelanghebbende", "type") or ""
        if type_ != soap.IDENTITEIT_TYPE_LHNR or not re.fullmatch(r"\d{9}L\d{2}", nummer):
            raise Refusal("identiteitBelanghebbende moet een loonheffingennummer (type LHnr) zijn.")
        rol = soap.kv_text(payload, "rolBelanghebbende") or ""
        if rol not in ("Bedrijf", "Intermediair"):
            raise Refusal("rolBelanghebbende moet Bedrijf of Intermediair zijn.")
        if soap.kv_text(payload, "berichtInhoud", "mimeType") != "application/xml":
            raise Refusal("berichtInhoud/mimeType moet application/xml zijn.")
        if asked := _FAULT.search(markers):
            raise Refusal(f"simulator: FAULT-{asked.group(1)}.", foutcode=asked.group(1))
        try:
            content = base64.b64decode(soap.kv_text(payload, "berichtInhoud", "inhoud") or "", validate=True)
        except (binascii.Error, ValueError):
            raise Refusal("berichtInhoud/inhoud is geen geldige base64.") from None

        flow = _FLOW.search(markers)
        problems = self._content_problems(content)
        flow_code = flow.group(1) if flow else None
        melding = (
            self._melding_of(content, nummer) if problems == [] and flow is None and self._holds else None
        )
        received = datetime.now(UTC)
        kenmerk = str(uuid.uuid4())

        def schedule(refusal: str | None) -> list[tuple[SimulatedStatus, datetime, datetime]]:
            return self._schedule(lifecycle(flow_code, [refusal] if refusal else problems), received)

        statuses = self.store.add_process(
            kenmerk,
            berichtsoort,
            aanleverkenmerk,
            nummer,
            type_,
            received,
            schedule,
            markers,
            melding=melding,
        )
        log.info("aanleveren %s: process %s, ends in %s", aanleverkenmerk, kenmerk, statuses[-1][0].code)
        if slow := _SLOW.search(markers):
            time.sleep(float(slow.group(1)))
        fault = self.faults.draw()
        if "DROP-AFTER-ACCEPT" in markers or fault == "drop":
            return _DROP
        if fault == "hang":
            time.sleep(self.faults.hang_seconds)
        answer = kv(
            "aanleverResponse",
            None,
            kv("kenmerk", kenmerk),
            kv("berichtsoort", berichtsoort),
            kv("aanleverkenmerk", aanleverkenmerk),
            kv("tijdstempelAangeleverd", soap.xsd_datetime(received)),
            soap.identiteit("identiteitBelanghebbende", nummer, type_),
            kv("rolBelanghebbende", rol),
            kv("autorisatieAdres", soap.AUTORISATIE_ADRES),
        )
        return self._signed(soap.AANLEVEREN, answer, relates_to, tamper="BAD-SIGNATURE" in markers)

    def _content_problems(self, content: bytes) -> list[str] | None:
        """The message check's problems; None when the check itself broke (Digipoort's 321 case)."""
        try:
            return self._check_content(content)
        except Exception:
            log.exception("the message check failed")
            return None

    def _melding_of(self, content: bytes, nummer: str) -> Melding | None:
        """What UWV holds decides (RULES 4.6): a withdrawal must name a ReferentieMelding it holds
        from this loonheffingennummer; a new version of a notification is refused while an
        earlier one is held and not withdrawn (both a validation failure, 311). This is what the
        store checks, in the transaction that records the process."""
        from uwvcli.messages.build import message_reference, withdrawn_reference

        try:
            withdrawn = withdrawn_reference(content)
            reference = withdrawn or message_reference(content)
        except etree.XMLSyntaxError:
            return None  # not well-formed: the content check has said so already
        return Melding(nummer, reference, withdrawn is not None) if reference is not None else None

    def meldingen(self) -> list[tuple[str, str]]:
        """What the receiving side accepted, in order: ("send" or "withdraw", ReferentieMelding)."""
        return self.store.meldingen()

    def _schedule(
        self, statuses: list[SimulatedStatus], received: datetime
    ) -> list[tuple[SimulatedStatus, datetime, datetime]]:
        """(status, tijdstempelStatus, visible from): instantly all at once (a millisecond apart,
        in order), or timed, one `step` after the other."""
        if self.lifecycle == "instant":
            return [(s, received + timedelta(milliseconds=i), received) for i, s in enumerate(statuses)]
        return [(s, received + self.step * i, received + self.step * i) for i, s in enumerate(statuses)]

    # --------------------------------------------------------------------------- status calls

    def _status_call(self, operation: Operation, payload: etree._Element, relates_to: str) -> _Answer:
        if operation is soap.GET_PROCESSEN:
            berichtsoort = soap.kv_text(payload, "berichtsoort") or ""
            nummer = soap.kv_text(payload, "identiteitBelanghebbende", "nummer") or ""
            type_ = soap.kv_text(payload, "identiteitBelanghebbende", "type") or ""
            results = [
                kv("ProcesResultaat", None, kv("kenmerk", kenmerk), kv("berichtsoort", berichtsoort),
                   soap.identiteit("identiteitBelanghebbende", nummer, type_))
                for kenmerk in self.store.processes(berichtsoort, nummer, type_)
            ]  # fmt: skip
            answer = kv("getProcessenResponse", None, kv("getProcessenReturn", None, *results))
            return self._signed(operation, answer, relates_to)
        kenmerk = soap.kv_text(payload, "kenmerk") or ""
        process = self.store.process(kenmerk)
        if process is None:
            raise Refusal(f"kenmerk {kenmerk!r} is onbekend.")
        only_new = operation is soap.GET_NIEUWE_STATUSSEN_PROCES
        results = [
            _status_element(kenmerk, process["nummer"], process["type"], row)
            for row in self.store.statuses(kenmerk, datetime.now(UTC), only_new=only_new)
        ]
        answer = kv(operation.response_element, None, kv(f"{operation.name}Return", None, *results))
        return self._signed(operation, answer, relates_to, tamper="BADSIG-STATUS" in process["markers"])

    def _signed(
        self, operation: Operation, payload: etree._Element, relates_to: str, *, tamper: bool = False
    ) -> _Answer:
        root, _ = soap.envelope(
            payload,
            action=operation.response_action,
            to=soap.ANONYMOUS,
            relates_to=relates_to,
            reply_to=False,
        )
        sign_envelope(
            root,
            private_key=self._service_key,
            certificate=self._service_cert,
            algorithm=self.signature_algorithm,
        )
        if tamper:  # changed after signing: the Body digest no longer matches
            payload.append(kv("statusdetails", "altered after signing"))
        return _Answer(200, soap.serialize(root))


def _status_element(kenmerk: str, nummer: str, type_: str, row: sqlite3.Row) -> etree._Element:
    element = kv(
        "StatusResultaat",
        None,
        kv("kenmerk", kenmerk),
        soap.identiteit("identiteitBelanghebbende", nummer, type_),
        kv("statuscode", row["code"]),
        kv("tijdstempelStatus", row["tijdstempel"]),
        kv("statusomschrijving", _TEXT[row["code"]]),
    )
    if row["foutcode"]:
        element.append(kv("statusFoutcode", None, kv("foutcode", row["foutcode"]),
                          kv("foutbeschrijving", row["foutbeschrijving"])))  # fmt: skip
    if row["details"]:
        element.append(kv("statusdetails", row["details"]))
    return element


# ------------------------------------------------------------------------------------ HTTP layer


@dataclass(frozen=True)
class _Request:
    path: str
    content_type: str
    soap_action: str
    host_header: str
    body: bytes
    peer_certificate: x509.Certificate

    @property
    def message_id(self) -> str | None:
        """The request's MessageID when it can be read at all (for RelatesTo on a fault)."""
        match = re.search(rb"urn:uuid:[0-9a-fA-F-]{36}", self.body[:8192])
        return match.group().decode() if match else None


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = "text/xml; charset=UTF-8"


_DROP = _Answer(0, b"")  # close the connection without answering


class _Server(ThreadingHTTPServer):
    """Threads per connection; the TLS handshake happens in the connection's own thread, so a
    slow or refused client never blocks the others."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type, context: ssl.SSLContext, simulator: Simulator
    ):
        self.simulator = simulator
        self._context = context
        self._open: set[ssl.SSLSocket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(30)
        connection = self._context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        try:
            connection.do_handshake()
        except (ssl.SSLError, OSError) as error:
            log.info("TLS handshake with %s refused: %s", client_address[0], getattr(error, "reason", error))
            _lingering_close(connection)
            return
        with self._open_lock:
            self._open.add(connection)
        try:
            # typeshed types the third argument as `Self`, which `self` here cannot satisfy
            self.RequestHandlerClass(connection, client_address, self)  # type: ignore[arg-type]
        except OSError:
            pass  # the client went away
        finally:
            with self._open_lock:
                self._open.discard(connection)
            connection.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("connection from %s failed", client_address[0])

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _lingering_close(connection: ssl.SSLSocket) -> None:
    """Close after a refused handshake without resetting the connection. With TLS 1.3 the client
    has already sent its request when the refusal (the TLS alert) reaches it; closing with that
    request unread would make the kernel send a reset that can destroy the alert, leaving the
    client unable to tell a refusal from a connection dropped after the request was accepted."""
    raw = socket.socket(fileno=connection.detach())
    with raw, suppress(OSError):
        raw.shutdown(socket.SHUT_WR)
        raw.settimeout(1)
        while raw.recv(65536):
            pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connections
    server: _Server
    connection: ssl.SSLSocket

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path not in (soap.AANLEVER_PATH, soap.STATUS_PATH):
            self._send(_Answer(404, b"Not Found\n", content_type="text/plain"))
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._send(_Answer(411, b"Length Required\n", content_type="text/plain"))
            return
        if int(length) > MAX_REQUEST_BYTES:
            self._send(_Answer(413, b"Request Entity Too Large\n", content_type="text/plain"))
            self.close_connection = True
            return
        certificate = self.connection.getpeercert(binary_form=True)
        assert certificate is not None  # the server's context requires a client certificate
        request = _Request(
            path=path,
            content_type=self.headers.get("Content-Type", ""),
            soap_action=self.headers.get("SOAPAction", "").strip().strip('"'),
            host_header=self.headers.get("Host", ""),
            body=self.rfile.read(int(length)),
            peer_certificate=x509.load_der_x509_certificate(certificate),
        )
        self._send(self.server.simulator.handle(request))

    def do_GET(self) -> None:
        """`/simulator/received[?aanleverkenmerk=…]`: the counts, as JSON, for tests and people."""
        url = urlsplit(self.path)
        if url.path != RECEIVED_PATH:
            self._send(_Answer(404, b"Not Found\n", content_type="text/plain"))
            return
        store = self.server.simulator.store
        wanted = parse_qs(url.query).get("aanleverkenmerk")
        if wanted:
            data: dict[str, Any] = {
                "aanleverkenmerk": wanted[0],
                "received": store.count("process", wanted[0]),
                "attempts": store.count("attempt", wanted[0]),
            }
        else:
            data = {"received": store.counts("process"), "attempts": store.counts("attempt")}
        self._send(_Answer(200, json.dumps(data, indent=2).encode() + b"\n", content_type="application/json"))

    def _send(self, answer: _Answer) -> None:
        if answer is _DROP:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        if answer.status == 503:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


# ------------------------------------------------------------------------------------ the store


class _Store:
    """Processes and their status histories in SQLite (0600), shared by the server's threads.
    Counts come from here too, so they survive a restart of the simulator."""

    def __init__(self, path: Path):
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS process (
                    kenmerk TEXT PRIMARY KEY, berichtsoort TEXT NOT NULL, aanleverkenmerk TEXT NOT NULL,
                    nummer TEXT NOT NULL, type TEXT NOT NULL, received TEXT NOT NULL, markers TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS process_by_sender ON process (berichtsoort, nummer, type);
                CREATE TABLE IF NOT EXISTS status (
                    kenmerk TEXT NOT NULL REFERENCES process, seq INTEGER NOT NULL, code TEXT NOT NULL,
                    tijdstempel TEXT NOT NULL, visible_from TEXT NOT NULL, foutcode TEXT,
                    foutbeschrijving TEXT, details TEXT, fetched INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (kenmerk, seq));
                CREATE TABLE IF NOT EXISTS attempt (id INTEGER PRIMARY KEY, aanleverkenmerk TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS melding (
                    seq INTEGER PRIMARY KEY, nummer TEXT NOT NULL, reference TEXT NOT NULL,
                    base TEXT NOT NULL, action TEXT NOT NULL, withdrawn INTEGER NOT NULL DEFAULT 0);
                """
            )
            self._rebase()

    def _rebase(self) -> None:
        """Each held melding's base as `reference_base` gives it now: a store kept from an older
        uwvcli, which shortened long keys differently, links their revisions all the same."""
        from uwvcli.messages.build import reference_base

        rows = self._db.execute("SELECT seq, reference, base FROM melding").fetchall()
        changed = [(base, r["seq"]) for r in rows if (base := reference_base(r["reference"])) != r["base"]]
        if changed:
            self._db.executemany("UPDATE melding SET base = ? WHERE seq = ?", changed)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add_attempt(self, aanleverkenmerk: str) -> int:
        """Record one aanleveren request; returns how many this aanleverkenmerk has had."""
        with self._transaction() as db:
            db.execute("INSERT INTO attempt (aanleverkenmerk) VALUES (?)", (aanleverkenmerk,))
            return db.execute(
                "SELECT count(*) FROM attempt WHERE aanleverkenmerk = ?", (aanleverkenmerk,)
            ).fetchone()[0]

    def add_process(
        self,
        kenmerk: str,
        berichtsoort: str,
        aanleverkenmerk: str,
        nummer: str,
        type_: str,
        received: datetime,
        schedule_for: Callable[[str | None], list[tuple[SimulatedStatus, datetime, datetime]]],
        markers: str,
        *,
        melding: Melding | None = None,
    ) -> list[tuple[SimulatedStatus, datetime, datetime]]:
        """Record a process and its statuses; a `melding` is checked against what is held and
        held in the same transaction (a crash never holds a message without its process)."""
        with self._transaction() as db:
            schedule = schedule_for(self._hold(db, melding) if melding is not None else None)
            db.execute(
                "INSERT INTO process VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    kenmerk,
                    berichtsoort,
                    aanleverkenmerk,
                    nummer,
                    type_,
                    _stamp(received),
                    markers,
                ),
            )
            db.executemany(
                "INSERT INTO status (kenmerk, seq, code, tijdstempel, visible_from, foutcode, "
                "foutbeschrijving, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (kenmerk, seq, s.code, soap.xsd_datetime(at), _stamp(visible), s.foutcode,
                     s.foutbeschrijving, s.details)
                    for seq, (s, at, visible) in enumerate(schedule)
                ],
            )  # fmt: skip
        return schedule

    @staticmethod
    def _hold(db: sqlite3.Connection, melding: Melding) -> str | None:
        """Check a valid message against what is held, and hold it; the refusal, or None."""
        from uwvcli.messages.build import reference_base

        nummer, reference = melding.nummer, melding.reference
        if melding.withdrawal:
            held = db.execute(
                "SELECT seq FROM melding WHERE nummer = ? AND reference = ? AND action = 'send' "
                "AND withdrawn = 0",
                (nummer, reference),
            ).fetchone()
            if held is None:
                return (
                    "IndVerzoekTotIntrekken/MeldingIntrekking: de ReferentieMelding is niet eerder "
                    "ontvangen van dit loonheffingennummer, of al ingetrokken."
                )
            db.execute("UPDATE melding SET withdrawn = 1 WHERE seq = ?", (held["seq"],))
        else:
            held = db.execute(
                "SELECT 1 FROM melding WHERE nummer = ? AND base = ? AND action = 'send' AND withdrawn = 0",
                (nummer, reference_base(reference)),
            ).fetchone()
            if held:
                return (
                    "ReferentieMelding: een eerdere versie van deze melding is ontvangen en niet "
                    "ingetrokken; trek die eerst in."
                )
        db.execute(
            "INSERT INTO melding (nummer, reference, base, action) VALUES (?, ?, ?, ?)",
            (nummer, reference, reference_base(reference), "withdraw" if melding.withdrawal else "send"),
        )
        return None

    def meldingen(self) -> list[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT action, reference FROM melding ORDER BY seq").fetchall()
        return [(row[0], row[1]) for row in rows]

    def process(self, kenmerk: str) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute("SELECT * FROM process WHERE kenmerk = ?", (kenmerk,)).fetchone()

    def processes(self, berichtsoort: str, nummer: str, type_: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kenmerk FROM process WHERE berichtsoort = ? AND nummer = ? AND type = ? "
                "ORDER BY received",
                (berichtsoort, nummer, type_),
            ).fetchall()
        return [row["kenmerk"] for row in rows]

    def statuses(self, kenmerk: str, now: datetime, *, only_new: bool) -> list[sqlite3.Row]:
        """The statuses visible at `now`; `only_new` returns each one once (getNieuweStatussenProces)."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM status WHERE kenmerk = ? AND visible_from <= ?"
                + (" AND fetched = 0" if only_new else "")
                + " ORDER BY seq",
                (kenmerk, _stamp(now)),
            ).fetchall()
            if only_new:
                db.executemany("UPDATE status SET fetched = 1 WHERE kenmerk = ? AND seq = ?",
                               [(kenmerk, row["seq"]) for row in rows])  # fmt: skip
        return rows

    def count(self, table: str, aanleverkenmerk: str) -> int:
        with self._lock:
            return self._db.execute(
                f"SELECT count(*) FROM {_table(table)} WHERE aanleverkenmerk = ?", (aanleverkenmerk,)
            ).fetchone()[0]

    def counts(self, table: str) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT aanleverkenmerk, count(*) FROM {_table(table)} GROUP BY aanleverkenmerk ORDER BY 1"
            ).fetchall()
        return {row[0]: row[1] for row in rows}


@dataclass(frozen=True, slots=True)
class Melding:
    """A valid message as UWV's receiving side sees it: who, which ReferentieMelding, withdrawal?"""

    nummer: str
    reference: str
    withdrawal: bool


def _table(name: str) -> str:
    if name not in ("process", "attempt"):
        raise ValueError(name)
    return name


# ------------------------------------------------------------------------------------- helpers


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)


def _certificate(item: x509.Certificate | Path) -> x509.Certificate:
    return (
        item
        if isinstance(item, x509.Certificate)
        else x509.load_pem_x509_certificate(Path(item).read_bytes())
    )


def _own_schema() -> etree.XMLSchema:
    source = resources.files("uwvcli.data").joinpath("digipoort-koppelvlak-uwvcli.xsd").read_bytes()
    return etree.XMLSchema(soap.parse_xml(source))


def _default_berichtsoorten() -> frozenset[str]:
    """The placeholders uwvcli sends when none are configured."""
    return frozenset(DEFAULT_BERICHTSOORTEN.values())


def _check_message(content: bytes) -> list[str]:
    from uwvcli.messages.build import check_message

    return check_message(content)


def _without_values(message: str) -> str:
    """A schema error without the offending value: it could be message content."""
    return re.sub(r"[Tt]he value '[^']*'", "the value", message)


def _stamp(moment: datetime) -> str:
    """A fixed-width UTC time, so the store can compare them as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
