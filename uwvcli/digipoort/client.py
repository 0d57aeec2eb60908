"""The Digipoort WUS client: aanleveren, and the status calls uwvcli follows a process with.

Each call builds and signs a fresh envelope (new MessageID, fresh Timestamp), POSTs it over
mutual TLS, and believes nothing in the answer until its signature verifies against the
configured Digipoort service certificate. What went wrong is said with the exception type, because
the caller's next step depends on it (DIGIPOORT.md "Never twice, never lost"):

- `DigipoortFault`: Digipoort refused the request (a SOAP Fault): definite, nothing was started.
- `NotDelivered`: the request provably never reached Digipoort (no connection, TLS handshake
  refused, HTTP 503 before processing), or Digipoort refused it with a fault the codes table
  calls transient (`TransientFault`, e.g. ALS400 "send again later"): safe to send again.
- `InDoubt`: the request may have arrived (timeout after sending, connection dropped while
  waiting for the answer, a redirect or another unexpected HTTP status, an answer that broke the
  size cap or the total deadline): never resend blindly, reconcile with `get_processen`.
- `ResponseNotTrusted`: an answer came but fails verification. For `aanleveren` the request did
  reach Digipoort, so the caller settles it like `InDoubt`.

Every answer is bounded: at most `MAX_ANSWER_BYTES` after decompression, and the whole request
(connecting, sending, waiting, reading) within `deadline` seconds, whatever the peer drips.

The client keeps one `requests.Session` per thread on one shared `ssl.SSLContext`, so a small
thread pool can submit in parallel and every thread reuses its connections.
"""

from __future__ import annotations

import base64
import ssl
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import requests
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.util.retry import Retry

from uwvcli.common.network import Deadline
from uwvcli.common.privacy import fault_text
from uwvcli.digipoort import codes, soap
from uwvcli.digipoort.soap import AanleverResult, Operation, Process, SoapFormatError
from uwvcli.digipoort.wss import SIGNATURE_ALGORITHMS, WsSecurityError, sign_envelope, verify_envelope
from uwvcli.domain.models import StatusRecord
from uwvcli.errors import DigipoortError, SigningError


class Credentials(Protocol):
    """What the transport needs of the sender's credentials (`messages.signing.Credentials`): the
    key and certificate for WS-Security, loaded into the TLS context for mutual TLS."""

    @property
    def private_key(self) -> rsa.RSAPrivateKey: ...

    @property
    def certificate(self) -> x509.Certificate: ...

    def load_into(self, context: ssl.SSLContext) -> None: ...


__all__ = [
    "AanleverResult",
    "DigipoortClient",
    "DigipoortFault",
    "InDoubt",
    "NotDelivered",
    "Process",
    "ResponseNotTrusted",
    "TransientFault",
]

CONNECT_TIMEOUT = 10.0  # seconds at most; a connection not made in time is NotDelivered
POOL_SIZE = 8  # connections kept per thread and host
MAX_ANSWER_BYTES = 16 * 1024 * 1024  # decompressed; a long status history is a few hundred KiB
_CHUNK = 64 * 1024

# TLS alerts by which the server refuses the handshake: the request was never processed.
_HANDSHAKE_REFUSALS = (
    "ALERT_CERTIFICATE_REQUIRED",
    "ALERT_BAD_CERTIFICATE",
    "ALERT_UNKNOWN_CA",
    "ALERT_CERTIFICATE_UNKNOWN",
    "ALERT_CERTIFICATE_REVOKED",
    "ALERT_CERTIFICATE_EXPIRED",
    "ALERT_UNSUPPORTED_CERTIFICATE",
    "ALERT_HANDSHAKE_FAILURE",
    "ALERT_PROTOCOL_VERSION",
    "ALERT_ACCESS_DENIED",
    "ALERT_DECRYPT_ERROR",
)


class DigipoortFault(DigipoortError):
    """Digipoort refused the request with a SOAP Fault (e.g. ALS100, STS100). `foutbeschrijving`
    is Digipoort's own explanation, redacted and capped (`privacy.fault_text`)."""

    def __init__(self, foutcode: str, foutbeschrijving: str, *, operation: str = "aanleveren"):
        self.foutcode = fault_text(foutcode) or ""
        self.foutbeschrijving = fault_text(foutbeschrijving) or ""
        self.operation = operation
        super().__init__(f"Digipoort refused {operation} with {self.foutcode}: {self.foutbeschrijving}")


class NotDelivered(DigipoortError):
    """The request never reached Digipoort: sending it again cannot create a second process."""


class TransientFault(NotDelivered):
    """Digipoort refused the request with a fault the codes table marks as transient (`retry:
    "yes"`, e.g. ALS400): nothing was processed, so it is sent again later, never `rejected`."""

    def __init__(self, foutcode: str, foutbeschrijving: str, *, operation: str = "aanleveren"):
        self.foutcode = foutcode
        self.foutbeschrijving = foutbeschrijving
        super().__init__(
            f"Digipoort answered {operation} with {foutcode} (send again later): {foutbeschrijving}"
        )


class InDoubt(DigipoortError):
    """The request may have reached Digipoort: reconcile with getProcessen, never resend blindly."""


class ResponseNotTrusted(DigipoortError):
    """An answer came, but its signature, signing certificate or structure fails verification."""


class DigipoortClient:
    """The WUS client for one sender and one Digipoort environment (see the module docstring)."""

    def __init__(
        self,
        aanlever_url: str,
        status_url: str,
        credentials: Credentials,
        *,
        ca_bundle: Path | None,
        service_certificate: x509.Certificate | Path,
        signature_algorithm: str = "rsa-sha1",
        timeout: float = 30.0,
        deadline: float | None = None,
    ):
        for name, url in (("aanlever_url", aanlever_url), ("status_url", status_url)):
            if not url.lower().startswith("https://"):
                raise DigipoortError(f"digipoort.{name} must be an https:// address (got {url!r})")
        if signature_algorithm not in SIGNATURE_ALGORITHMS:
            raise DigipoortError(
                f"digipoort.signature_algorithm {signature_algorithm!r} is not supported: "
                f"use {' or '.join(SIGNATURE_ALGORITHMS)}"
            )
        self.aanlever_url = aanlever_url
        self.status_url = status_url
        self.signature_algorithm = signature_algorithm
        self.timeout = timeout
        self.deadline = deadline if deadline is not None else 2 * timeout + CONNECT_TIMEOUT
        self._credentials = credentials
        self._service_certificates = _load_certificates(service_certificate)
        self._context = _tls_context(ca_bundle, credentials)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    # ------------------------------------------------------------------------- operations

    def aanleveren(
        self,
        *,
        berichtsoort: str,
        aanleverkenmerk: str,
        loonheffingennummer: str,
        rol: str,
        bestandsnaam: str,
        inhoud: bytes,
    ) -> AanleverResult:
        """Submit one message. Returns Digipoort's `kenmerk` of the new process: store it first."""
        payload = soap.aanlever_request(
            berichtsoort=berichtsoort,
            aanleverkenmerk=aanleverkenmerk,
            loonheffingennummer=loonheffingennummer,
            rol=rol,
            bestandsnaam=bestandsnaam,
            inhoud_base64=base64.b64encode(inhoud).decode("ascii"),
        )
        answer = self._call(soap.AANLEVEREN, self.aanlever_url, payload)
        return _reading(lambda: soap.read_aanlever_response(answer))

    def get_statussen_proces(self, kenmerk: str) -> list[StatusRecord]:
        """The whole status history of a process, sorted by timestamp."""
        return self._statussen(soap.GET_STATUSSEN_PROCES, kenmerk)

    def get_nieuwe_statussen_proces(self, kenmerk: str) -> list[StatusRecord]:
        """The statuses not returned by an earlier call of this operation, sorted by timestamp."""
        return self._statussen(soap.GET_NIEUWE_STATUSSEN_PROCES, kenmerk)

    def get_processen(self, berichtsoort: str, loonheffingennummer: str) -> list[Process]:
        """Every process Digipoort started for this berichtsoort and loonheffingennummer. The answer
        carries no timestamps: ask `get_statussen_proces` to date one."""
        payload = soap.processen_request(berichtsoort, loonheffingennummer)
        answer = self._call(soap.GET_PROCESSEN, self.status_url, payload)
        return _reading(lambda: soap.read_processen(answer))

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> DigipoortClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------- internals

    def _statussen(self, operation: Operation, kenmerk: str) -> list[StatusRecord]:
        answer = self._call(operation, self.status_url, soap.statussen_request(operation, kenmerk))
        statuses = _reading(lambda: soap.read_statussen(answer, operation))
        return [
            replace(
                s,
                description=fault_text(s.description) or "",
                foutbeschrijving=fault_text(s.foutbeschrijving),
            )
            for s in statuses
        ]

    def _call(self, operation: Operation, url: str, payload: Any) -> Any:
        """Sign, POST and verify; returns the verified payload element of the response Body."""
        envelope, message_id = soap.envelope(payload, action=operation.action, to=url)
        try:
            sign_envelope(
                envelope,
                private_key=self._credentials.private_key,
                certificate=self._credentials.certificate,
                algorithm=self.signature_algorithm,
            )
        except WsSecurityError as error:  # a key the profile cannot use
            raise SigningError(f"the sender key cannot sign the WS-Security header: {error}") from None
        response = self._post(operation, url, soap.serialize(envelope))
        return self._read_response(operation, response, message_id)

    def _post(self, operation: Operation, url: str, body: bytes) -> tuple[int, bytes]:
        """POST within the total deadline; (HTTP status, the answer's body, decompressed)."""
        headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": f'"{operation.action}"'}
        slot = _current.slot = _Slot()
        with Deadline(self.deadline, slot.socket) as deadline:
            try:
                response = self._session().post(
                    url,
                    data=body,
                    headers=headers,
                    timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout),
                    allow_redirects=False,  # Digipoort never redirects: a redirect is not followed
                    stream=True,
                )
                with response:
                    content = _bounded_content(operation, response)
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                if deadline.expired:
                    raise self._too_slow(operation) from None
                raise _transport_error(operation, url, error) from None
        if deadline.expired:
            raise self._too_slow(operation)
        status = response.status_code
        if status == 503:
            raise NotDelivered(
                f"{operation.name}: Digipoort answered HTTP 503 (service unavailable) "
                "before processing the request"
            )
        if status not in (200, 500):
            # The request was sent: whatever answered may have processed it before redirecting or
            # refusing. Never a blind resend; the process list settles it.
            where = "a redirect" if 300 <= status < 400 else f"HTTP {status}"
            raise InDoubt(
                f"{operation.name}: {url} answered {where} after the request was sent (Digipoort never "
                "does): check digipoort.aanlever_url and status_url"
            )
        return status, content

    def _too_slow(self, operation: Operation) -> InDoubt:
        return InDoubt(f"{operation.name}: no complete answer within the deadline of {self.deadline:g} s")

    def _read_response(self, operation: Operation, response: tuple[int, bytes], message_id: str) -> Any:
        status, content = response
        try:
            root = soap.parse_xml(content)
        except SoapFormatError as error:
            raise self._unreadable(operation, status, str(error)) from None
        if root.tag == f"{{{soap.SOAP12}}}Envelope":
            raise self._unreadable(
                operation,
                status,
                "a SOAP 1.2 envelope, where Digipoort's WUS services speak SOAP 1.1: "
                "check digipoort.aanlever_url and status_url",
            )
        fault = soap.find_fault(soap.canonical(root))  # faults are unsigned: read without comments too
        if fault is not None:
            if not fault.foutcode:
                raise self._unreadable(
                    operation, status, f"a SOAP Fault without foutcode ({fault.faultstring})"
                )
            text = fault.foutbeschrijving or fault.faultstring
            if codes.transient(fault.foutcode):
                raise TransientFault(fault.foutcode, text, operation=operation.name)
            raise DigipoortFault(fault.foutcode, text, operation=operation.name)
        if status != 200:
            raise self._unreadable(operation, status, f"HTTP {status} without a SOAP Fault")
        try:
            verified = verify_envelope(root, require_must_understand=False)
        except WsSecurityError as error:
            raise ResponseNotTrusted(
                f"{operation.name}: Digipoort's answer fails verification: {error}"
            ) from None
        signer = verified.certificate.public_bytes(serialization.Encoding.DER)
        if signer not in self._service_certificates:
            raise ResponseNotTrusted(
                f"{operation.name}: Digipoort's answer fails verification: it is signed with a certificate "
                "other than the expected one (digipoort.service_certificate; SHA-256 fingerprint "
                f"{verified.certificate.fingerprint(hashes.SHA256()).hex()})"
            )
        headers = soap.addressing(verified.header)
        if headers.get("Action") != operation.response_action:
            raise ResponseNotTrusted(
                f"{operation.name}: the answer's wsa:Action is {headers.get('Action')!r}, "
                f"expected {operation.response_action!r}"
            )
        if headers.get("RelatesTo", message_id) != message_id:
            raise ResponseNotTrusted(
                f"{operation.name}: the answer relates to another request (wsa:RelatesTo)"
            )
        return _reading(lambda: soap.body_payload(verified.body))

    @staticmethod
    def _unreadable(operation: Operation, status: int, what: str) -> DigipoortError:
        """An answer that is no answer: for aanleveren the request did reach the server."""
        message = f"{operation.name}: the answer (HTTP {status}) cannot be used: {what}"
        return InDoubt(message) if status >= 500 else ResponseNotTrusted(message)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxy or CA bundle from the environment: ours only
            adapter = _ContextAdapter(self._context, pool_maxsize=POOL_SIZE, max_retries=Retry(0, read=False))
            session.mount("https://", adapter)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session


_current = threading.local()  # per calling thread: the `_Slot` of the request it is making


class _Slot:
    """Where the pool puts the connection a request runs on, for the request's `Deadline` (which
    watches from a thread of its own)."""

    connection: Any = None

    def socket(self) -> Any:
        return getattr(self.connection, "sock", None)


class _WatchedPool(HTTPSConnectionPool):
    """Tells the request's `Deadline` which connection (and so which socket) it runs on."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        slot = getattr(_current, "slot", None)
        if slot is not None:
            slot.connection = connection
        return connection


def _bounded_content(operation: Operation, response: requests.Response) -> bytes:
    """The body, decompressed, refused beyond `MAX_ANSWER_BYTES` (a gzip bomb, an endless body):
    reading stops there, so memory stays bounded whatever the peer sends."""
    limit = f"the answer exceeds {MAX_ANSWER_BYTES // (1024 * 1024)} MiB"
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise InDoubt(f"{operation.name}: {limit} (Content-Length {declared})")
    content = bytearray()
    for chunk in response.iter_content(_CHUNK):
        content += chunk
        if len(content) > MAX_ANSWER_BYTES:
            raise InDoubt(f"{operation.name}: {limit} once decompressed")
    return bytes(content)


class _ContextAdapter(HTTPAdapter):
    """Uses our SSL context (CA bundle, client certificate, TLS >= 1.2) and nothing else: requests'
    own `cert_verify` would add the public CA bundle to it."""

    def __init__(self, context: ssl.SSLContext, **kwargs: Any):
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme,
            "https": _WatchedPool,
        }

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs = "CERT_REQUIRED"


def check_trust(ca_bundle: Path | None, service_certificate: Path | None) -> None:
    """Raise DigipoortError when the CA bundle or the service certificate cannot be used, as the
    client would on its first request (for `uwvcli check`)."""
    _ca_context(ca_bundle)
    if service_certificate is not None:
        _load_certificates(service_certificate)


def _tls_context(ca_bundle: Path | None, credentials: Credentials) -> ssl.SSLContext:
    """Verification always on: hostname and chain, against the configured CA bundle (the
    system's trust store only when none is configured)."""
    context = _ca_context(ca_bundle)
    credentials.load_into(context)
    return context


def _ca_context(ca_bundle: Path | None) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(ca_bundle) if ca_bundle else None
        )
    except (OSError, ssl.SSLError) as error:
        raise DigipoortError(
            f"digipoort.ca_bundle {ca_bundle}: cannot be read as PEM CA certificates ({error})"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _load_certificates(source: x509.Certificate | Path) -> frozenset[bytes]:
    """The DER of every certificate trusted to sign Digipoort's answers. The file may hold more
    than one: in the captured real answers Digipoort signs with its PKIoverheid server certificate,
    which Logius renews every few years; with the announced successor added next to the current
    one, answers stay trusted on the day of the switch, and the old one is removed afterwards."""
    if isinstance(source, x509.Certificate):
        return frozenset({source.public_bytes(serialization.Encoding.DER)})
    try:
        certificates = x509.load_pem_x509_certificates(Path(source).read_bytes())
        return frozenset(c.public_bytes(serialization.Encoding.DER) for c in certificates)
    except (OSError, ValueError) as error:
        raise DigipoortError(
            f"digipoort.service_certificate {source}: cannot be read as a PEM certificate ({error}); "
            "it is needed to check that answers really come from Digipoort"
        ) from None


def _reading(read: Any) -> Any:
    """Run a response reader; a structure that does not match the koppelvlak is not data."""
    try:
        return read()
    except SoapFormatError as error:
        raise ResponseNotTrusted(f"Digipoort's answer does not match the koppelvlak: {error}") from None


def _transport_error(operation: Operation, url: str, error: BaseException) -> DigipoortError:
    """Sort a transport failure into "never arrived" and "may have arrived"."""
    where = f"{operation.name} to {url}"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return NotDelivered(f"{where}: no connection could be made in time")
    if isinstance(error, requests.exceptions.ReadTimeout):
        return InDoubt(f"{where}: no answer within the timeout after the request was sent")
    ssl_error = next((e for e in _causes(error) if isinstance(e, ssl.SSLError)), None)
    if isinstance(ssl_error, ssl.SSLCertVerificationError):
        return NotDelivered(
            f"{where}: the server's TLS certificate is not trusted ({ssl_error.verify_message}); "
            "check digipoort.ca_bundle"
        )
    if ssl_error is not None and any(alert in (ssl_error.reason or "") for alert in _HANDSHAKE_REFUSALS):
        return NotDelivered(
            f"{where}: the TLS handshake was refused ({ssl_error.reason}); check the sender certificate"
        )
    if _never_connected(error):
        return NotDelivered(f"{where}: cannot connect ({_short(error)})")
    return InDoubt(f"{where}: the connection broke after the request was sent ({_short(error)})")


def _never_connected(error: BaseException) -> bool:
    """Connection refused, DNS failure or similar: urllib3 reports those as NewConnectionError."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    return any(isinstance(e, NewConnectionError | NameResolutionError) for e in _causes(error))


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps (requests and urllib3 nest their exceptions)."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        stack.extend(e for e in nested if isinstance(e, BaseException))


def _short(error: BaseException) -> str:
    innermost = list(_causes(error))[-1]
    return f"{type(innermost).__name__}: {innermost}"[:200]
